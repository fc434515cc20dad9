// Physical keys: where an entry's bytes are. `file://` and `s3://` URLs, encoded and decoded as quilt3 does
// (Python's `quote`/`unquote` with `/` safe, and `urlencode` for the version id).

/// A parsed physical key.
public enum PhysicalKey: Sendable, Equatable, Hashable {
    case local(path: String)
    case s3(bucket: String, key: String, versionId: String?)

    /// Parses a `file://` or `s3://` URL. Lenient: unencoded characters that quilt-rs writes are accepted.
    public init(url: String) throws(ManifestError) {
        if url.utf8.starts(with: "s3://".utf8) {
            let rest = url.dropFirst(5)
            var authorityEnd = rest.endIndex
            if let i = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { authorityEnd = i }
            let bucket = String(rest[..<authorityEnd])
            guard !bucket.isEmpty else { throw .invalidPhysicalKey(url, reason: "missing bucket") }
            var pathAndQuery = rest[authorityEnd...]
            if let hash = pathAndQuery.firstIndex(of: "#") { pathAndQuery = pathAndQuery[..<hash] }
            var path = pathAndQuery
            var query = Substring("")
            if let q = pathAndQuery.firstIndex(of: "?") {
                path = pathAndQuery[..<q]
                query = pathAndQuery[pathAndQuery.index(after: q)...]
            }
            let key = path.isEmpty ? "" : String(URLEncoding.unquote(path).dropFirst())
            var versionId: String?
            for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = URLEncoding.unquote(parts[0], plusIsSpace: true)
                let value = parts.count > 1 ? URLEncoding.unquote(parts[1], plusIsSpace: true) : ""
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
            self = .local(path: URLEncoding.unquote(Substring(path)))
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
            return "file://" + URLEncoding.quote(path)
        case .s3(let bucket, let key, let versionId):
            var url = "s3://" + bucket + URLEncoding.quote("/" + key)
            if let versionId { url += "?versionId=" + URLEncoding.quotePlus(versionId) }
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

/// Python's `urllib.parse` quoting rules.
public enum URLEncoding {
    private static let hex: [UInt8] = Array("0123456789ABCDEF".utf8)

    @inline(__always)
    static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
            || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: "-") || b == UInt8(ascii: "~")
    }

    /// `quote(s, safe='/')`: every byte outside `A-Za-z0-9_.-~/` as `%XX` (uppercase hex).
    public static func quote(_ text: String) -> String {
        encode(text) { isUnreserved($0) || $0 == UInt8(ascii: "/") }
    }

    /// `quote_plus(s, safe='')` as `urlencode` applies it: space as `+`, `/` encoded.
    public static func quotePlus(_ text: String) -> String {
        var out = [UInt8]()
        for b in text.utf8 {
            if isUnreserved(b) {
                out.append(b)
            } else if b == 0x20 {
                out.append(UInt8(ascii: "+"))
            } else {
                out.append(UInt8(ascii: "%")); out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func encode(_ text: String, keep: (UInt8) -> Bool) -> String {
        var plain = true
        for b in text.utf8 where !keep(b) { plain = false; break }
        if plain { return text }
        var out = [UInt8]()
        out.reserveCapacity(text.utf8.count + 16)
        for b in text.utf8 {
            if keep(b) {
                out.append(b)
            } else {
                out.append(UInt8(ascii: "%")); out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `unquote`: `%XX` sequences decoded as UTF-8 bytes; malformed ones left as they are.
    public static func unquote<S: StringProtocol>(_ text: S, plusIsSpace: Bool = false) -> String {
        let utf8 = Array(text.utf8)
        if !utf8.contains(UInt8(ascii: "%")) && !(plusIsSpace && utf8.contains(UInt8(ascii: "+"))) {
            return String(text)
        }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count)
        var i = 0
        while i < utf8.count {
            let b = utf8[i]
            if b == UInt8(ascii: "%"), i + 2 < utf8.count, let hi = hexValue(utf8[i + 1]), let lo = hexValue(utf8[i + 2]) {
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(plusIsSpace && b == UInt8(ascii: "+") ? 0x20 : b)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }
}
