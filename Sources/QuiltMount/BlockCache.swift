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

    /// A verified block's bytes, freed (or its buffer handed back to the pool it came from) when the last holder
    /// lets go.
    final class Block: @unchecked Sendable {
        // Unchecked: immutable after init.
        let bytes: UnsafeRawBufferPointer
        var count: Int { bytes.count }
        private let pool: BufferPool?

        init(owning buffer: UnsafeMutableRawBufferPointer, from pool: BufferPool? = nil) {
            bytes = UnsafeRawBufferPointer(buffer)
            self.pool = pool
        }

        deinit {
            if let pool { pool.giveBack(UnsafeMutableRawBufferPointer(mutating: bytes)) } else { bytes.deallocate() }
        }
    }

    /// Buffers of whole blocks let go, kept for the next fetch of one. A sequential read of 1 GiB makes 128 blocks of
    /// 8 MiB: each made anew would be 2,048 page faults and 8 MiB zeroed by the kernel (the allocator maps blocks
    /// this large, see FuseServer). A few are kept (40 MiB at most), so memory stays bounded.
    final class BufferPool: @unchecked Sendable {
        // Unchecked: `free` is touched under `lock`.
        let capacity: Int
        private let limit: Int
        private let lock = NSLock()
        private var free: [UnsafeMutableRawBufferPointer] = []

        init(capacity: Int, limit: Int) {
            self.capacity = capacity
            self.limit = limit
        }

        /// A buffer of `capacity` bytes (its contents whatever the last block left).
        func take() -> UnsafeMutableRawBufferPointer {
            lock.lock()
            let kept = free.popLast()
            lock.unlock()
            return kept ?? UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 64)
        }

        func giveBack(_ buffer: UnsafeMutableRawBufferPointer) {
            lock.lock()
            let keep = free.count < limit
            if keep { free.append(buffer) }
            lock.unlock()
            if !keep { buffer.deallocate() }
        }

        /// Buffers kept for the next block (for tests).
        var kept: Int {
            lock.lock()
            defer { lock.unlock() }
            return free.count
        }

        deinit { free.forEach { $0.deallocate() } }
    }

    /// A buffer for a block of `count` bytes, and the pool it goes back to: whole blocks of the usual chunk size
    /// come from the pool, others (a file's last block, a small file) are made to measure.
    func buffer(_ count: Int) -> (UnsafeMutableRawBufferPointer, BufferPool?) {
        guard count == buffers.capacity else { return (.allocate(byteCount: count, alignment: 64), nil) }
        return (buffers.take(), buffers)
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
    /// Buffers of 8 MiB (the chunk size of objects of up to 10,000 chunks): as many as the read-ahead threads fill at once,
    /// and one for the reader.
    let buffers = BufferPool(capacity: 8 << 20, limit: BlockCache.readAheadBlocks * BlockCache.readAheadThreads + 1)
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
