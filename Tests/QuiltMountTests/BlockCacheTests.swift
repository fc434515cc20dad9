import Foundation
import Testing
@testable import QuiltMount

@Suite struct BlockCacheTests {
    private func block(_ count: Int, _ byte: UInt8) -> BlockCache.Block {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: byte)
        return BlockCache.Block(owning: buffer)
    }

    @Test func aBlockIsFetchedOnceAndKept() throws {
        let cache = BlockCache(budget: 1 << 20)
        var fetches = 0
        for _ in 0..<3 {
            let got = try cache.block(.init(inode: 2, index: 0)) { fetches += 1; return block(100, 7) }
            #expect(got.count == 100 && got.bytes[99] == 7)
        }
        #expect(fetches == 1)
    }

    @Test func aFailedFetchIsNotKept() throws {
        let cache = BlockCache(budget: 1 << 20)
        struct Failure: Error {}
        #expect(throws: Failure.self) { try cache.block(.init(inode: 2, index: 0)) { throw Failure() } }
        let got = try cache.block(.init(inode: 2, index: 0)) { block(10, 1) }
        #expect(got.count == 10)
    }

    @Test func theLeastRecentlyUsedGoPastTheBudget() throws {
        let cache = BlockCache(budget: 250)
        for n in 0..<5 { _ = try cache.block(.init(inode: 2, index: n)) { block(100, UInt8(n)) } }
        #expect(cache.held.blocks == 2 && cache.held.bytes == 200)
        var fetched = false
        _ = try cache.block(.init(inode: 2, index: 4)) { fetched = true; return block(100, 4) }
        #expect(!fetched)
        _ = try cache.block(.init(inode: 2, index: 0)) { fetched = true; return block(100, 0) }
        #expect(fetched)
    }

    @Test func readersOfOneBlockAtOnceWaitForOneFetch() throws {
        let cache = BlockCache(budget: 1 << 20)
        let fetches = Atomic(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            _ = try? cache.block(.init(inode: 3, index: 1)) {
                fetches.add()
                usleep(50_000)
                return block(10, 3)
            }
        }
        #expect(fetches.value == 1)
    }

    @Test func buffersOfWholeBlocksAreUsedAgain() {
        let pool = BlockCache.BufferPool(capacity: 64, limit: 1)
        var first: UnsafeMutableRawPointer?
        do {
            let buffer = pool.take()
            first = buffer.baseAddress
            _ = BlockCache.Block(owning: buffer, from: pool)
        }
        #expect(pool.kept == 1)
        let again = pool.take()
        #expect(again.baseAddress == first && again.count == 64 && pool.kept == 0)
        // Past the limit, a buffer given back is freed.
        let other = pool.take()
        pool.giveBack(again)
        pool.giveBack(other)
        #expect(pool.kept == 1)
        let cache = BlockCache()
        let small = cache.buffer(100), whole = cache.buffer(8 << 20)
        #expect(small.1 == nil && small.0.count == 100)
        #expect(whole.1 === cache.buffers && whole.0.count == 8 << 20)
        small.0.deallocate()
        cache.buffers.giveBack(whole.0)
    }

    @Test func sequentialReadersAreTold() {
        let cache = BlockCache()
        #expect(cache.isSequential(inode: 5, offset: 0, end: 131072))
        #expect(cache.isSequential(inode: 5, offset: 131072, end: 262144))
        #expect(!cache.isSequential(inode: 5, offset: 100 << 20, end: (100 << 20) + 4096))
        #expect(!cache.isSequential(inode: 6, offset: 4096, end: 8192))
    }
}

/// A counter several threads bump.
final class Atomic: @unchecked Sendable {
    private let lock = NSLock()
    private var count: Int
    init(_ value: Int) { count = value }
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
