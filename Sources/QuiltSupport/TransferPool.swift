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
