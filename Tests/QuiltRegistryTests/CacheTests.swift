// The object cache as `quilt cache` sees it: listed least recently used first, pruned by typed limits; partial
// entries filled a chunk at a time, out of order, becoming the entry once every chunk was verified.
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltFormat
@testable import QuiltRegistry

@Suite struct CacheTests {
    @Test func aPruneNeedsALimitAndTheListingIsLeastRecentlyUsedFirst() throws {
        let dir = TemporaryDirectory()
        let context = try testContext(dir)
        let cache = context.cache
        var hashes: [ObjectHash] = []
        for (i, text) in ["one", "two", "three"].enumerated() {
            let path = dir.file("f\(i)", text)
            let hash = try FileHasher.hash(path: path).0
            #expect(cache.insert(hash, from: try InputFile(path: path)))
            hashes.append(hash)
        }
        let listing = context.cacheListing()
        #expect(listing.root == cache.root && listing.entries.count == 3 && listing.bytes == 11)
        #expect(zip(listing.entries, listing.entries.dropFirst()).allSatisfy { ($0.lastUsed, $0.digest) <= ($1.lastUsed, $1.digest) })
        #expect(throws: CacheError.noPruneLimit) { try context.pruneCache(olderThan: nil, maxSize: nil) }
        #expect(try context.pruneCache(olderThan: 86400, maxSize: nil).removed.isEmpty)
        let report = try context.pruneCache(olderThan: nil, maxSize: 0)
        #expect(report.checked == 3 && report.removed.count == 3 && report.removedBytes == 11)
        #expect(context.cacheListing().entries.isEmpty)
    }

    @Test func aPartialEntryBecomesTheEntryOnceEveryChunkWasVerifiedAndIsPrunedWhenStale() throws {
        let dir = TemporaryDirectory()
        let cache = ObjectCache(root: dir.path + "/objects")
        let chunk = ChunkedHash.minimumChunkSize
        let content = EntryReaderTests.bytes(2 * chunk + 5)
        let path = dir.path + "/three"
        try FileSystem.writeAtomically(content, to: path)
        let (hash, size) = try FileHasher.hash(path: path, type: .sha2256Chunked)
        let pieces = [0..<chunk, chunk..<2 * chunk, 2 * chunk..<size]
        func write(_ partial: PartialObject, _ index: Int) {
            content.withUnsafeBytes { partial.write(index, UnsafeRawBufferPointer(rebasing: $0[pieces[index]])) }
        }
        // Other hash types, and objects of one chunk (a read of one is a whole read), have none.
        #expect(cache.partialObject(for: ObjectHash(type: "SHA256", value: String(repeating: "0", count: 64)), size: size) == nil)
        #expect(cache.partialObject(for: hash, size: chunk) == nil)

        let first = try #require(cache.partialObject(for: hash, size: size))
        #expect(first.source(of: 1) == nil)
        write(first, 2)
        write(first, 0)
        #expect(first.source(of: 0) != nil && first.source(of: 1) == nil && cache.open(hash, size: size) == nil)
        // Another reader of the same object sees the chunks kept, but counts only those it verified itself.
        let second = try #require(cache.partialObject(for: hash, size: size))
        #expect(second.source(of: 2) != nil)
        write(second, 1)
        #expect(cache.open(hash, size: size) == nil)
        write(first, 1)
        let entry = try #require(cache.open(hash, size: size))
        #expect(try entry.readAll() == content)
        #expect(cache.entries().count == 1)

        // A partial entry nobody wrote to for an hour goes with the prune's temporary files; a fresh one stays.
        let stale = try #require(cache.partialObject(for: hash, size: size))
        write(stale, 0)
        // Listed apart, as the disk its one chunk takes, never as much as the object.
        let both = cache.entries(includingPartial: true)
        let partials = both.filter(\.partial), whole = both.filter { !$0.partial }
        #expect(partials.count == 1 && whole.count == 1)
        let partial = try #require(partials.first)
        #expect(partial.digest == whole.first?.digest)
        #expect(partial.size >= pieces[0].count && partial.size < size)
        #expect(cache.prune(olderThan: nil, maxSize: nil).temporaryFilesRemoved == 0)
        let later = Int(WallClock.now()) + ObjectCache.staleTemporaryAge
        #expect(cache.prune(olderThan: nil, maxSize: nil, now: later).temporaryFilesRemoved == 1)
        #expect(cache.entries().count == 1)
    }
}
