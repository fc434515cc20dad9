// A value guarded by a lock, for the few pieces of shared mutable state in the S3 layer (handle pool, caches).
import Foundation

/// A value that many threads read and write, always under one lock.
///
/// `Mutex` from Synchronization would do the same but needs macOS 15; the package supports macOS 13.
final class LockedState<Value>: @unchecked Sendable {
    // Unchecked because every access to `value` goes through `lock`.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
