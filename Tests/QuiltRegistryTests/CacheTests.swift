// The object cache as `quilt cache` sees it: listed least recently used first, pruned by typed limits.
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
}
