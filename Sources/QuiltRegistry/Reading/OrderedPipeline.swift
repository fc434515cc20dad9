// Results made on several threads and taken in index order on the caller's: how a reader hashes chunks on every
// core while the bytes go out, in order, from the thread that asked for them.
import Foundation
import QuiltSupport

/// Runs `make(index)` for `0..<count` on `threads` threads, at most `window` results made ahead of the one the
/// consumer takes next (so memory stays bounded), and hands them over in order through `next()`.
///
/// Not `OrderedTurns` with `TransferPool`: those run the in-order step on the worker threads, and a reader's
/// consumer (`quilt cat`'s writes, a server's response) is a caller's closure that must not escape the call, nor
/// run on threads that outlive it.
final class OrderedPipeline<Value>: @unchecked Sendable {
    // Unchecked: every field but the constants is touched with `condition` locked.
    private let condition = NSCondition()
    private var results: [Int: Result<Value, any Error>] = [:]
    private var started = 0
    private var taken = 0
    private var stopped = false
    private let count: Int
    private let window: Int
    private let make: @Sendable (Int) throws -> Value

    init(count: Int, threads: Int, window: Int, make: @escaping @Sendable (Int) throws -> Value) {
        self.count = count
        self.window = max(1, window)
        self.make = make
        for _ in 0..<max(1, min(threads, count)) {
            Thread { [self] in work() }.start()
        }
    }

    private func work() {
        while true {
            condition.lock()
            while !stopped && started < count && started >= taken + window { condition.wait() }
            if stopped || started >= count {
                condition.unlock()
                return
            }
            let index = started
            started += 1
            condition.unlock()
            let result = Result { try make(index) }
            condition.lock()
            results[index] = result
            // After a failure nothing more is started: the consumer stops there.
            if case .failure = result { stopped = true }
            condition.broadcast()
            condition.unlock()
        }
    }

    /// The next result in index order (its error thrown); nil after the last.
    func next() throws -> Value? {
        condition.lock()
        defer { condition.unlock() }
        guard taken < count else { return nil }
        while results[taken] == nil { condition.wait() }
        let result = results.removeValue(forKey: taken)!
        taken += 1
        condition.broadcast()
        return try result.get()
    }

    /// Starts nothing more (the consumer gave up); work already running finishes and is dropped.
    func stop() {
        condition.lock()
        stopped = true
        results.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}
