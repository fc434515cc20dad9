// Physical keys: where an entry's bytes are. `file://` and `s3://` URLs, encoded and decoded as quilt3 does
// (Python's `quote`/`unquote` with `/` safe, and `urlencode` for the version id).
import QuiltSupport

/// A parsed physical key.
public enum PhysicalKey: Sendable, Equatable, Hashable {
    case local(path: String)
    case s3(bucket: String, key: String, versionId: String?)

    /// Parses a `file://` or `s3://` URL. Lenient: unencoded characters that quilt-rs writes are accepted.
    public init(url: String) throws(ManifestError) {
        if url.utf8.starts(with: "s3://".utf8) {
            // Delimiters found on the UTF-8 bytes (ASCII, so their indices are valid for the Substrings): a
            // Character search cost an install of small files a twentieth of its CPU.
            let rest = url.dropFirst(5)
            var authorityEnd = rest.endIndex
            if let i = rest.utf8.firstIndex(where: { $0 == 0x2F || $0 == 0x3F || $0 == 0x23 }) { authorityEnd = i }
            let bucket = String(rest[..<authorityEnd])
            guard !bucket.isEmpty else { throw .invalidPhysicalKey(url, reason: "missing bucket") }
            var pathAndQuery = rest[authorityEnd...]
            if let hash = pathAndQuery.utf8.firstIndex(of: 0x23) { pathAndQuery = pathAndQuery[..<hash] }
            var path = pathAndQuery
            var query = Substring("")
            if let q = pathAndQuery.utf8.firstIndex(of: 0x3F) {
                path = pathAndQuery[..<q]
                query = pathAndQuery[pathAndQuery.utf8.index(after: q)...]
            }
            let key = path.isEmpty ? "" : String(PercentEncoding.decode(path).dropFirst())
            var versionId: String?
            for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = PercentEncoding.decode(parts[0], plusIsSpace: true)
                let value = parts.count > 1 ? PercentEncoding.decode(parts[1], plusIsSpace: true) : ""
                guard name == "versionId" else {
                    throw .invalidPhysicalKey(url, reason: "unexpected S3 query string")
                }
                if value.isEmpty { continue }  // parse_qs drops blank values
                if versionId == nil { versionId = value }
            }
            self = .s3(bucket: bucket, key: key, versionId: versionId)
        } else if url.utf8.starts(with: "file://".utf8) {
            // On UTF-8 bytes, as Python parses code points: Character searches cost more than hashing a small file.
            let rest = url.utf8.dropFirst(7)
            let slash = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
            let host = rest[..<slash]
            guard host.isEmpty || host.elementsEqual("localhost".utf8) else {
                throw .invalidPhysicalKey(url, reason: "unexpected hostname")
            }
            var path = rest[slash...]
            if let hash = path.firstIndex(of: UInt8(ascii: "#")) { path = path[..<hash] }
            if path.contains(UInt8(ascii: "?")) { throw .invalidPhysicalKey(url, reason: "unexpected query") }
            guard path.first == UInt8(ascii: "/") else { throw .invalidPhysicalKey(url, reason: "missing path") }
            self = .local(path: PercentEncoding.decode(Substring(path)))
        } else {
            throw .invalidPhysicalKey(url, reason: "unexpected scheme")
        }
    }

    /// The local file `path`, made absolute (not resolved: callers that need quilt3's realpath do that first).
    public static func file(_ path: String) -> PhysicalKey {
        .local(path: FileSystem.absolute(path))
    }

    /// The URL in quilt3's form.
    public var url: String {
        switch self {
        case .local(let path):
            return PercentEncoding.fileURL(path: path)
        case .s3(let bucket, let key, let versionId):
            var url = "s3://" + bucket + PercentEncoding.encode("/" + key, keepSlash: true)
            if let versionId { url += "?versionId=" + PercentEncoding.encodePlus(versionId) }
            return url
        }
    }

    /// The S3 version id, if any.
    public var versionId: String? {
        if case .s3(_, _, let versionId) = self { return versionId }
        return nil
    }

    public var isLocal: Bool {
        if case .local = self { return true }
        return false
    }

    /// The last path component.
    public var baseName: String {
        switch self {
        case .local(let path): return FileSystem.baseName(of: path)
        case .s3(_, let key, _): return FileSystem.baseName(of: key)
        }
    }
}
