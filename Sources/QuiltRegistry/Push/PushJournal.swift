// The journal of a push, so an interrupted push can be run again and send only what is missing: finished uploads
// (source → object version and hash) and open multipart uploads with their finished parts. One JSON record a line
// in `<data dir>/journal/`, removed when the push has published its revision.
import QuiltSupport
import QuiltFormat

/// What a journal knows about one upload's source: the same path, size and modification time mean the same
/// bytes (the same test rsync and make use).
public struct SourceIdentity: Sendable, Equatable {
    public var path: String
    public var size: Int
    public var mtime: Int

    public init?(path: String) {
        guard let identity = FileSystem.identity(path) else { return nil }
        self.path = path
        size = identity.size
        mtime = identity.mtime
    }

    init(path: String, size: Int, mtime: Int) {
        self.path = path
        self.size = size
        self.mtime = mtime
    }
}

public final class PushJournal: Sendable {
    public struct Completed: Sendable {
        public var source: SourceIdentity
        public var versionId: String?
        public var hash: ObjectHash
    }

    public struct OpenUpload: Sendable {
        public var source: SourceIdentity
        public var uploadId: String
        /// Part number → (ETag, S3 checksum, SHA-256 digest of the part).
        public var parts: [Int: (etag: String, checksum: String?, digest: [UInt8])]
    }

    struct State: Sendable {
        var completed: [String: Completed] = [:]
        var open: [String: OpenUpload] = [:]
        /// Uploads started or resumed by this run (the others are abandoned).
        var touched: Set<String> = []
    }

    public let path: String
    private let file: AppendOnlyFile
    private let state: Locked<State>

    /// Opens (or creates) the journal of pushing `name` to `bucket`, below `directory`.
    public init(directory: String, bucket: String, name: String) throws {
        let id = Hex.encode(SHA256Hasher.digest(Array("\(bucket)/\(name)".utf8))).prefix(24)
        path = directory + "/push-\(id).jsonl"
        var loaded = State()
        if let bytes = try? FileSystem.readFile(path) {
            PushJournal.replay(bytes, into: &loaded)
        }
        state = Locked(loaded)
        file = try AppendOnlyFile(path: path)
    }

    static func slot(_ bucket: String, _ key: String) -> String { bucket + "\u{0}" + key }

    /// Reads the records; a torn or unknown line (a crash mid-write) is skipped.
    static func replay(_ bytes: [UInt8], into state: inout State) {
        for line in bytes.split(separator: 0x0A) {
            guard case .object(let r)? = try? JSONParser.parse(Array(line)), let op = r["op"]?.stringValue else { continue }
            switch op {
            case "done":
                guard let bucket = r["bucket"]?.stringValue, let key = r["key"]?.stringValue, let source = source(r),
                      let type = r["hash_type"]?.stringValue, let value = r["hash"]?.stringValue else { continue }
                state.completed[slot(bucket, key)] = Completed(source: source, versionId: r["version"]?.stringValue,
                                                               hash: ObjectHash(type: type, value: value))
                state.open[slot(bucket, key)] = nil
            case "start":
                guard let bucket = r["bucket"]?.stringValue, let key = r["key"]?.stringValue, let source = source(r),
                      let upload = r["upload"]?.stringValue else { continue }
                state.open[slot(bucket, key)] = OpenUpload(source: source, uploadId: upload, parts: [:])
            case "part":
                guard let bucket = r["bucket"]?.stringValue, let key = r["key"]?.stringValue,
                      let upload = r["upload"]?.stringValue, let n = r["n"]?.intValue, let etag = r["etag"]?.stringValue,
                      let digest = r["digest"]?.stringValue.flatMap(Hex.decode),
                      state.open[slot(bucket, key)]?.uploadId == upload else { continue }
                state.open[slot(bucket, key)]?.parts[n] = (etag, r["checksum"]?.stringValue, digest)
            case "aborted":
                guard let bucket = r["bucket"]?.stringValue, let key = r["key"]?.stringValue else { continue }
                state.open[slot(bucket, key)] = nil
            default:
                continue
            }
        }
    }

    static func source(_ r: JSONObject) -> SourceIdentity? {
        guard let path = r["src"]?.stringValue, let size = r["size"]?.intValue, let mtime = r["mtime"]?.intValue else { return nil }
        return SourceIdentity(path: path, size: size, mtime: mtime)
    }

    private func write(_ pairs: [(String, JSONValue)]) throws {
        var line: [UInt8] = []
        JSONWriter.writeCanonicalForm(.object(JSONObject(pairs)), to: &line)
        line.append(0x0A)
        try file.append(line)
    }

    private static func sourcePairs(_ source: SourceIdentity) -> [(String, JSONValue)] {
        [("src", .string(source.path)), ("size", .int(source.size)), ("mtime", .int(source.mtime))]
    }

    /// A finished upload of exactly this source to `bucket/key`, if the journal has one.
    public func completed(bucket: String, key: String, source: SourceIdentity) -> Completed? {
        state.withLock { s in
            guard let done = s.completed[Self.slot(bucket, key)], done.source == source else { return nil }
            return done
        }
    }

    public func recordCompleted(bucket: String, key: String, source: SourceIdentity, versionId: String?, hash: ObjectHash) throws {
        state.withLock { s in
            s.completed[Self.slot(bucket, key)] = Completed(source: source, versionId: versionId, hash: hash)
            s.open[Self.slot(bucket, key)] = nil
        }
        try write([("op", .string("done")), ("bucket", .string(bucket)), ("key", .string(key)),
                   ("version", versionId.map { .string($0) } ?? .null), ("hash_type", .string(hash.type)),
                   ("hash", .string(hash.value))] + Self.sourcePairs(source))
    }

    /// The open multipart upload of this source to `bucket/key`, if any; marks it as in use by this run.
    public func openUpload(bucket: String, key: String, source: SourceIdentity) -> OpenUpload? {
        state.withLock { s in
            guard let open = s.open[Self.slot(bucket, key)], open.source == source else { return nil }
            s.touched.insert(Self.slot(bucket, key))
            return open
        }
    }

    public func recordStarted(bucket: String, key: String, source: SourceIdentity, uploadId: String) throws {
        state.withLock { s in
            s.open[Self.slot(bucket, key)] = OpenUpload(source: source, uploadId: uploadId, parts: [:])
            s.touched.insert(Self.slot(bucket, key))
        }
        try write([("op", .string("start")), ("bucket", .string(bucket)), ("key", .string(key)),
                   ("upload", .string(uploadId))] + Self.sourcePairs(source))
    }

    public func recordPart(bucket: String, key: String, uploadId: String, number: Int, etag: String, checksum: String?,
                           digest: [UInt8]) throws {
        state.withLock { s in
            if s.open[Self.slot(bucket, key)]?.uploadId == uploadId {
                s.open[Self.slot(bucket, key)]?.parts[number] = (etag, checksum, digest)
            }
        }
        try write([("op", .string("part")), ("bucket", .string(bucket)), ("key", .string(key)), ("upload", .string(uploadId)),
                   ("n", .int(number)), ("etag", .string(etag)), ("checksum", checksum.map { .string($0) } ?? .null),
                   ("digest", .string(Hex.encode(digest)))])
    }

    /// Multipart uploads the journal knows that this run has not taken over: to be aborted.
    public func abandonedUploads() -> [(bucket: String, key: String, uploadId: String)] {
        state.withLock { s in
            s.open.filter { !s.touched.contains($0.key) }.map { slot, open in
                let parts = slot.split(separator: "\u{0}", maxSplits: 1, omittingEmptySubsequences: false)
                return (String(parts[0]), String(parts[1]), open.uploadId)
            }
        }
    }

    public func recordAborted(bucket: String, key: String) throws {
        state.withLock { $0.open[Self.slot(bucket, key)] = nil }
        try write([("op", .string("aborted")), ("bucket", .string(bucket)), ("key", .string(key))])
    }

    /// The push published its revision: nothing is left to resume.
    public func remove() {
        try? FileSystem.removeFile(path)
    }
}
