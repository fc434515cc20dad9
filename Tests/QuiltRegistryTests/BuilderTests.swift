// Building packages from directories: quilt3's set_dir walk, .quiltignore, symbolic links, set/remove.
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltFormat
@testable import QuiltStorage
@testable import QuiltAWS
@testable import QuiltRegistry
#if canImport(Glibc)
import Glibc
#endif

@Suite struct BuilderTests {
    @Test func setDirWalksFilesFollowsFileLinksAndSkipsDirectoryLinks() throws {
        let dir = TemporaryDirectory()
        dir.file("data/a.txt", "a")
        dir.file("data/.hidden", "h")
        dir.file("data/sub/deep/x", "x")
        dir.file("outside/target.txt", "t")
        dir.file("outside/d/inner", "i")
        symlink(dir.path + "/outside/target.txt", dir.path + "/data/link.txt")
        symlink(dir.path + "/outside/d", dir.path + "/data/dirlink")
        var builder = PackageBuilder()
        try builder.setDirectory(".", path: dir.path + "/data", meta: nil)
        #expect(builder.manifest.entries.map(\.logicalKey).sorted() == [".hidden", "a.txt", "link.txt", "sub/deep/x"])
        let link = builder.manifest.entry("link.txt")!
        #expect(link.physicalKey.hasSuffix("/outside/target.txt"))
        #expect(builder.manifest.userMeta == .null)
        try builder.hashMissing()
        #expect(builder.manifest.entry("a.txt")?.hash?.value == "v106/7c+/S7Gw2rTES3ZM+/tY8Thy//PqI4nWcFE8tg=")
    }

    @Test func quiltignoreRulesMatchLikeQuilt3() throws {
        let dir = TemporaryDirectory()
        dir.file("data/.quiltignore", "*.log\nbuild/\nsecret.txt\n")
        dir.file("data/keep.csv", "k")
        dir.file("data/run.log", "l")
        dir.file("data/deep/run.log", "l")
        dir.file("data/build/out.bin", "o")
        dir.file("data/secret.txt", "s")
        dir.file("data/deep/secret.txt", "s")
        let files = try DirectoryScanner.scan(dir.path + "/data").map(\.relativePath)
        #expect(files == [".quiltignore", "keep.csv"])
    }

    @Test func globPatterns() {
        #expect(GlobPattern("*/a*.txt").matches("/x/y/abc.txt"))
        #expect(!GlobPattern("*.txt").matches("a.txt.bak"))
        #expect(GlobPattern("[!a]?").matches("bc"))
        #expect(!GlobPattern("[!a]?").matches("ac"))
        #expect(GlobPattern("[a-c]").matches("b"))
        #expect(GlobPattern("[").matches("["))
        #expect(GlobPattern("*").matches(""))
        #expect(GlobPattern("a*b*c").matches("aXXbYYc"))
    }

    @Test func setAndRemoveAndSubdirectoryMeta() throws {
        let dir = TemporaryDirectory()
        let file = dir.file("f.txt", "f")
        dir.file("d/x", "x")
        var builder = PackageBuilder()
        try builder.setFile("one/f.txt", path: file, userMeta: .int(1))
        try builder.setDirectory("sub", path: dir.path + "/d", meta: .object(JSONObject([("k", .string("v"))])))
        #expect(builder.manifest.entry("one/f.txt")?.userMeta == .int(1))
        #expect(builder.manifest.directoryMeta.first?.key == "sub/")
        try builder.remove("one")
        #expect(builder.manifest.entry("one/f.txt") == nil)
        #expect(throws: BuildError.self) { try builder.remove("missing") }
        #expect(throws: ManifestError.self) { try builder.setFile("../x", path: file) }
        #expect(throws: (any Error).self) { try builder.setFile("x", path: dir.path + "/nope") }
    }
}

@Suite struct InstallerTests {
    @Test func refusesKeysThatLeaveTheDestination() throws {
        for bad in ["../x", "/etc/passwd", "a/../../x", "a//b", "a\0b", ""] {
            #expect(throws: InstallError.self, "\(bad)") { try Installer.checkSafe(bad) }
        }
    }

    @Test func refusesSymbolicLinksOnTheWayAndLeavesNoPartialFile() throws {
        let dir = TemporaryDirectory()
        let source = dir.file("src/a", "hello\n")
        let outside = dir.path + "/outside"
        try FileSystem.makeDirectories(outside)
        try FileSystem.makeDirectories(dir.path + "/dest")
        symlink(outside, dir.path + "/dest/sub")
        let (hash, size) = try FileHasher.hash(path: source)
        let entry = ManifestEntry(logicalKey: "sub/a", physicalKey: PhysicalKey.local(path: source).url, size: size, hash: hash)
        #expect(throws: InstallError.self) { try Installer().materialize(entry, root: dir.path + "/dest", relativePath: "sub/a") }
        #expect(try FileSystem.contentsOfDirectory(outside).isEmpty)

        var wrong = entry
        wrong.hash = ObjectHash(.sha2256Chunked, value: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
        #expect(throws: InstallError.self) { try Installer().materialize(wrong, root: dir.path + "/dest2", relativePath: "a") }
        #expect(try FileSystem.contentsOfDirectory(dir.path + "/dest2").isEmpty)

        try Installer().materialize(entry, root: dir.path + "/dest3", relativePath: "x/a")
        #expect(try FileSystem.readFile(dir.path + "/dest3/x/a") == Array("hello\n".utf8))
    }
}

@Suite struct ConfigTests {
    @Test func readsAndWritesQuilt3ConfigYaml() throws {
        let dir = TemporaryDirectory()
        let env = ["HOME": dir.path, "XDG_DATA_HOME": dir.path + "/data"]
        var config = try QuiltConfig(environment: env)
        #expect(config.defaultLocalRegistry == "file://" + dir.path + "/data/Quilt/packages")
        try config.set("default_remote_registry", .string("s3://my-bucket"))
        let text = String(decoding: try FileSystem.readFile(dir.path + "/data/Quilt/config.yml"), as: UTF8.self)
        #expect(text.contains("default_remote_registry: s3://my-bucket\n"))
        #expect(text.hasPrefix("apiGatewayEndpoint: null\n"))
        #expect(try QuiltConfig(environment: env).defaultRemoteRegistry == "s3://my-bucket")
        #expect(throws: ConfigError.self) { try config.set("bogus", .null) }
    }

    @Test func parsesQuotedScalarsAndComments() throws {
        let parsed = try QuiltConfig.parse("# c\nnavigator_url: 'https://x.y'\nregion: \"us-east-1\"\ntelemetry_disabled: true\ndefault_registry_version: 1\n", path: "c")
        #expect(parsed.map(\.0) == ["navigator_url", "region", "telemetry_disabled", "default_registry_version"])
        #expect(parsed[0].1 == .string("https://x.y"))
        #expect(parsed[2].1 == .bool(true))
    }
}
