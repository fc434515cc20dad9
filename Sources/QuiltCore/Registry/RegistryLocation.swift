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
            self = .local(path: FileSystem.absolute(text))
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

/// What commands need from their surroundings: the environment and quilt3's configuration.
public struct QuiltContext: Sendable {
    public let environment: [String: String]
    public let config: QuiltConfig

    public init(environment: [String: String]) throws {
        self.environment = environment
        self.config = try QuiltConfig(environment: environment)
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
            return Registry(storage: try S3Backend.makeStorage(bucket: bucket, prefix: prefix, environment: environment))
        }
    }

    /// The local registry (where installs are recorded and `push` finds local revisions).
    public func localRegistry() throws -> Registry {
        try registry(RegistryLocation(config.defaultLocalRegistry))
    }
}

/// The seam where S3 support plugs into registry opening.
public enum S3Backend {
    public static func makeStorage(bucket: String, prefix: String, environment: [String: String]) throws -> any Storage {
        throw RegistryError.invalidRegistry("s3://" + bucket, reason: "S3 registries are not supported in this build")
    }
}
