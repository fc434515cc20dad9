// What a transfer produced, and how transfers fail.
import QuiltSupport
import QuiltFormat

/// Errors of data transfers.
public enum TransferError: QuiltError {
    case checksumMismatch(location: String, ours: String, theirs: String)
    case sizeChanged(location: String, expected: Int, actual: Int)
    /// More bytes than S3 holds in one object.
    case tooLarge(location: String, size: Int, limit: Int)

    public var kind: FailureKind {
        if case .tooLarge = self { return .badInput }
        return .operationFailed
    }
    public var message: String {
        switch self {
        case .checksumMismatch(let location, let ours, let theirs):
            return "S3 reports a different checksum for \(quoted(location)) (ours \(ours), S3's \(theirs))"
        case .sizeChanged(let location, let expected, let actual):
            return "size of \(quoted(location)) changed: expected \(expected) bytes, found \(actual)"
        case .tooLarge(let location, let size, let limit):
            return "cannot upload \(size) bytes to \(quoted(location)): S3 holds at most \(limit) bytes (5 TiB) in one object"
        }
    }
}

/// Where an object ended up, and its package hash.
public struct TransferResult: Sendable {
    public var physicalKey: PhysicalKey
    public var hash: ObjectHash
    /// The size of the bytes the hash was computed from: what the entry must record.
    public var size: Int
    /// True when the destination already held identical content and nothing was sent.
    public var reused: Bool

    public init(physicalKey: PhysicalKey, hash: ObjectHash, size: Int, reused: Bool) {
        self.physicalKey = physicalKey
        self.hash = hash
        self.size = size
        self.reused = reused
    }
}
