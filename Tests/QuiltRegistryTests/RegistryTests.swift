// Registries: pointers, compare-and-swap, delete semantics of quilt3, prefixes, listing.
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltFormat
@testable import QuiltStorage
@testable import QuiltAWS
@testable import QuiltRegistry

@Suite struct RegistryTests {
    let dir = TemporaryDirectory()
    var registry: Registry { Registry(storage: LocalStorage(root: dir.path + "/reg")) }

    func store(_ message: String) throws -> String {
        var manifest = Manifest()
        manifest.setMessage(message)
        return try registry.storeManifest(&manifest)
    }

    @Test func storeWritesManifestAtItsTopHash() throws {
        let hash = try store("m")
        // quilt3 8.0.0: `p = Package(); p._meta["message"] = "m"; p.top_hash`.
        #expect(hash == "23b5a33f13bb46507336f6c1252e9f457115b3d79e635f6438525e04e525be2c")
        let bytes = try FileSystem.readFile(dir.path + "/reg/.quilt/packages/" + hash)
        #expect(String(decoding: bytes, as: UTF8.self) == "{\"version\": \"v0\", \"message\": \"m\"}\n")
        #expect(try loadManifest(registry, hash).message == "m")
    }

    @Test func updateRefWritesTimestampThenLatestWithoutNewline() throws {
        let hash = try store("a")
        let timestamp = try registry.updateRef("ns/pkg", to: hash, timestamp: "1700000000")
        #expect(timestamp == "1700000000")
        let latest = try FileSystem.readFile(dir.path + "/reg/.quilt/named_packages/ns/pkg/latest")
        #expect(latest == Array(hash.utf8))
        #expect(try registry.pointers("ns/pkg").map(\.pointer) == ["1700000000", "latest"])
    }

    @Test func aCorruptPointerIsListedApartAndFailsOnlyTheStrictReader() throws {
        let hash = try store("a")
        try registry.updateRef("ns/pkg", to: hash, timestamp: "1700000000")
        try FileSystem.writeAtomically(Array("garbage\n".utf8), to: dir.path + "/reg/.quilt/named_packages/ns/pkg/1600000000")
        let listing = try registry.listPointers("ns/pkg")
        #expect(listing.pointers.map(\.pointer) == ["1700000000", "latest"])
        #expect(listing.corrupt == [".quilt/named_packages/ns/pkg/1600000000"])
        #expect(throws: RegistryError.self) { try registry.pointers("ns/pkg") }
    }

    @Test func compareAndSwapRefusesAStaleExpectation() throws {
        let first = try store("1"), second = try store("2")
        try registry.updateRef("ns/pkg", to: first, expecting: .absent, timestamp: "1")
        #expect(throws: RegistryError.self) { try registry.updateRef("ns/pkg", to: second, expecting: .absent, timestamp: "2") }
        #expect(throws: RegistryError.self) { try registry.updateRef("ns/pkg", to: second, expecting: .hash(second), timestamp: "2") }
        #expect(try registry.latest("ns/pkg") == first)
        try registry.updateRef("ns/pkg", to: second, expecting: .hash(first), timestamp: "3")
        #expect(try registry.latest("ns/pkg") == second)
        // The refused attempts wrote no pointer.
        #expect(try registry.versions("ns/pkg").map(\.timestamp) == ["3", "1"])
    }

    @Test func deleteOneRevisionRepointsLatestAtTheNewestRemaining() throws {
        let a = try store("a"), b = try store("b"), c = try store("c")
        try registry.updateRef("ns/pkg", to: a, timestamp: "100")
        try registry.updateRef("ns/pkg", to: b, timestamp: "200")
        try registry.updateRef("ns/pkg", to: c, timestamp: "300")
        let deleted = try registry.deletePackage("ns/pkg", topHash: String(c.prefix(10)))
        #expect(Set(deleted) == ["300", "latest"])
        #expect(try registry.latest("ns/pkg") == b)
        #expect(try registry.hasManifest(c), "manifests stay")
    }

    @Test func deleteWholePackageRemovesEmptyDirectories() throws {
        let a = try store("a")
        try registry.updateRef("ns/pkg", to: a, timestamp: "100")
        try registry.deletePackage("ns/pkg")
        #expect(!FileSystem.exists(dir.path + "/reg/.quilt/named_packages/ns"))
        #expect(try registry.listPackages().isEmpty)
        #expect(throws: RegistryError.self) { try registry.deletePackage("ns/pkg") }
    }

    @Test func prefixesAndRevisions() throws {
        let a = try store("a")
        try registry.updateRef("ns/pkg", to: a, timestamp: "100")
        #expect(try registry.resolve(Revision("ns/pkg")) == a)
        #expect(try registry.resolve(Revision("ns/pkg:latest")) == a)
        #expect(try registry.resolve(Revision("ns/pkg:100")) == a)
        #expect(try registry.resolve(Revision("ns/pkg@" + a.prefix(6))) == a)
        #expect(try registry.resolve(Revision(a)) == a)
        #expect(throws: RegistryError.self) { try registry.resolve(Revision("ns/pkg:999")) }
        #expect(throws: RegistryError.self) { try registry.resolve(Revision("ns/other")) }
        #expect(throws: RegistryError.self) { try Revision("ns/pkg@abc") }
        #expect(throws: RegistryError.self) { try Revision("nope") }
        #expect(throws: RegistryError.self) { try registry.resolve(Revision("ns/pkg@ffffffffff")) }
    }

    @Test func ambiguousPrefixIsAnError() throws {
        var hashes: [String] = []
        for i in 0..<300 { hashes.append(try store("m\(i)")) }
        let shared = Dictionary(grouping: hashes, by: { $0.prefix(1) }).first { $0.value.count > 1 }!.key
        // A 6-digit prefix is what the user must give; make the registry hold two manifests sharing one.
        let first = hashes.first { $0.hasPrefix(shared) }!
        let fake = String(first.prefix(6)) + String(repeating: "0", count: 58)
        try FileSystem.writeAtomically([], to: dir.path + "/reg/.quilt/packages/" + fake)
        #expect(throws: RegistryError.self) { try registry.resolvePrefix(String(first.prefix(6))) }
        #expect(registry.shortHash(first).count >= 7)
    }

    @Test func corruptManifestIsRefused() throws {
        let a = try store("a")
        try FileSystem.writeAtomically(Array("{\"version\": \"v0\", \"message\": \"evil\"}\n".utf8),
                                       to: dir.path + "/reg/.quilt/packages/" + a)
        #expect(throws: RegistryError.self) { try loadManifest(registry, a) }
    }

    @Test func historyIsNewestFirstWithHeadersAndSkipsCorruptPointers() throws {
        let old = try store("old"), new = try store("new")
        try registry.updateRef("ns/pkg", to: old, timestamp: "999999999")
        try registry.updateRef("ns/pkg", to: new, timestamp: "1700000000")
        try FileSystem.writeAtomically(Array("garbage\n".utf8), to: dir.path + "/reg/.quilt/named_packages/ns/pkg/1600000000")
        var skipped: [String] = []
        let history = try registry.history("ns/pkg") { skipped.append($0) }
        // Numerically newest first: 1700000000 before 999999999, though not in key order.
        #expect(history.map(\.timestamp) == ["1700000000", "999999999"])
        #expect(history.map(\.topHash) == [new, old] && history.map(\.isLatest) == [true, false])
        #expect(history.map { $0.header?["message"]?.stringValue } == ["new", "old"])
        #expect(skipped == [".quilt/named_packages/ns/pkg/1600000000"])
        #expect { try registry.history("ns/none") } throws: { "\($0)" == "\(RegistryError.noSuchPackage("ns/none", registry: registry.url))" }
    }

    @Test func updateRefTakesPrefixesAndNeedsTheManifest() throws {
        let first = try store("first"), second = try store("second")
        try registry.updateRef("ns/pkg", toPrefix: String(first.prefix(8)).uppercased(), expecting: .absent)
        #expect(try registry.latest("ns/pkg") == first)
        try registry.updateRef("ns/pkg", toPrefix: second, expecting: .hash(String(first.prefix(10))))
        #expect(try registry.latest("ns/pkg") == second)
        #expect { try registry.updateRef("ns/pkg", toPrefix: first, expecting: .hash(first)) } throws: {
            "\($0)" == "\(RegistryError.refConflict(name: "ns/pkg", expected: first, actual: second))"
        }
        let missing = String(repeating: "0", count: 64)
        #expect { try registry.updateRef("ns/pkg", toPrefix: missing, expecting: .any) } throws: {
            "\($0)" == "\(RegistryError.noSuchManifest(missing))"
        }
        #expect(try registry.latest("ns/pkg") == second)
    }

    @Test func theStorageSaysWhereTheRegistryIs() throws {
        #expect(registry.location == .local(path: dir.path + "/reg"))
        let s3 = Registry(storage: S3Storage(client: try S3Client(environment: testS3Environment(endpoint: "http://127.0.0.1:9")),
                                             bucket: "b", prefix: "p/"))
        #expect(s3.storage.location == .bucket("b", prefix: "p") && s3.location == .s3(bucket: "b", prefix: "p"))
        // A push goes to a bucket's root only, whatever the registry's URL looks like.
        let transfers = S3Transfers(client: try S3Client(environment: testS3Environment(endpoint: "http://127.0.0.1:9")))
        #expect(throws: PushError.self) { try Pusher(registry: s3, transfers: transfers) }
        #expect(throws: PushError.self) { try Pusher(registry: registry, transfers: transfers) }
        let root = Registry(storage: S3Storage(client: try S3Client(environment: testS3Environment(endpoint: "http://127.0.0.1:9")),
                                               bucket: "b"))
        #expect(try Pusher(registry: root, transfers: transfers).bucket == "b")
    }
}
