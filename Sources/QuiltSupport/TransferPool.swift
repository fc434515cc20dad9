// Runs many blocking transfers at once on a bounded set of threads (the concurrency model of HTTPClient).
import Foundation

/// Runs `count` jobs on at most `maxConcurrency` threads and waits for all of them.
///
/// Transfers block in libcurl, so they get real threads rather than Swift concurrency's cooperative pool (which
/// has as many threads as cores and must never block) or `DispatchQueue.concurrentPerform` (also bounded by
/// cores). quilt3 uses 10 (`QUILT_TRANSFER_MAX_CONCURRENCY`).
public enum TransferPool {
    /// Calls `job(index)` for every index in `0..<count`. After the first error no new jobs start; the jobs
    /// already running finish, and that first error is rethrown.
    public static func run(count: Int, maxConcurrency: Int, _ job: @escaping @Sendable (Int) throws -> Void) throws {
        guard count > 0 else { return }
        let threads = max(1, min(maxConcurrency, count))
        if threads == 1 {
            for index in 0..<count { try job(index) }
            return
        }
        let state = Locked<(next: Int, error: (any Error)?)>((0, nil))
        let group = DispatchGroup()
        for _ in 0..<threads {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                while true {
                    let index: Int? = state.withLock { current in
                        guard current.error == nil, current.next < count else { return nil }
                        current.next += 1
                        return current.next - 1
                    }
                    guard let index else { return }
                    do {
                        try job(index)
                    } catch {
                        state.withLock { if $0.error == nil { $0.error = error } }
                    }
                }
            }
            thread.start()
        }
        group.wait()
        if let error = state.withLock({ $0.error }) { throw error }
    }
}

/// Jobs handed over one at a time by a producer that must keep going (a stream being read), run on at most
/// `maxConcurrency` threads. `submit` blocks while that many jobs are already queued or running, so what the jobs
/// hold (an object read into memory) stays bounded. After a failure no new job starts, and `submit` and `finish`
/// rethrow the first error. The worker threads live until `finish` or `abandon`: call one of them.
public final class TransferQueue: @unchecked Sendable {
    // Unchecked: `pending`, `error`, `closed` and `running` are only touched with `condition` locked.
    private let condition = NSCondition()
    private var pending: [@Sendable () throws -> Void] = []
    private var running = 0
    private var error: (any Error)?
    private var closed = false
    private let limit: Int
    private let group = DispatchGroup()

    public init(maxConcurrency: Int) {
        limit = max(1, maxConcurrency)
        for _ in 0..<limit {
            group.enter()
            let thread = Thread { [self] in
                defer { group.leave() }
                work()
            }
            thread.start()
        }
    }

    private func work() {
        while true {
            condition.lock()
            while pending.isEmpty && !closed { condition.wait() }
            if pending.isEmpty && closed {
                condition.unlock()
                return
            }
            let job = pending.removeFirst()
            let skip = error != nil
            running += 1
            condition.unlock()
            var failure: (any Error)?
            if !skip {
                do { try job() } catch { failure = error }
            }
            condition.lock()
            running -= 1
            if let failure, error == nil { error = failure }
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Queues `job`, first waiting while `maxConcurrency` jobs are queued or running.
    public func submit(_ job: @escaping @Sendable () throws -> Void) throws {
        condition.lock()
        defer { condition.unlock() }
        while pending.count + running >= limit && error == nil { condition.wait() }
        if let error { throw error }
        pending.append(job)
        condition.broadcast()
    }

    /// Waits for every job; rethrows the first failure. The queue takes no jobs afterwards.
    public func finish() throws {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
        group.wait()
        if let error { throw error }
    }

    /// Drops the jobs not yet started and waits for the running ones (the producer failed). Harmless after `finish`.
    public func abandon() {
        condition.lock()
        closed = true
        pending.removeAll()
        condition.broadcast()
        condition.unlock()
        group.wait()
    }
}
