// What quilt fsck finds wrong in a registry, one finding per line of its report; and the errors of registry care.
import QuiltSupport
import QuiltStorage
import QuiltFormat

/// One thing fsck found: a problem (exit status 1) or, for a manifest stored out of tree order, a warning.
public struct CareFinding: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// A pointer that holds no top hash, or names a manifest that is not stored.
        case danglingPointer = "dangling pointer"
        /// A manifest that does not parse or does not hash to its name.
        case corruptManifest = "corrupt manifest"
        /// An entry's object (at its version) is not there.
        case missingObject = "missing object"
        /// The object is there with another size than the entry's.
        case sizeMismatch = "size mismatch"
        /// The object's bytes hash to another value than the entry's (`--full`).
        case hashMismatch = "hash mismatch"
        /// A manifest quilt3 reads and that hashes to its name, stored out of tree order: nothing is lost, so it is
        /// a warning, but no writer we know makes one, and this suite reads it through a sorted copy each time.
        case unsortedManifest = "unsorted manifest"
    }

    public var kind: Kind
    /// `ns/name`, or nil for a manifest no pointer reaches.
    public var package: String?
    /// A top hash (manifests and objects) or a pointer's name (`latest`, a timestamp).
    public var revision: String
    /// A logical key (objects) or the registry key of the pointer or manifest.
    public var key: String
    /// Where it was looked for (a physical key or the registry's URL of the key) and what was found.
    public var detail: String

    public init(kind: Kind, package: String?, revision: String, key: String, detail: String) {
        self.kind = kind
        self.package = package
        self.revision = revision
        self.key = key
        self.detail = detail
    }

    public var isProblem: Bool { kind != .unsortedManifest }

    public var json: JSONValue {
        .object(JSONObject([
            ("problem", .string(kind.rawValue)), ("severity", .string(isProblem ? "error" : "warning")),
            ("package", package.map { .string($0) } ?? .null), ("revision", .string(revision)), ("key", .string(key)),
            ("detail", .string(detail)),
        ]))
    }

    init?(json value: JSONValue) {
        guard case .object(let o) = value, let kind = o["problem"]?.stringValue.flatMap(Kind.init(rawValue:)),
              let revision = o["revision"]?.stringValue, let key = o["key"]?.stringValue,
              let detail = o["detail"]?.stringValue else { return nil }
        self.init(kind: kind, package: o["package"]?.stringValue, revision: revision, key: key, detail: detail)
    }
}

/// Why fsck or gc cannot go on.
public enum CareError: QuiltError {
    /// gc found pointers it cannot read: what they name cannot be kept for sure.
    case corruptPointers([String])
    /// gc cannot read a manifest it keeps, so it cannot know what that manifest references.
    case unreadableManifest(topHash: String, reason: String)
    /// A checkpoint that does not agree with the files beside it.
    case badCheckpoint(path: String, reason: String)

    public var kind: FailureKind { .operationFailed }
    public var message: String {
        switch self {
        case .corruptPointers(let keys):
            let which = keys.count == 1 ? "a pointer holds no top hash, \(quoted(keys[0]))"
                : "\(keys.count) pointers hold no top hash, first \(quoted(keys[0]))"
            return "cannot collect garbage: \(which); what it names might be deleted"
        case .unreadableManifest(let topHash, let reason):
            return "cannot collect garbage: manifest \(topHash) cannot be read (\(reason)), so what it references is unknown"
        case .badCheckpoint(let path, let reason):
            return "the checkpoint \(quoted(path)) cannot be used: \(reason)"
        }
    }
    public var hint: String? {
        switch self {
        case .corruptPointers, .unreadableManifest: return "run 'quilt fsck' and repair the registry first"
        case .badCheckpoint: return "check the registry from the start, without resuming"
        }
    }
}

/// Keys of this registry's storage for physical keys, and URLs for its keys: what gc compares a manifest's
/// references with, and how both commands name what they found.
struct RegistryKeys: Sendable {
    private enum Root: Sendable {
        /// The root directory as given and as resolved (unbundle records resolved paths), each ending in `/`.
        case local([String])
        case s3(bucket: String, base: String)
    }
    private let root: Root

    init(_ registry: Registry) {
        switch registry.storage.location {
        case .directory(let path):
            var roots = [path.hasSuffix("/") ? path : path + "/"]
            if let real = try? FileSystem.realPath(path), !roots.contains(real + "/") { roots.append(real + "/") }
            root = .local(roots)
        case .bucket(let bucket, let prefix):
            root = .s3(bucket: bucket, base: prefix.isEmpty ? "" : prefix + "/")
        }
    }

    /// The storage key (and version) `key` names, when it is an object of this registry; nil otherwise.
    func storageKey(of key: PhysicalKey) -> (key: String, versionId: String?)? {
        switch (root, key) {
        case (.local(let roots), .local(let path)):
            for root in roots where path.utf8.starts(with: root.utf8) {
                return (String(decoding: path.utf8.dropFirst(root.utf8.count), as: UTF8.self), nil)
            }
            return nil
        case (.s3(let bucket, let base), .s3(let b, let k, let v)):
            guard b == bucket, k.utf8.starts(with: base.utf8) else { return nil }
            return (String(decoding: k.utf8.dropFirst(base.utf8.count), as: UTF8.self), v)
        default:
            return nil
        }
    }

    /// The URL of this registry's `key` (at `versionId`), as a physical key is written.
    func url(_ key: String, versionId: String? = nil) -> String {
        switch root {
        case .local(let roots): return PhysicalKey.local(path: roots[0] + key).url
        case .s3(let bucket, let base): return PhysicalKey.s3(bucket: bucket, key: base + key, versionId: versionId).url
        }
    }
}

extension Registry {
    /// One pointer of a registry-wide listing.
    struct PointerRecord: Sendable {
        var package: String
        var pointer: String
        var key: String
        /// nil when the pointer holds no top hash.
        var topHash: String?
    }

    /// Every pointer of the packages `names` (every package when nil), in key order, read several at a time. A
    /// name given that has no pointers is `noSuchPackage`.
    func allPointers(names: [String]?) throws -> [PointerRecord] {
        var keys: [String] = []
        if let names {
            for name in names {
                try PackageName.validate(name)
                let prefix = Self.pointersPrefix + name + "/"
                let found = try storage.list(prefix: prefix).filter { !$0.dropFirst(prefix.count).contains("/") }
                if found.isEmpty { throw RegistryError.noSuchPackage(name, registry: url) }
                keys += found
            }
        } else {
            keys = try storage.list(prefix: Self.pointersPrefix).filter {
                $0.dropFirst(Self.pointersPrefix.count).split(separator: "/", omittingEmptySubsequences: false).count == 3
            }
        }
        let hashes = try readPointers(keys)
        var records: [PointerRecord] = []
        records.reserveCapacity(keys.count)
        for (i, key) in keys.enumerated() {
            guard let hash = hashes[i] else { continue }
            let parts = key.dropFirst(Self.pointersPrefix.count).split(separator: "/", omittingEmptySubsequences: false)
            records.append(PointerRecord(package: parts[0] + "/" + parts[1], pointer: String(parts[2]), key: key, topHash: hash))
        }
        return records
    }
}

/// A byte string as hex: sorting keys by their hex gives the order of their bytes, and hex never holds the `/`
/// that the spool's tree order ranks first, nor the `.` used to end a key in a sort key.
func hexKey(_ text: String) -> String { Hex.encode(Array(text.utf8)) }
