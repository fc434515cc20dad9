// The one storage interface every registry backend implements (local directory, S3), in the spirit of restic's
// backend: small, with written contracts, and one conformance suite run against every implementation.

/// What a conditional write requires of the object already at the key.
public enum WriteCondition: Sendable, Equatable {
    /// Write unconditionally.
    case always
    /// Write only if no object exists at the key (`If-None-Match: *`).
    case absent
    /// Write only if the object's current ETag is this one (`If-Match`).
    case matches(etag: String)
}

/// What `head` tells about a stored object.
public struct ObjectInfo: Sendable, Equatable {
    public var size: Int
    /// An opaque tag that changes whenever the content changes; what `WriteCondition.matches` compares.
    public var etag: String
    /// The S3 version id, when the store is versioned.
    public var versionId: String?

    public init(size: Int, etag: String, versionId: String? = nil) {
        self.size = size
        self.etag = etag
        self.versionId = versionId
    }
}

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

/// A flat key space of objects: a directory on disk or an S3 bucket (with an optional prefix).
///
/// Keys are `/`-separated paths relative to the store's root, such as `.quilt/packages/<hash>`; they never start
/// with `/`. Contracts every implementation keeps:
/// - `get` of a missing key throws `StorageError.notFound`.
/// - `put` is atomic: a concurrent reader sees the old object or the new one, never a part.
/// - A conditional `put` whose condition does not hold throws `StorageError.preconditionFailed` and changes nothing.
/// - `list` returns every key below a prefix (recursively), sorted by UTF-8 bytes.
/// - `delete` of a missing key succeeds.
public protocol Storage: Sendable {
    /// The root of the store as a URL (`file:///…` or `s3://bucket/prefix`), for messages.
    var rootURL: String { get }
    /// The whole object.
    func get(_ key: String) throws -> [UInt8]
    /// Stores `bytes` at `key`, if `condition` holds; returns the new object's ETag.
    @discardableResult
    func put(_ key: String, bytes: [UInt8], condition: WriteCondition) throws -> ObjectInfo
    /// Stores the contents of a local file at `key`, streaming it.
    @discardableResult
    func put(_ key: String, contentsOfFile path: String, condition: WriteCondition) throws -> ObjectInfo
    /// At most the first `count` bytes of the object (all of it when shorter): what reading a manifest's header
    /// line needs, without fetching a manifest of a million entries.
    func getPrefix(_ key: String, count: Int) throws -> [UInt8]
    /// The whole object and its ETag, read together (what a compare-and-swap starts from).
    func getWithInfo(_ key: String) throws -> (bytes: [UInt8], info: ObjectInfo)
    /// Size and ETag of the object at `key`, or nil if there is none.
    func head(_ key: String) throws -> ObjectInfo?
    /// Every key that starts with `prefix`, sorted.
    func list(prefix: String) throws -> [String]
    /// Removes the object at `key`; a missing key is not an error.
    func delete(_ key: String) throws
}

extension Storage {
    @discardableResult
    public func put(_ key: String, bytes: [UInt8]) throws -> ObjectInfo {
        try put(key, bytes: bytes, condition: .always)
    }
    /// Default: the whole object, cut.
    public func getPrefix(_ key: String, count: Int) throws -> [UInt8] {
        Array(try get(key).prefix(count))
    }

    /// Default: `head` then `get`; a backend whose GET returns the ETag should answer in one request.
    public func getWithInfo(_ key: String) throws -> (bytes: [UInt8], info: ObjectInfo) {
        guard let info = try head(key) else { throw StorageError.notFound(location: rootURL + "/" + key) }
        return (try get(key), info)
    }

    /// The object, or nil if there is none.
    public func getIfPresent(_ key: String) throws -> [UInt8]? {
        do { return try get(key) } catch StorageError.notFound { return nil }
    }
}
