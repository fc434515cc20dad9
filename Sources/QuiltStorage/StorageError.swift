// The errors every storage backend reports, in the same terms whatever the backend.
import QuiltSupport

/// Errors every storage backend reports in the same terms.
public enum StorageError: QuiltError {
    /// No object at the key.
    case notFound(location: String)
    /// A conditional write found the object in another state than required.
    case preconditionFailed(location: String)
    /// Access denied; `operation` names what was attempted.
    case accessDenied(location: String, operation: String, detail: String)
    /// The bucket or registry root does not exist.
    case noSuchBucket(bucket: String)
    /// Anything else: I/O, network, protocol.
    case failed(location: String, operation: String, detail: String)

    public var kind: FailureKind {
        switch self {
        case .preconditionFailed: return .conflict
        default: return .operationFailed
        }
    }
    public var message: String {
        switch self {
        case .notFound(let location): return "not found \(quoted(location))"
        case .preconditionFailed(let location): return "changed concurrently \(quoted(location))"
        case .accessDenied(let location, let operation, let detail):
            return "access denied (\(operation)) \(quoted(location))" + (detail.isEmpty ? "" : ": \(detail)")
        case .noSuchBucket(let bucket): return "no such bucket \(quoted(bucket))"
        case .failed(let location, let operation, let detail): return "\(operation) failed \(quoted(location)): \(detail)"
        }
    }
    public var hint: String? {
        switch self {
        case .accessDenied:
            return "check the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID), the region and the endpoint (AWS_ENDPOINT_URL)"
        case .preconditionFailed:
            return "another writer moved it; read it again and retry"
        case .noSuchBucket:
            return "check the bucket name, the region and the endpoint (AWS_ENDPOINT_URL)"
        default: return nil
        }
    }
}
