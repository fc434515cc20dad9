// The journal of a push, so an interrupted push can be run again and send only what is missing: finished uploads
// (source → object version and hash) and open multipart uploads with their finished parts. One JSON record a line
// in `<data dir>/journal/`, removed when the push has published its revision.
import QuiltSupport
import QuiltFormat

/// What a journal knows about one upload's source: path, size and modification time, which anyone can put back
/// (`touch -d`), and the device, inode and change time, which cannot be put back without changing the clock (the
/// test git and restic use). Records written before the last three were journalled lack them.
public struct SourceIdentity: Sendable, Equatable {
    public var path: String
    public var size: Int
    public var mtime: Int
    public var device: UInt64?
    public var inode: UInt64?
    public var ctime: Int?

    /// The file at `path` as it is now (links followed); nil if nothing is there.
    public init?(path: String) {
        guard let identity = FileSystem.identity(path) else { return nil }
        self.init(path: path, identity)
    }

    /// An open file as it was when opened.
    public init(_ file: InputFile) {
        self.init(path: file.path, file.identity)
    }

    init(path: String, _ identity: FileIdentity) {
        self.init(path: path, size: identity.size, mtime: identity.mtime, device: identity.device, inode: identity.inode,
                  ctime: identity.ctime)
    }

    init(path: String, size: Int, mtime: Int, device: UInt64? = nil, inode: UInt64? = nil, ctime: Int? = nil) {
        self.path = path
        self.size = size
        self.mtime = mtime
        self.device = device
        self.inode = inode
        self.ctime = ctime
    }

    /// How sure a recorded identity (`self`) is to describe the bytes of the source as it is now.
    public enum Match: Sendable, Equatable {
        /// Every field agrees: the same bytes.
        case same
        /// What there is agrees, but the record lacks inode or change time: check the bytes before trusting it.
        case doubtful
        case different
    }

    public func match(_ current: SourceIdentity) -> Match {
        guard path == current.path, size == current.size, mtime == current.mtime else { return .different }
        guard let recorded = fileIdentity, let now = current.fileIdentity else { return .doubtful }
        return recorded.stillDescribes(now) ? .same : .different
    }

    /// The identity, when every field of it was recorded.
    var fileIdentity: FileIdentity? {
        guard let device, let inode, let ctime else { return nil }
        return FileIdentity(device: device, inode: inode, size: size, mtime: mtime, ctime: ctime)
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
        /// Open uploads whose slot a newer upload took (their source changed): abandoned too.
        var replaced: [(slot: String, uploadId: String)] = []

        mutating func start(_ slot: String, _ upload: OpenUpload) {
            if let old = open[slot], old.uploadId != upload.uploadId { replaced.append((slot, old.uploadId)) }
            open[slot] = upload
        }

        /// An `aborted` record without an upload id (older journals) ends whatever upload the slot has.
        mutating func abort(_ slot: String, _ uploadId: String?) {
            if uploadId == nil || open[slot]?.uploadId == uploadId { open[slot] = nil }
            replaced.removeAll { $0.slot == slot && $0.uploadId == uploadId }
        }
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
                state.start(slot(bucket, key), OpenUpload(source: source, uploadId: upload, parts: [:]))
            case "part":
                guard let bucket = r["bucket"]?.stringValue, let key = r["key"]?.stringValue,
                      let upload = r["upload"]?.stringValue, let n = r["n"]?.intValue, let etag = r["etag"]?.stringValue,
                      let digest = r["digest"]?.stringValue.flatMap(Hex.decode),
                      state.open[slot(bucket, key)]?.uploadId == upload else { continue }
                state.open[slot(bucket, key)]?.parts[n] = (etag, r["checksum"]?.stringValue, digest)
            case "aborted":
                guard let bucket = r["bucket"]?.stringValue, let key = r["key"]?.stringValue else { continue }
                state.abort(slot(bucket, key), r["upload"]?.stringValue)
            default:
                continue
            }
        }
    }

    /// A record's source; `dev`, `ino` and `ctime` are missing from older journals' records.
    static func source(_ r: JSONObject) -> SourceIdentity? {
        guard let path = r["src"]?.stringValue, let size = r["size"]?.intValue, let mtime = r["mtime"]?.intValue else { return nil }
        return SourceIdentity(path: path, size: size, mtime: mtime, device: r["dev"]?.stringValue.flatMap { UInt64($0) },
                              inode: r["ino"]?.stringValue.flatMap { UInt64($0) }, ctime: r["ctime"]?.intValue)
    }

    private func write(_ pairs: [(String, JSONValue)]) throws {
        var line: [UInt8] = []
        JSONWriter.writeCanonicalForm(.object(JSONObject(pairs)), to: &line)
        line.append(0x0A)
        try file.append(line)
    }

    /// Device and inode are written as strings: they are unsigned 64-bit numbers.
    private static func sourcePairs(_ source: SourceIdentity) -> [(String, JSONValue)] {
        var pairs: [(String, JSONValue)] = [("src", .string(source.path)), ("size", .int(source.size)), ("mtime", .int(source.mtime))]
        if let device = source.device { pairs.append(("dev", .string(String(device)))) }
        if let inode = source.inode { pairs.append(("ino", .string(String(inode)))) }
        if let ctime = source.ctime { pairs.append(("ctime", .int(ctime))) }
        return pairs
    }

    /// A finished upload to `bucket/key` of a source that may be this one, and how sure that is: with
    /// `.doubtful` the caller checks the hash before reusing it.
    public func completed(bucket: String, key: String, source: SourceIdentity) -> (done: Completed, match: SourceIdentity.Match)? {
        state.withLock { s in
            guard let done = s.completed[Self.slot(bucket, key)] else { return nil }
            let match = done.source.match(source)
            return match == .different ? nil : (done, match)
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

    /// The open multipart upload to `bucket/key` of a source that may be this one, if any; marks it as in use by
    /// this run. Its parts' digests say what was sent, not what the file holds now: the caller reads each part
    /// again and keeps only those that still match.
    public func openUpload(bucket: String, key: String, source: SourceIdentity) -> OpenUpload? {
        state.withLock { s in
            guard let open = s.open[Self.slot(bucket, key)], open.source.match(source) != .different else { return nil }
            s.touched.insert(Self.slot(bucket, key))
            return open
        }
    }

    public func recordStarted(bucket: String, key: String, source: SourceIdentity, uploadId: String) throws {
        state.withLock { s in
            s.start(Self.slot(bucket, key), OpenUpload(source: source, uploadId: uploadId, parts: [:]))
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

    /// Multipart uploads the journal knows that this run has not taken over, or has replaced: to be aborted.
    public func abandonedUploads() -> [(bucket: String, key: String, uploadId: String)] {
        state.withLock { s in
            let untouched = s.open.filter { !s.touched.contains($0.key) }.map { ($0.key, $0.value.uploadId) }
            return (untouched + s.replaced.map { ($0.slot, $0.uploadId) }).map { slot, uploadId in
                let parts = slot.split(separator: "\u{0}", maxSplits: 1, omittingEmptySubsequences: false)
                return (String(parts[0]), String(parts[1]), uploadId)
            }
        }
    }

    public func recordAborted(bucket: String, key: String, uploadId: String) throws {
        state.withLock { $0.abort(Self.slot(bucket, key), uploadId) }
        try write([("op", .string("aborted")), ("bucket", .string(bucket)), ("key", .string(key)), ("upload", .string(uploadId))])
    }

    /// The push published its revision: nothing is left to resume.
    public func remove() {
        try? FileSystem.removeFile(path)
    }
}
