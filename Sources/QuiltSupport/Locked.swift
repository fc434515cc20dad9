// Shared mutable state between threads (transfers, parallel hashing): one lock-protected box for the whole core.
import Dispatch
import Foundation

/// Carries a value across a concurrency boundary when the caller guarantees disjoint access (each thread writes
/// its own index of a buffer).
package struct UnsafeSendable<Value>: @unchecked Sendable {
    package let value: Value
    package init(_ value: Value) { self.value = value }
}

/// A value that many threads read and write, always under one lock: the one lock type of the suite.
public final class Locked<Value>: @unchecked Sendable {
    // Unchecked because every access to `state` goes through `lock`.
    private let lock = NSLock()
    private var state: Value

    public init(_ value: Value) { state = value }

    @discardableResult
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&state)
    }

    /// A copy of the value.
    public var value: Value { withLock { $0 } }
}

/// Keeps the first error thrown by any of several threads.
package final class FailureBox: Sendable {
    private let stored = Locked<FileSystemError?>(nil)

    package init() {}

    package func record(_ error: FileSystemError) {
        stored.withLock { if $0 == nil { $0 = error } }
    }

    package var first: FileSystemError? { stored.value }
}
