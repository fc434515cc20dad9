// Response bodies made by blocking code: the reading core (an entry's verified bytes, a manifest, S3 through
// libcurl) blocks, so it runs on a thread of its own and hands the response its bytes a chunk at a time, never more
// than a few chunks ahead of the client (a slow client holds the reader back, not memory). Swift concurrency's
// threads, and NIO's event loops, are never blocked.
import Foundation
import Hummingbird
import NIOCore

/// Chunks from one producer thread to one async consumer, at most `window` of them waiting.
final class ChunkQueue: @unchecked Sendable {
    // Unchecked: every field is touched with `condition` locked.
    private let condition = NSCondition()
    private var chunks: [ByteBuffer] = []
    /// Set once the producer is done: nil for a clean end, else its error.
    private var ended: (any Error)??
    private var cancelled = false
    private var waiting: CheckedContinuation<Void, Never>?
    private let window: Int
    /// Bytes the consumer has taken.
    private(set) var delivered = 0

    struct Cancelled: Error {}

    init(window: Int = 8) { self.window = window }

    // MARK: Producer side (a blocking thread)

    /// Queues a chunk, first waiting while `window` are queued; throws once the consumer has gone.
    func put(_ chunk: ByteBuffer) throws {
        condition.lock()
        defer { condition.unlock() }
        while chunks.count >= window && !cancelled { condition.wait() }
        if cancelled { throw Cancelled() }
        chunks.append(chunk)
        wake()
    }

    /// The producer's end (an error: the response is cut short, so the client sees it failed).
    func end(_ error: (any Error)? = nil) {
        condition.lock()
        if ended == nil { ended = .some(error) }
        wake()
        condition.unlock()
    }

    var isCancelled: Bool {
        condition.lock()
        defer { condition.unlock() }
        return cancelled
    }

    private func wake() {
        if let waiting {
            self.waiting = nil
            waiting.resume()
        }
    }

    // MARK: Consumer side (async)

    private enum Taken {
        case chunk(ByteBuffer)
        case end((any Error)?)
        case nothing
    }

    /// A chunk, the end, or nothing yet (synchronous: a lock is never held across a suspension).
    private func take(peek: Bool) -> Taken {
        condition.lock()
        defer { condition.unlock() }
        if !chunks.isEmpty {
            if peek { return .chunk(chunks[0]) }
            let chunk = chunks.removeFirst()
            delivered += chunk.readableBytes
            condition.broadcast()
            return .chunk(chunk)
        }
        if let ended { return .end(ended) }
        return .nothing
    }

    /// The next chunk; nil at a clean end; the producer's error.
    func next() async throws -> ByteBuffer? {
        while true {
            switch take(peek: false) {
            case .chunk(let chunk): return chunk
            case .end(let error?): throw error
            case .end(nil): return nil
            case .nothing: await suspendUntilSomething()
            }
        }
    }

    /// Waits for the first chunk or the end: the error of a producer that failed before its first byte (so the
    /// response can still be an error page), else nil.
    func failureBeforeFirstChunk() async -> (any Error)? {
        while true {
            switch take(peek: true) {
            case .chunk: return nil
            case .end(let error): return error
            case .nothing: await suspendUntilSomething()
            }
        }
    }

    private func suspendUntilSomething() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            if !park(continuation) { continuation.resume() }
        }
    }

    /// Keeps `continuation` to be resumed by the producer's next step; false when there is something already.
    private func park(_ continuation: CheckedContinuation<Void, Never>) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard chunks.isEmpty && ended == nil else { return false }
        waiting = continuation
        return true
    }

    /// The consumer gave up (the client went away): the producer's next `put` throws.
    func cancel() {
        condition.lock()
        cancelled = true
        chunks.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    // MARK: Running

    /// Starts `produce` on a thread of its own; whatever it throws ends the queue.
    static func start(window: Int = 8, _ produce: @escaping @Sendable (BodyWriter) throws -> Void) -> ChunkQueue {
        let queue = ChunkQueue(window: window)
        let thread = Thread {
            let writer = BodyWriter(queue)
            do {
                try produce(writer)
                try writer.flush()
                queue.end()
            } catch {
                queue.end(error)
            }
        }
        thread.stackSize = 4 << 20
        thread.start()
        return queue
    }

    /// The response body that writes this queue's chunks, then finishes.
    func responseBody(contentLength: Int? = nil, finished: @escaping @Sendable (ChunkQueue, (any Error)?) -> Void) -> ResponseBody {
        ResponseBody(contentLength: contentLength) { writer in
            do {
                while let chunk = try await self.next() { try await writer.write(chunk) }
                try await writer.finish(nil)
                finished(self, nil)
            } catch {
                self.cancel()
                finished(self, error)
                throw error
            }
        }
    }
}

/// What a producer writes to: bytes and text, gathered into chunks of 64 KiB.
final class BodyWriter: @unchecked Sendable {
    // Unchecked: used by the one producer thread only.
    private let queue: ChunkQueue
    private var pending: [UInt8] = []
    static let chunkSize = 64 << 10

    init(_ queue: ChunkQueue) {
        self.queue = queue
        pending.reserveCapacity(Self.chunkSize)
    }

    func write(_ text: String) throws {
        pending.append(contentsOf: text.utf8)
        if pending.count >= Self.chunkSize { try flush() }
    }

    /// Copies `bytes` out (they are the caller's only until this returns), in chunks.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = min(Self.chunkSize - pending.count, bytes.count - offset)
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n]))
            offset += n
            if pending.count >= Self.chunkSize { try flush() }
        }
    }

    /// Hands what is gathered to the response now (a page's head goes out before its slow part is worked out).
    func flush() throws {
        guard !pending.isEmpty else {
            if queue.isCancelled { throw ChunkQueue.Cancelled() }
            return
        }
        let chunk = pending.withUnsafeBytes { ByteBuffer(bytes: $0) }
        pending.removeAll(keepingCapacity: true)
        try queue.put(chunk)
    }
}
