// quilt fsck and quilt gc in the core: which physical keys are a registry's own, the merge of the sorted references
// with the listing when the spool spills to sorted runs, findings once per entry and each object looked up once,
// and the checkpoint's form.
import Foundation
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltFormat
@testable import QuiltStorage
@testable import QuiltAWS
@testable import QuiltRegistry

@Suite struct CareTests {
    let dir = TemporaryDirectory()

    private func entry(_ key: String, _ url: String, size: Int = 1) -> ManifestEntry {
        ManifestEntry(logicalKey: key, physicalKey: url, size: size,
                      hash: ObjectHash(.sha2256Chunked, value: Base64.encode(SHA256Hasher.digest(Array(key.utf8)))))
    }

    @Test func aRegistryKnowsItsOwnKeys() throws {
        let root = dir.path + "/reg"
        try FileSystem.makeDirectories(root)
        let local = try RegistryKeys(Registry(storage: LocalStorage(root: root)))
        let real = try FileSystem.realPath(root)
        #expect(local.storageKey(of: .local(path: real + "/.quilt/objects/a/b"))?.key == ".quilt/objects/a/b")
        #expect(local.storageKey(of: .local(path: root + "/x"))?.key == "x")
        #expect(local.storageKey(of: .local(path: root + "-other/x")) == nil)
        #expect(local.storageKey(of: .s3(bucket: "b", key: "x", versionId: nil)) == nil)
        #expect(local.url(".quilt/packages/h") == PhysicalKey.local(path: root + "/.quilt/packages/h").url)

        let client = try S3Client(environment: testS3Environment(endpoint: "http://127.0.0.1:9"))
        let s3 = try RegistryKeys(Registry(storage: S3Storage(client: client, url: "s3://bucket/pre")))
        let found = s3.storageKey(of: .s3(bucket: "bucket", key: "pre/ns/n/a b", versionId: "v1"))
        #expect(found?.key == "ns/n/a b" && found?.versionId == "v1")
        #expect(s3.storageKey(of: .s3(bucket: "bucket", key: "prefix/x", versionId: nil)) == nil)
        #expect(s3.storageKey(of: .s3(bucket: "other", key: "pre/x", versionId: nil)) == nil)
        #expect(s3.url("ns/n/a b", versionId: "v1") == "s3://bucket/pre/ns/n/a%20b?versionId=v1")
    }

    /// 3,000 files under `.quilt/objects/`, two in three referenced among 30,000 references (most to keys that are
    /// not there, some twice), sorted in a spool of the smallest budget, so in many runs: gc lists exactly the
    /// third that no reference names.
    @Test func referencesMergedWithTheListingAcrossSortedRuns() throws {
        let root = dir.path + "/gc"
        let registry = Registry(storage: LocalStorage(root: root), manifestMemoryBudget: EntrySpool.minimumMemoryBudget,
                                temporaryDirectory: dir.path)
        let objects = try FileSystem.realPath(dir.path) + "/gc/.quilt/objects/t/"
        var expected: [String] = []
        var entries: [ManifestEntry] = []
        for i in 0..<3000 {
            let name = String(format: "%05d", (i * 7919) % 3000)
            try FileSystem.makeDirectories(objects)
            try FileSystem.writeAtomically(Array(name.utf8), to: objects + name)
            if i % 3 == 0 {
                expected.append(".quilt/objects/t/" + name)
            } else {
                entries.append(entry("kept/\(name)", PhysicalKey.local(path: objects + name).url))
                entries.append(entry("again/\(name)", PhysicalKey.local(path: objects + name).url))
            }
        }
        for k in 0..<26_000 {
            entries.append(entry("gone/\(k)", PhysicalKey.local(path: objects + "missing-\(k)").url))
        }
        var manifest = Manifest(header: JSONObject([("version", .string("v0"))]), entries: entries)
        let topHash = try registry.storeManifest(&manifest)
        try registry.updateRef("t/kept", to: topHash)
        let plan = try GarbageCollector(registry: registry).plan(olderThan: 0, now: WallClock.now() + 60)
        var listed: [String] = []
        try plan.forEachObject { listed.append($0.key) }
        #expect(listed == expected.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        #expect(plan.objectCount == 1000 && plan.objectBytes == 5000 && plan.manifests.isEmpty)
        #expect(plan.objectVersionsListed == 3000)
    }

    @Test func fsckReportsEachEntryAndLooksEachObjectUpOnce() throws {
        let root = dir.path + "/fsck"
        let registry = Registry(storage: LocalStorage(root: root))
        let shared = dir.file("data/shared.txt", "x")
        let alone = dir.file("data/alone.txt", "y")
        var first = Manifest(header: JSONObject([("version", .string("v0"))]),
                             entries: [entry("a", PhysicalKey.local(path: shared).url), entry("b", PhysicalKey.local(path: alone).url)])
        var second = Manifest(header: JSONObject([("version", .string("v0")), ("message", .string("2"))]),
                              entries: [entry("c", PhysicalKey.local(path: shared).url)])
        let one = try registry.storeManifest(&first), two = try registry.storeManifest(&second)
        try registry.updateRef("t/one", to: one)
        try registry.updateRef("t/two", to: two)
        try FileSystem.removeFile(shared)
        let checkpoints = dir.path + "/checkpoints"
        let check = try RegistryCheck(registry: registry, options: CheckOptions(objects: true),
                                      remote: { throw StorageError.notFound(location: "no S3 here") },
                                      useS3Checksums: true, concurrency: 4, checkpointRoot: checkpoints)
        var findings: [CareFinding] = []
        let summary = try check.run(report: { findings.append($0) })
        #expect(findings.map(\.kind) == [.missingObject, .missingObject])
        #expect(Set(findings.map(\.key)) == ["a", "c"] && Set(findings.map(\.package)) == ["t/one", "t/two"])
        #expect(summary.objects == 2 && summary.references == 3 && summary.problems == 2 && !summary.ok)
        #expect(summary.pointers == 4 && summary.manifests == 2)
        #expect((try? FileSystem.contentsOfDirectory(checkpoints)) ?? [] == [], "the checkpoint is gone")
    }

    @Test func checkpointsRoundTripAndFindingsToo() throws {
        var state = CareCheckpoint(registry: "s3://b", names: ["a/b"], objects: true, full: false, useS3Checksums: true)
        state.phase = "objects"
        state.objectsDone = 1000
        state.lastObject = "7333"
        state.recordsBytes = 12345
        let back = try #require(CareCheckpoint(json: state.json))
        #expect(back == state && back.sameRun(as: state))
        var other = state
        other.full = true
        #expect(!other.sameRun(as: state))
        let finding = CareFinding(kind: .hashMismatch, package: nil, revision: "h", key: "k", detail: "d")
        #expect(CareFinding(json: finding.json) == finding)
    }
}
