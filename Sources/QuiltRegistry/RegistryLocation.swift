// Where a registry is: `file:///abs/dir`, a plain path, or `s3://bucket[/prefix]`; and opening it.
import QuiltSupport
import QuiltFormat
import QuiltStorage
import QuiltAWS

public enum RegistryLocation: Sendable, Equatable {
    case local(path: String)
    case s3(bucket: String, prefix: String)

    public init(_ text: String) throws(RegistryError) {
        // A URL scheme is case-insensitive (RFC 3986), and quilt3 takes `S3://bucket` as `s3://bucket`.
        let scheme = text.prefix { $0 != ":" && $0 != "/" }.lowercased()
        if scheme == "s3" && text.dropFirst(2).hasPrefix(":") && !text.dropFirst(3).hasPrefix("//") {
            // `s3:/bucket` and `s3:bucket` are typos of `s3://bucket`, not a local folder named `s3:`.
            throw .invalidRegistry(text, reason: "an S3 registry is s3://bucket[/prefix]")
        }
        if scheme == "s3" && text.dropFirst(2).hasPrefix("://") {
            let rest = text.dropFirst(5)
            let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            let bucket = String(parts[0])
            guard !bucket.isEmpty else { throw .invalidRegistry(text, reason: "missing bucket") }
            if let problem = S3BucketName.problem(bucket) { throw .invalidRegistry(text, reason: problem) }
            var prefix = parts.count > 1 ? String(parts[1]) : ""
            while prefix.hasSuffix("/") { prefix.removeLast() }
            self = .s3(bucket: bucket, prefix: prefix)
        } else if text.hasPrefix("file://") {
            guard case .local(let path) = try? PhysicalKey(url: text) else {
                throw .invalidRegistry(text, reason: "not a local file URL")
            }
            // Normalized as a plain path is, so that both spellings of one directory are the same location.
            self = .local(path: FileSystem.normalized(path))
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

extension Registry {
    /// Where the registry is, as its storage says (never by reading its URL again).
    public var location: RegistryLocation {
        switch storage.location {
        case .directory(let path): return .local(path: path)
        case .bucket(let bucket, let prefix): return .s3(bucket: bucket, prefix: prefix)
        }
    }
}
