// The bundle format (Documentation/quilt-bundle.md): one gzip-compressed tar of a header, the manifest as stored,
// and every object named by its hash, in that order, so a reader knows what to expect before the data arrives.
import QuiltSupport
import QuiltFormat

public enum BundleFormat {
    /// The first member: what the bundle holds.
    public static let headerName = "quilt-bundle.json"
    /// The second member: the manifest exactly as the registry stored it.
    public static let manifestName = "manifest.jsonl"
    public static let formatName = "quilt-bundle"
    public static let version = 1
    /// A header larger than this is not one of ours.
    static let maxHeaderSize = 64 * 1024

    /// `objects/<hash type>/<hash value as lowercase hex>`: a file name for any hash (base64 holds `/`).
    public static func objectName(_ hash: ObjectHash) throws(BundleError) -> String {
        guard let type = hash.hashType else { throw .unsupportedHashType(hash.type) }
        let hex: String?
        switch type {
        case .sha256: hex = Hex.decode(hash.value).map { Hex.encode($0) }
        case .sha2256Chunked, .crc64nvme: hex = Base64.decode(hash.value).map { Hex.encode($0) }
        }
        guard let hex else { throw .unsupportedHashType("\(hash.type) value \(hash.value)") }
        return "objects/\(type.rawValue)/\(hex)"
    }
}

/// The header member.
public struct BundleHeader: Sendable, Equatable {
    public var name: String
    public var topHash: String
    /// File entries of the manifest.
    public var entries: Int
    /// Distinct objects (entries with equal hashes share one).
    public var objects: Int
    /// Bytes of all objects, uncompressed.
    public var bytes: Int

    public init(name: String, topHash: String, entries: Int, objects: Int, bytes: Int) {
        self.name = name
        self.topHash = topHash
        self.entries = entries
        self.objects = objects
        self.bytes = bytes
    }

    /// One JSON line: `{"format": "quilt-bundle", "version": 1, "name", "top_hash", "entries", "objects", "bytes"}`.
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        JSONWriter.writeManifestForm(.object(JSONObject([
            ("format", .string(BundleFormat.formatName)), ("version", .int(BundleFormat.version)), ("name", .string(name)),
            ("top_hash", .string(topHash)), ("entries", .int(entries)), ("objects", .int(objects)), ("bytes", .int(bytes)),
        ])), to: &out)
        out.append(0x0A)
        return out
    }

    public init(decoding bytes: [UInt8]) throws(BundleError) {
        guard case .object(let object)? = try? JSONParser.parse(bytes) else {
            throw .notABundle(reason: "\(BundleFormat.headerName) is not a JSON object")
        }
        guard object["format"]?.stringValue == BundleFormat.formatName else {
            throw .notABundle(reason: "\(BundleFormat.headerName) does not say format \(quoted(BundleFormat.formatName))")
        }
        guard let version = object["version"]?.intValue else { throw .notABundle(reason: "no format version") }
        guard version == BundleFormat.version else { throw .unsupportedVersion(version) }
        guard let name = object["name"]?.stringValue, let topHash = object["top_hash"]?.stringValue,
              let entries = object["entries"]?.intValue, let objects = object["objects"]?.intValue,
              let bytes = object["bytes"]?.intValue else {
            throw .notABundle(reason: "\(BundleFormat.headerName) lacks name, top_hash, entries, objects or bytes")
        }
        guard (try? PackageName.validate(name)) != nil, Hex.isTopHash(topHash) else {
            throw .notABundle(reason: "\(BundleFormat.headerName) names no valid package and top hash")
        }
        self.init(name: name, topHash: topHash, entries: entries, objects: objects, bytes: bytes)
    }
}

/// What a bundle holds, and what it took.
public struct BundleSummary: Sendable {
    public var header: BundleHeader
    /// Bytes of the bundle file.
    public var compressedBytes: Int
    /// Objects stored without compression because they already were compressed (known when creating).
    public var storedObjects: Int?
}

public enum BundleError: QuiltError {
    case notABundle(reason: String)
    case unsupportedVersion(Int)
    /// The compressed stream or the tar structure is damaged in (or just `after`) `member`.
    case corrupt(member: String?, keys: [String], after: Bool = false, reason: String)
    /// The bundle ends in the middle of `member` (or just `after` it, or, with no member, before anything).
    case truncated(member: String?, keys: [String], after: Bool = false)
    /// The tar archive is whole, but the gzip stream ends before its trailer (CRC-32 and length).
    case truncatedTrailer
    case hashMismatch(member: String, keys: [String], expected: String, actual: String)
    case sizeMismatch(member: String, keys: [String], expected: Int, actual: Int)
    case unexpectedMember(String)
    case missingObjects(count: Int, firstKey: String)
    case topHashMismatch(header: String, manifest: String)
    case unsupportedHashType(String)
    /// Creating: an entry's data is not what the manifest says (changed since it was built).
    case sourceChanged(key: String, reason: String)
    case entryWithoutHash(String)
    /// An object bigger than S3's largest: its upload is never started.
    case tooLargeForS3(member: String, keys: [String], size: Int)

    public var kind: FailureKind {
        switch self {
        case .hashMismatch, .sizeMismatch, .sourceChanged: return .operationFailed
        default: return .badInput
        }
    }

    static func described(_ member: String?, _ keys: [String], after: Bool = false) -> String {
        guard let member else { return "" }
        let shown = keys.prefix(3).map(quoted).joined(separator: ", ") + (keys.count > 3 ? ", …" : "")
        return (after ? " after " : " in ") + quoted(member) + (keys.isEmpty ? "" : " (logical key \(shown))")
    }

    public var message: String {
        switch self {
        case .notABundle(let reason): return "not a quilt bundle: \(reason)"
        case .unsupportedVersion(let version): return "unsupported bundle format version \(version) (this reads version \(BundleFormat.version))"
        case .corrupt(let member, let keys, let after, let reason):
            return "corrupt bundle\(Self.described(member, keys, after: after)): \(reason)"
        case .truncated(let member, let keys, let after):
            return member == nil ? "truncated bundle: it ends before its end-of-archive marker"
                : "truncated bundle: it ends\(Self.described(member, keys, after: after))"
        case .truncatedTrailer:
            return "truncated bundle: it ends after the end-of-archive marker, before the end of its gzip stream (the CRC-32 and length that check it)"
        case .hashMismatch(let member, let keys, let expected, let actual):
            return "hash mismatch\(Self.described(member, keys)): expected \(expected), got \(actual)"
        case .sizeMismatch(let member, let keys, let expected, let actual):
            return "size mismatch\(Self.described(member, keys)): expected \(expected) bytes, got \(actual)"
        case .unexpectedMember(let name): return "unexpected member in bundle \(quoted(name))"
        case .missingObjects(let count, let key): return "bundle lacks \(count) object(s), the first for \(quoted(key))"
        case .topHashMismatch(let header, let manifest):
            return "bundle header names top hash \(header) but its manifest hashes to \(manifest)"
        case .unsupportedHashType(let type): return "cannot bundle hash type \(quoted(type))"
        case .sourceChanged(let key, let reason): return "data of \(quoted(key)) is not what the manifest says: \(reason)"
        case .entryWithoutHash(let key): return "entry has no hash \(quoted(key))"
        case .tooLargeForS3(let member, let keys, let size):
            return "object too large for S3\(Self.described(member, keys)): \(size) bytes, and S3 holds at most 5 TiB in one object"
        }
    }

    public var hint: String? {
        switch self {
        case .corrupt, .truncated, .truncatedTrailer, .hashMismatch, .sizeMismatch:
            return "the bundle was damaged or cut short on its way: copy it again (compare its size and sha256sum with the original's)"
        case .sourceChanged:
            return "the revision's files changed after it was built; build a new revision and bundle that"
        case .unsupportedVersion:
            return "unbundle it with the quilt version that made it, or a newer one"
        default: return nil
        }
    }
}
