// Small helpers for sharing state between the threads of `DispatchQueue.concurrentPerform`.
import Dispatch
import Synchronization

/// Carries a value across a concurrency boundary when the caller guarantees disjoint access (each thread writes
/// its own index of a buffer).
struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Keeps the first error thrown by any of several threads.
final class FailureBox: Sendable {
    private let stored = Mutex<FileSystemError?>(nil)

    func record(_ error: FileSystemError) {
        stored.withLock { if $0 == nil { $0 = error } }
    }

    var first: FileSystemError? { stored.withLock { $0 } }
}

/// A lock-protected value.
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: Value) { mutex = Mutex(value) }

    @discardableResult
    public func withLock<R: Sendable>(_ body: (inout Value) throws -> R) rethrows -> R {
        try mutex.withLock { try body(&$0) }
    }

    public var value: Value { mutex.withLock { $0 } }
}
