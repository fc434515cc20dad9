// Stored manifests read by the registry's streaming readers, checked against the loader they stand in for.
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltFormat
@testable import QuiltStorage
@testable import QuiltRegistry

@Suite struct StoredManifestReadingTests {
    /// A registry holding `entries` written out of tree order (as no writer we know does, but a file may be): the
    /// streaming readers must still check it and give what the loader gives.
    @Test func manifestsStoredOutOfTreeOrder() throws {
        let root = TemporaryDirectory()
        let registry = Registry(storage: LocalStorage(root: root.path), manifestMemoryBudget: 64 << 10,
                                temporaryDirectory: root.path + "/tmp")
        let before = awkwardEntries(2000, seed: 1)
        var after = Array(before.dropFirst(50))
        after[3].size += 1
        after.append(ManifestEntry(logicalKey: "new", physicalKey: "s3://b/n", size: 1, hash: ObjectHash(.sha256, value: "n")))
        var hashes: [String] = []
        for entries in [before, after] {
            var manifest = Manifest(header: JSONObject([("version", .string("v0"))]), entries: entries)
            let top = try ManifestWriter().topHash(of: &manifest)
            var out = Array(#"{"version": "v0"}"#.utf8) + [0x0A]
            for entry in entries.reversed() { EntryStream.write(entry, to: &out) }  // not tree order
            try registry.storage.put(Registry.manifestKey(top), bytes: out)
            hashes.append(top)
        }
        let summary = try registry.manifestSummary(hashes[0])
        #expect(!summary.canonicalLayout && summary.fileCount == 2000)
        let loaded = try [hashes[0], hashes[1]].map { try loadManifest(registry, $0) }
        #expect(try ManifestDiff(registry: registry, from: hashes[0], to: hashes[1]) == referenceDiff(from: loaded[0], to: loaded[1]))
        // In tree order from the first entry on (the reader starts again on a sorted copy, unseen by the body's
        // result), and in stored order as stored.
        let keys = try registry.readManifest(hashes[0]) { stored in
            var keys: [String] = []
            while let entry = try stored.next() { keys.append(entry.logicalKey) }
            return keys
        }
        var sortedKeys = before.map(\.logicalKey)
        sortedKeys.sort { LogicalKey.precedes($0, $1) }
        #expect(keys == sortedKeys && keys == loaded[0].entries.map(\.logicalKey))
        let storedKeys = try registry.readManifest(hashes[0], order: .stored) { stored in
            var keys: [String] = []
            while let entry = try stored.next() { keys.append(entry.logicalKey) }
            return keys
        }
        #expect(storedKeys == before.reversed().map(\.logicalKey))

        // A byte changed (a digit of the last entry's size): every reader refuses it.
        var corrupt = try registry.storage.get(Registry.manifestKey(hashes[1]))
        let size = Array(#""size": "#.utf8)
        let at = (0...(corrupt.count - size.count)).last { Array(corrupt[$0..<($0 + size.count)]) == size }! + size.count
        corrupt[at] = corrupt[at] == UInt8(ascii: "9") ? UInt8(ascii: "1") : corrupt[at] + 1
        try registry.storage.put(Registry.manifestKey(hashes[1]), bytes: corrupt)
        #expect(throws: RegistryError.self) { try registry.manifestSummary(hashes[1]) }
        #expect(throws: RegistryError.self) { try ManifestDiff(registry: registry, from: hashes[0], to: hashes[1]) }
    }

    @Test func diffOfStoredRevisionsEqualsTheLoadersDiff() throws {
        let root = TemporaryDirectory()
        let registry = Registry(storage: LocalStorage(root: root.path))
        let before = awkwardEntries(3000, seed: 2)
        var after = before.filter { $0.size % 17 != 0 }
        for i in stride(from: 0, to: after.count, by: 13) { after[i].meta = .object(JSONObject([("x", .int(i))])) }
        for i in stride(from: 1, to: after.count, by: 29) { after[i].physicalKey += "-moved" }  // not a change
        after += awkwardEntries(40, seed: 99).map { var e = $0; e.logicalKey = "added/" + e.logicalKey; return e }
        var hashes: [String] = []
        for entries in [before, after] {
            var manifest = Manifest(header: JSONObject([("version", .string("v0"))]), entries: entries)
            hashes.append(try registry.storeManifest(&manifest))
        }
        let loaded = try hashes.map { try loadManifest(registry, $0) }
        let streamed = try ManifestDiff(registry: registry, from: hashes[0], to: hashes[1])
        #expect(streamed == referenceDiff(from: loaded[0], to: loaded[1]))
        #expect(!streamed.added.isEmpty && !streamed.modified.isEmpty && !streamed.deleted.isEmpty)
    }
}
