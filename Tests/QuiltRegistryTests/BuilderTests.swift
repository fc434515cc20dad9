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

    /// A remote source that hands out small objects whole, as S3 does, from a table of keys.
    private struct BytesSource: BlobSource {
        let objects: [String: [UInt8]]
        func fetch(_ key: PhysicalKey, size: Int, into writer: AtomicFileWriter) throws -> ObjectHash? {
            Issue.record("a small object was fetched into a file")
            return nil
        }
        func fetchBytes(_ key: PhysicalKey, size: Int) throws -> [UInt8]? {
            guard let bytes = objects[key.url] else { throw TransferError.sizeChanged(location: key.url, expected: size, actual: 0) }
            guard bytes.count == size else { throw TransferError.sizeChanged(location: key.url, expected: size, actual: bytes.count) }
            return bytes
        }
    }

    @Test func aSmallObjectReadWholeIsCheckedBeforeAnyByteIsWrittenAndKeptInTheCache() throws {
        let dir = TemporaryDirectory()
        let good = Array("small object\n".utf8)
        let hash = chunkedHash(good)
        let key = "s3://bucket/good?versionId=v1"
        let source = BytesSource(objects: [key: good, "s3://bucket/bad": Array("other bytes!\n".utf8)])
        let cache = ObjectCache(root: dir.path + "/cache")
        let installer = Installer(remote: source, cache: cache)

        let placed = try installer.materialize(ManifestEntry(logicalKey: "d/good", physicalKey: key, size: good.count, hash: hash),
                                               root: dir.path + "/dest", relativePath: "d/good")
        #expect(try FileSystem.readFile(dir.path + "/dest/d/good") == good)
        let inPlace = try InputFile(path: dir.path + "/dest/d/good")
        #expect(placed?.size == good.count && placed?.inode == inPlace.identity.inode)
        let entry = try #require(cache.open(hash, size: good.count))
        #expect(try entry.readAll() == good)

        // Bytes that do not hash to the entry's hash (of the same size) reach neither the folder nor the cache.
        let bad = ManifestEntry(logicalKey: "d/bad", physicalKey: "s3://bucket/bad", size: good.count,
                                hash: chunkedHash(Array("not the bytes\n".utf8)))
        #expect(throws: InstallError.self) { try installer.materialize(bad, root: dir.path + "/dest", relativePath: "d/bad") }
        #expect(try FileSystem.contentsOfDirectory(dir.path + "/dest/d") == ["good"])
        #expect(cache.open(bad.hash!, size: good.count) == nil)

        // An object of another size than the manifest's is a size mismatch, not a write.
        let short = ManifestEntry(logicalKey: "d/short", physicalKey: key, size: good.count + 1, hash: hash)
        do {
            try installer.materialize(short, root: dir.path + "/dest", relativePath: "d/short")
            Issue.record("an object of the wrong size was installed")
        } catch InstallError.sizeMismatch(let logicalKey, let expected, let actual) {
            #expect(logicalKey == "d/short" && expected == good.count + 1 && actual == good.count)
        }
        #expect(try FileSystem.contentsOfDirectory(dir.path + "/dest/d") == ["good"])
    }

    private func chunkedHash(_ bytes: [UInt8]) -> ObjectHash {
        let hasher = StreamingHasher(type: .sha2256Chunked, expectedSize: bytes.count)
        bytes.withUnsafeBytes { hasher.update($0) }
        return hasher.finalize()
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
