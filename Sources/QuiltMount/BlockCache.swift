// Verified blocks of the mounted files in memory. The kernel asks a FUSE file system for 128 KiB at a time, and a
// sha2-256-chunked object can only be checked a chunk (8 MiB) at a time: without this, each request would read
// and hash a whole chunk again. A block is a chunk the entry reader verified; readers of the same block at once
// wait for one fetch; sequential readers get the next blocks fetched ahead on a few threads of its own. Memory is
// bounded: the least recently used blocks go first.
import Foundation
import QuiltSupport

public final class BlockCache: @unchecked Sendable {
    // Unchecked: every field but the constants is touched with `condition` locked.

    /// A block of one file: `inode`'s `index`-th chunk.
    struct Key: Hashable {
        var inode: UInt64
        var index: Int
    }

    /// A verified block's bytes, freed when the last holder lets go.
    final class Block: @unchecked Sendable {
        // Unchecked: immutable after init.
        let bytes: UnsafeRawBufferPointer
        var count: Int { bytes.count }

        init(owning buffer: UnsafeMutableRawBufferPointer) { bytes = UnsafeRawBufferPointer(buffer) }
        deinit { bytes.deallocate() }
    }

    private enum Slot {
        case loading
        case ready(Block, lastUse: UInt64)
    }

    /// 96 MiB: twelve 8 MiB chunks, enough for a few sequential readers with their read-ahead.
    public static let defaultBudget = 96 << 20
    /// Blocks read ahead of a sequential reader.
    static let readAheadBlocks = 2
    /// Threads that read ahead (each fetch runs the entry reader, which for a local file hashes on this thread).
    static let readAheadThreads = 2

    private let budget: Int
    private let condition = NSCondition()
    private var slots: [Key: Slot] = [:]
    private var bytesHeld = 0
    private var clock: UInt64 = 0
    /// Where each file's last read ended, to tell sequential readers.
    private var lastEnd: [UInt64: Int] = [:]
    private var queue: [(Key, @Sendable () throws -> Block)] = []
    private var threadsStarted = 0

    public init(budget: Int = BlockCache.defaultBudget) { self.budget = max(budget, 1) }

    /// The block `key`, from memory or from `fetch` (run on this thread; others asking meanwhile wait for it). A
    /// fetch that fails is not kept: the next read tries again.
    func block(_ key: Key, fetch: () throws -> Block) throws -> Block {
        condition.lock()
        while true {
            switch slots[key] {
            case .ready(let block, _):
                clock += 1
                slots[key] = .ready(block, lastUse: clock)
                condition.unlock()
                return block
            case .loading:
                condition.wait()
                // A fetch that failed leaves no slot: this thread fetches in its turn.
                continue
            case nil:
                slots[key] = .loading
                condition.unlock()
                let result = Result { try fetch() }
                condition.lock()
                finish(key, result)
                condition.unlock()
                return try result.get()
            }
        }
    }

    /// Fetches `key` on a read-ahead thread unless it is in memory or on its way.
    func prefetch(_ key: Key, fetch: @escaping @Sendable () throws -> Block) {
        condition.lock()
        defer { condition.unlock() }
        guard slots[key] == nil, queue.count < Self.readAheadBlocks * Self.readAheadThreads else { return }
        slots[key] = .loading
        queue.append((key, fetch))
        if threadsStarted < Self.readAheadThreads {
            threadsStarted += 1
            Thread { [self] in readAheadLoop() }.start()
        }
        condition.broadcast()
    }

    private func readAheadLoop() {
        while true {
            condition.lock()
            while queue.isEmpty { condition.wait() }
            let (key, fetch) = queue.removeFirst()
            condition.unlock()
            let result = Result { try fetch() }
            condition.lock()
            finish(key, result)
            condition.unlock()
        }
    }

    /// Called locked: a fetch's outcome kept (or dropped), waiters woken, memory brought within the budget.
    private func finish(_ key: Key, _ result: Result<Block, any Error>) {
        switch result {
        case .success(let block):
            clock += 1
            slots[key] = .ready(block, lastUse: clock)
            bytesHeld += block.count
            evict(keeping: key)
        case .failure:
            slots[key] = nil
        }
        condition.broadcast()
    }

    private func evict(keeping kept: Key) {
        guard bytesHeld > budget else { return }
        // Oldest first; a block in use by a reader stays alive through its reference until the reply is sent.
        let ready = slots.compactMap { key, slot -> (Key, UInt64, Int)? in
            if case .ready(let block, let used) = slot, key != kept { return (key, used, block.count) }
            return nil
        }.sorted { $0.1 < $1.1 }
        for (key, _, count) in ready {
            guard bytesHeld > budget else { break }
            slots[key] = nil
            bytesHeld -= count
        }
    }

    /// Records a read of `offset..<end` of `inode`; whether it began where the last one ended (or at 0).
    func isSequential(inode: UInt64, offset: Int, end: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let previous = lastEnd.updateValue(end, forKey: inode)
        if lastEnd.count > 4096 { lastEnd.removeAll(keepingCapacity: true) }
        // The kernel may send the requests of one reader out of order by a little: within a block is close enough.
        guard let previous else { return offset == 0 }
        return offset >= previous - (1 << 20) && offset <= previous + (1 << 20)
    }

    /// Blocks in memory and their bytes (for tests).
    var held: (blocks: Int, bytes: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (slots.values.filter { if case .ready = $0 { return true } else { return false } }.count, bytesHeld)
    }
}
