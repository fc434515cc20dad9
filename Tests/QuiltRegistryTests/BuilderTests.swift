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
    /// Builds `spec` into a registry inside `dir` and reads the revision back.
    func built(_ spec: RevisionSpec, from: String? = nil, in dir: TemporaryDirectory) throws -> (Manifest, String) {
        let context = try testContext(dir)
        let result = try context.build(spec, from: from, registry: dir.path + "/registry")
        return (try loadManifest(try context.registry(dir.path + "/registry"), result.topHash), result.topHash)
    }

    @Test func setDirWalksFilesFollowsFileLinksAndSkipsDirectoryLinks() throws {
        let dir = TemporaryDirectory()
        dir.file("data/a.txt", "a")
        dir.file("data/.hidden", "h")
        dir.file("data/sub/deep/x", "x")
        dir.file("outside/target.txt", "t")
        dir.file("outside/d/inner", "i")
        symlink(dir.path + "/outside/target.txt", dir.path + "/data/link.txt")
        symlink(dir.path + "/outside/d", dir.path + "/data/dirlink")
        let (manifest, _) = try built(RevisionSpec(name: "t/dir", directory: dir.path + "/data"), in: dir)
        #expect(manifest.entries.map(\.logicalKey) == [".hidden", "a.txt", "link.txt", "sub/deep/x"])
        let link = manifest.entry("link.txt")!
        #expect(link.physicalKey.hasSuffix("/outside/target.txt"))
        #expect(manifest.userMeta == .null)
        #expect(manifest.entry("a.txt")?.hash?.value == "v106/7c+/S7Gw2rTES3ZM+/tY8Thy//PqI4nWcFE8tg=")
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

    @Test func setRemoveAndSubdirectoryMetaOnTopOfARevision() throws {
        let dir = TemporaryDirectory()
        let file = dir.file("f.txt", "f")
        dir.file("d/x", "x")
        dir.file("base/keep", "k")
        dir.file("base/one/old", "o")
        dir.file("base/sub/y", "y")
        let (_, base) = try built(RevisionSpec(name: "t/set", directory: dir.path + "/base"), in: dir)
        var spec = RevisionSpec(name: "t/set", sets: [("one/f.txt", file), ("sub", dir.path + "/d")], removals: ["one/"])
        spec.meta = .object(JSONObject([("k", .string("v"))]))
        let (manifest, _) = try built(spec, from: "t/set@" + base, in: dir)
        // `one/old` removed, `one/f.txt` added after; `sub/` replaced by the directory set there (its `y` stays:
        // set_dir adds, it does not take away); the package metadata set.
        #expect(manifest.entries.map(\.logicalKey) == ["keep", "one/f.txt", "sub/x", "sub/y"])
        #expect(manifest.userMeta == .object(JSONObject([("k", .string("v"))])))
        // (set_dir set `sub/`'s metadata to none: a directory line without metadata is not written.)
        #expect(manifest.directoryMeta.isEmpty)

        // A later --set of the same key wins; removing what the revision lacks, or a key that leaves the package,
        // or a file that is not there, is refused.
        let twice = RevisionSpec(name: "t/set", sets: [("same", file), ("same", dir.path + "/d/x")])
        let (again, _) = try built(twice, in: dir)
        #expect(again.entries.count == 1 && again.entry("same")?.size == 1 && again.entry("same")!.physicalKey.hasSuffix("/d/x"))
        #expect {
            try built(RevisionSpec(name: "t/set", removals: ["missing"]), from: "t/set@" + base, in: dir)
        } throws: { error in
            guard case BuildError.noSuchEntry("missing") = error else { return false }
            return true
        }
        #expect(throws: ManifestError.self) { try built(RevisionSpec(name: "t/set", sets: [("../x", file)]), in: dir) }
        #expect(throws: FileSystemError.self) { try built(RevisionSpec(name: "t/set", sets: [("x", dir.path + "/nope")]), in: dir) }
    }
}

extension BuilderTests {
    /// Where the base and the additions meet: a file set where the base has a directory (or the other way round)
    /// is refused, unless a removal takes the base's side first.
    @Test func collisionsBetweenTheBaseAndTheAdditions() throws {
        let dir = TemporaryDirectory()
        let file = dir.file("f.txt", "f")
        dir.file("base/x/y", "y")
        dir.file("base/f", "f")
        dir.file("base/z", "z")
        let (_, base) = try built(RevisionSpec(name: "t/c", directory: dir.path + "/base"), in: dir)
        func collision(_ sets: [(key: String, path: String)], removals: [String] = []) -> Bool {
            do {
                _ = try built(RevisionSpec(name: "t/c", sets: sets, removals: removals), from: "t/c@" + base, in: dir)
                return false
            } catch ManifestError.logicalKeyCollision {
                return true
            } catch {
                return false
            }
        }
        #expect(collision([("x", file)]))
        #expect(collision([("f/g", file)]))
        #expect(!collision([("x", file)], removals: ["x/"]))
        #expect(!collision([("f/g", file)], removals: ["f"]))
        let (manifest, _) = try built(RevisionSpec(name: "t/c", sets: [("x", file)], removals: ["x"]), from: "t/c@" + base, in: dir)
        #expect(manifest.entries.map(\.logicalKey) == ["f", "x", "z"])
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
