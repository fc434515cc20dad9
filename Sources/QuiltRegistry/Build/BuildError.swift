// How building a package from local files (or S3 objects) fails.
import QuiltSupport

/// Errors of building packages from local files.
public enum BuildError: QuiltError {
    case notADirectory(String)
    case unreadable(path: String, reason: String)
    case noSuchEntry(String)
    case unsupportedPhysicalKey(String)

    public var kind: FailureKind {
        switch self {
        case .noSuchEntry: return .badInput
        default: return .operationFailed
        }
    }
    public var message: String {
        switch self {
        case .notADirectory(let path): return "not a directory \(quoted(path))"
        case .unreadable(let path, let reason): return "cannot read file \(quoted(path)): \(reason)"
        case .noSuchEntry(let key): return "no such logical key \(quoted(key))"
        case .unsupportedPhysicalKey(let url): return "cannot hash data at \(quoted(url)) here"
        }
    }
}
