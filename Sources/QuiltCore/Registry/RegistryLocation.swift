// Where a registry is: `file:///abs/dir`, a plain path, or `s3://bucket[/prefix]`; and opening it.

public enum RegistryLocation: Sendable, Equatable {
    case local(path: String)
    case s3(bucket: String, prefix: String)

    public init(_ text: String) throws(RegistryError) {
        if text.hasPrefix("s3://") {
            let rest = text.dropFirst(5)
            let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            let bucket = String(parts[0])
            guard !bucket.isEmpty else { throw .invalidRegistry(text, reason: "missing bucket") }
            var prefix = parts.count > 1 ? String(parts[1]) : ""
            while prefix.hasSuffix("/") { prefix.removeLast() }
            self = .s3(bucket: bucket, prefix: prefix)
        } else if text.hasPrefix("file://") {
            guard case .local(let path) = try? PhysicalKey(url: text) else {
                throw .invalidRegistry(text, reason: "not a local file URL")
            }
            self = .local(path: path)
        } else if text.contains("://") {
            throw .invalidRegistry(text, reason: "expected a path, file:// or s3:// URL")
        } else {
            guard !text.isEmpty else { throw .invalidRegistry(text, reason: "empty") }
            self = .local(path: FileSystem.normalized(FileSystem.absolute(text)))
        }
    }

    public var url: String {
        switch self {
        case .local(let path): return PhysicalKey.local(path: path).url
        case .s3(let bucket, let prefix): return "s3://" + bucket + (prefix.isEmpty ? "" : "/" + prefix)
        }
    }

    public var isLocal: Bool {
        if case .local = self { return true }
        return false
    }
}

/// What commands need from their surroundings: the environment, quilt3's configuration, and one S3 client for
/// the whole process (so connections and credentials are shared).
public struct QuiltContext: Sendable {
    public let environment: [String: String]
    public let config: QuiltConfig
    /// Where `--verbose` sends one line per S3 request; nil when not verbose.
    public let requestLog: (@Sendable (String) -> Void)?
    private let s3Box = Locked<S3Client?>(nil)

    public init(environment: [String: String], requestLog: (@Sendable (String) -> Void)? = nil) throws {
        self.environment = environment
        self.config = try QuiltConfig(environment: environment)
        self.requestLog = requestLog
    }

    /// The S3 client, created on first use from the environment (credentials, region, endpoint).
    public func s3Client() throws -> S3Client {
        try s3Box.withLock { client in
            if let client { return client }
            var configuration = try S3ClientConfiguration.resolve(environment: environment)
            configuration.requestLog = requestLog
            let created = S3Client(configuration: configuration)
            client = created
            return created
        }
    }

    /// The registry named by `text`, else the default local registry (quilt3's `default_local_registry`).
    public func registry(_ text: String?) throws -> Registry {
        try registry(RegistryLocation(text ?? config.defaultLocalRegistry))
    }

    public func registry(_ location: RegistryLocation) throws -> Registry {
        switch location {
        case .local(let path):
            return Registry(storage: LocalStorage(root: path))
        case .s3(let bucket, let prefix):
            return Registry(storage: S3Storage(
                client: try s3Client(), bucket: bucket, prefix: prefix,
                multipartThreshold: Self.byteSize(environment["QUILT_MULTIPART_THRESHOLD"]) ?? 64 << 20,
                partSize: Self.byteSize(environment["QUILT_MULTIPART_PART_SIZE"]) ?? 16 << 20))
        }
    }

    /// `1048576`, `64K`, `16M`, `1G` (binary units).
    static func byteSize(_ text: String?) -> Int? {
        guard var text = text?.trimmingWhitespace.uppercased(), !text.isEmpty else { return nil }
        var unit = 1
        if text.hasSuffix("IB") { text.removeLast(2) } else if text.hasSuffix("B") { text.removeLast() }
        switch text.last {
        case "K": unit = 1 << 10
        case "M": unit = 1 << 20
        case "G": unit = 1 << 30
        default: break
        }
        if unit > 1 { text.removeLast() }
        return Int(text).map { $0 * unit }
    }

    /// The local registry (where installs are recorded and `push` finds local revisions).
    public func localRegistry() throws -> Registry {
        try registry(RegistryLocation(config.defaultLocalRegistry))
    }
}
