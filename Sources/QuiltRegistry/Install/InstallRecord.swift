// The record `quilt install` and `quilt pull` keep of a directory they wrote: which revision, from where, which
// paths, and for each file what it was (device, inode, size, times) when its bytes were last checked, so that
// `quilt status` can tell an unchanged file by a stat, without opening it.
//
// Where it lives: outside the directory, in `<data dir>/installs/<id>`, the id derived from the directory's real
// path. Inside (as git's `.git`) it would be a file of the directory that is no entry: `quilt verify` and quilt3's
// `verify` would report it as extra, and a `quilt build` or `push` of the directory would take it into the
// package. The cost: it follows no move or copy of the directory (there `quilt status` says the directory is not
// an installed one, and `quilt install` again writes a new record, downloading only what is not in place).
//
// Format: a JSON header line, then one line per file in tree order of its place in the directory:
//
//     <size> <mtime ns> <ctime ns> <device> <inode> <hash type> <hash value> <path>
//
// the path last, with `\` written `\\` and a newline `\n`. Read in one pass, a line at a time, as the directory
// walk and the manifest are; written to a temporary file and renamed into place, so a record is whole or absent.
import QuiltSupport
import QuiltFormat
#if canImport(Glibc)
import Glibc
#endif

/// Which revision a directory holds, and from where.
public struct InstallRecord: Sendable, Equatable {
    /// The directory's real path.
    public var directory: String
    public var name: String
    public var topHash: String
    /// The registry installed from (where `latest` is read by status and pull).
    public var registry: String
    /// The registry the revision was recorded in, which holds its manifest (`--dest-registry`, else local).
    public var manifestRegistry: String
    /// `--path` as given (trailing `/` removed); empty for the whole revision.
    public var paths: [String]
    /// The revision's entries `paths` select, as install or pull read them from the manifest checked against its
    /// top hash; nil in a record written before it was kept (or for a revision with an entry that has no hash).
    public var selected: SelectedEntries?

    public init(directory: String, name: String, topHash: String, registry: String, manifestRegistry: String, paths: [String],
                selected: SelectedEntries? = nil) {
        self.directory = directory
        self.name = name
        self.topHash = topHash
        self.registry = registry
        self.manifestRegistry = manifestRegistry
        self.paths = paths
        self.selected = selected
    }

    static let formatVersion = 1

    var headerLine: [UInt8] {
        var line: [UInt8] = []
        var fields: [(String, JSONValue)] = [
            ("quilt_install_record", .int(Self.formatVersion)), ("directory", .string(directory)), ("name", .string(name)),
            ("top_hash", .string(topHash)), ("registry", .string(registry)),
            ("manifest_registry", .string(manifestRegistry)), ("paths", .array(paths.map { .string($0) })),
        ]
        // A key older readers ignore, so the format stays version 1.
        if let selected {
            fields.append(("selected", .object(JSONObject([("count", .int(selected.count)), ("digest", .string(selected.digest))]))))
        }
        JSONWriter.writeCanonicalForm(.object(JSONObject(fields)), to: &line)
        line.append(0x0A)
        return line
    }

    init(header line: UnsafeRawBufferPointer, file: String) throws {
        guard case .object(let header)? = try? JSONParser.parse(line) else { throw InstallError.damagedRecord(file, line: 1) }
        guard header["quilt_install_record"]?.intValue == Self.formatVersion else {
            throw InstallError.damagedRecord(file, line: 1)
        }
        guard let directory = header["directory"]?.stringValue, let name = header["name"]?.stringValue,
              let topHash = header["top_hash"]?.stringValue, Hex.isTopHash(topHash),
              let registry = header["registry"]?.stringValue, let manifestRegistry = header["manifest_registry"]?.stringValue,
              case .array(let paths)? = header["paths"] else { throw InstallError.damagedRecord(file, line: 1) }
        var selected: SelectedEntries?
        if case .object(let summary)? = header["selected"], let count = summary["count"]?.intValue,
           let digest = summary["digest"]?.stringValue {
            selected = SelectedEntries(count: count, digest: digest)
        }
        self.init(directory: directory, name: name, topHash: topHash, registry: registry, manifestRegistry: manifestRegistry,
                  paths: paths.compactMap(\.stringValue), selected: selected)
    }

    /// The paths selection this record was installed with.
    public var selection: Installer.Selection { Installer.Selection(paths: paths) }
}

/// A revision's selected entries in short, so that a record can stand for the manifest when a directory is as
/// installed (`quilt status` of an unchanged directory then reads neither the manifest nor any file): how many,
/// and a SHA-256 over each one's size, hash and place (`SelectedEntriesDigest`), in tree order of places.
public struct SelectedEntries: Sendable, Equatable {
    public var count: Int
    /// 64 lowercase hex digits.
    public var digest: String

    public init(count: Int, digest: String) {
        self.count = count
        self.digest = digest
    }
}

/// Builds `SelectedEntries`, an entry at a time: from the manifest as install and pull read it, and from the
/// record's lines as status reads them; equal digests mean the same places with the same sizes and hashes.
struct SelectedEntriesDigest {
    private let hasher = SHA256Hasher()
    /// Lines not hashed yet.
    private var pending: [UInt8] = []
    private var count = 0

    /// Adds the entry at `place`; places come in tree order.
    mutating func add(place: String, size: Int, hash: ObjectHash) {
        // The record line's own form without the identity: every field ends at a space, the path is escaped, so
        // no two entries run together alike. Lines are hashed some hundred at a time, not one by one.
        JSONWriter.appendDecimal(UInt64(max(size, 0)), to: &pending)
        pending.append(0x20)
        InstalledFile.appendHashAndPath(hash, place, to: &pending)
        count += 1
        if pending.count >= 1 << 15 { flush() }
    }

    private mutating func flush() {
        pending.withUnsafeBytes { hasher.update($0) }
        pending.removeAll(keepingCapacity: true)
    }

    mutating func finish() -> SelectedEntries {
        flush()
        return SelectedEntries(count: count, digest: Hex.encode(hasher.finalize()))
    }
}

/// One file of an installed directory, as it was when its bytes were last checked: `hash` (of the entry's type)
/// is the hash of the bytes the file held at `identity`.
public struct InstalledFile: Sendable, Equatable {
    /// Its place below the directory, `/`-separated.
    public var path: String
    public var identity: FileIdentity
    public var hash: ObjectHash

    public init(path: String, identity: FileIdentity, hash: ObjectHash) {
        self.path = path
        self.identity = identity
        self.hash = hash
    }

    /// Whether the file, found now at `current`, still holds the bytes of `hash` (`FileIdentity.stillDescribes`,
    /// the push journal's rule too). A record is written only with identities that prove their bytes
    /// (`FileIdentity.isRacy`), so a file written again in the clock tick of the record's stat has a change time
    /// the record does not hold.
    public func isUnchanged(at current: FileIdentity) -> Bool {
        identity.stillDescribes(current)
    }

    func appendLine(to out: inout [UInt8]) {
        // Digits written directly: String(value) for five numbers a line was a tenth of a status's time.
        func number(_ value: UInt64) {
            JSONWriter.appendDecimal(value, to: &out)
            out.append(0x20)
        }
        func number(_ value: Int) { number(UInt64(max(value, 0))) }
        number(identity.size)
        number(identity.mtime)
        number(identity.ctime)
        number(identity.device)
        number(identity.inode)
        Self.appendHashAndPath(hash, path, to: &out)
    }

    /// The end of a line: `<hash type> <hash value> <escaped path>\n`.
    static func appendHashAndPath(_ hash: ObjectHash, _ path: String, to out: inout [UInt8]) {
        out.append(contentsOf: hash.type.utf8)
        out.append(0x20)
        out.append(contentsOf: hash.value.utf8)
        out.append(0x20)
        // Nearly every path has nothing to escape: copied whole, not byte by byte.
        if !path.utf8.contains(where: { $0 == 0x5C || $0 == 0x0A }) {
            out.append(contentsOf: path.utf8)
        } else {
            for byte in path.utf8 {
                switch byte {
                case 0x5C: out.append(0x5C); out.append(0x5C)
                case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
                default: out.append(byte)
                }
            }
        }
        out.append(0x0A)
    }

    /// Parses a line `appendLine` wrote; nil if it is not one.
    init?(line: UnsafeRawBufferPointer) {
        // The fields before the path, found in place, not gathered in an array: a status reads a line per file.
        var start = 0
        func field() -> UnsafeRawBufferPointer? {
            // memchr, not `firstIndex(of:)` on a slice: that was 3.5% of a second status's user time.
            guard start < line.count, let base = line.baseAddress,
                  let hit = memchr(base + start, 0x20, line.count - start) else { return nil }
            let space = base.distance(to: UnsafeRawPointer(hit))
            defer { start = space + 1 }
            return UnsafeRawBufferPointer(rebasing: line[start..<space])
        }
        func integer(_ bytes: UnsafeRawBufferPointer) -> Int? {
            guard !bytes.isEmpty, bytes.count <= 19 else { return nil }
            var value = 0
            for byte in bytes {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        func unsigned(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
            guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
            var value: UInt64 = 0
            for byte in bytes {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                let (times, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times.addingReportingOverflow(UInt64(byte - 0x30))
                if o1 || o2 { return nil }
                value = sum
            }
            return value
        }
        guard let size = field().flatMap(integer), let mtime = field().flatMap(integer), let ctime = field().flatMap(integer),
              let device = field().flatMap(unsigned), let inode = field().flatMap(unsigned),
              let typeBytes = field(), !typeBytes.isEmpty, let valueBytes = field(), !valueBytes.isEmpty,
              start < line.count else { return nil }
        let hash = ObjectHash(type: ObjectHash.typeString(typeBytes), value: String(decoding: valueBytes, as: UTF8.self))
        let identity = FileIdentity(device: device, inode: inode, size: size, mtime: mtime, ctime: ctime)
        let rest = UnsafeRawBufferPointer(rebasing: line[start...])
        // Plain ASCII with no escape (nearly every path) needs no UTF-8 validation.
        if rest.allSatisfy({ $0 < 0x80 && $0 != 0x5C }) {
            self.init(path: String(decoding: rest, as: UTF8.self), identity: identity, hash: hash)
            return
        }
        if !rest.contains(0x5C), let text = String(validating: rest, as: UTF8.self) {
            self.init(path: text, identity: identity, hash: hash)
            return
        }
        var path: [UInt8] = []
        path.reserveCapacity(line.count - start)
        var i = start
        while i < line.count {
            let byte = line[i]
            if byte == 0x5C {
                guard i + 1 < line.count else { return nil }
                switch line[i + 1] {
                case 0x5C: path.append(0x5C)
                case UInt8(ascii: "n"): path.append(0x0A)
                default: return nil
                }
                i += 2
            } else {
                path.append(byte)
                i += 1
            }
        }
        guard let text = String(validating: path, as: UTF8.self) else { return nil }
        self.init(path: text, identity: identity, hash: hash)
    }
}

/// The install records of this machine, in `<data dir>/installs`.
public struct InstallRecords: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    public init(paths: QuiltPaths) { root = paths.dataDirectory + "/installs" }

    /// The record file of the directory whose real path is `directory`.
    public func file(for directory: String) -> String {
        root + "/" + Hex.encode(SHA256Hasher.digest(Array(directory.utf8))).prefix(40)
    }

    /// The record of `directory` (a path as given; its real path names the record), else of the nearest directory
    /// above it that has one, as git finds the repository of a subdirectory. Nil if none has.
    public func find(_ directory: String) throws -> InstallRecordReader? {
        var current: String
        do { current = try FileSystem.realPath(directory) } catch { throw BuildError.notADirectory(directory) }
        guard FileSystem.isDirectory(current) else { throw BuildError.notADirectory(directory) }
        while true {
            let file = self.file(for: current)
            if let reader = try InstallRecordReader(file: file), reader.record.directory == current { return reader }
            if current == "/" || current.isEmpty { return nil }
            current = FileSystem.parent(of: current)
        }
    }

    /// Opens the record of the real path `directory`, if there is one.
    public func open(directory: String) throws -> InstallRecordReader? {
        guard let reader = try InstallRecordReader(file: file(for: directory)), reader.record.directory == directory else { return nil }
        return reader
    }

    /// The lock on `directory`'s record, which install, pull and a status that rewrites the record take (nil with
    /// `wait` false when another holds it).
    public func lock(_ directory: String, wait: Bool) throws -> FileLock? {
        try FileLock(path: file(for: directory) + ".lock", wait: wait)
    }

    /// A writer of `record`'s new version; nothing changes until `commit`.
    public func writer(_ record: InstallRecord) throws -> InstallRecordWriter {
        try FileSystem.makeDirectories(root)
        return try InstallRecordWriter(record, file: file(for: record.directory))
    }
}

/// A record read a file line at a time, in tree order.
public final class InstallRecordReader {
    public let record: InstallRecord
    public let file: String
    /// The record file as opened: a writer that must not replace a newer record checks it is still this one.
    public let identity: FileIdentity
    private let lines: LineReader
    private var lookahead: InstalledFile?
    private var ended = false
    /// File lines read so far.
    public private(set) var linesRead = 0

    /// Nil if there is no record file.
    convenience init?(file: String) throws {
        let input: InputFile
        do { input = try InputFile(path: file) } catch .notFound { return nil }
        try self.init(input)
    }

    /// Reads the record in `input` (a record file, or a new version being written: `InstallRecordWriter.readBack`).
    init(_ input: InputFile) throws {
        let file = input.path
        self.file = file
        identity = input.identity
        var offset = 0
        // 64 KiB, not the manifest reader's 1 MiB: a status reads the record twice (finding it reads only the
        // header), and each fresh buffer is faulted in page by page (a 1 MiB one was 256 page faults a reader).
        lines = LineReader(bufferSize: 1 << 16) { buffer in
            let n = try input.read(into: buffer, at: offset)
            offset += n
            return n
        }
        guard let header = try lines.next() else { throw InstallError.damagedRecord(file, line: 1) }
        record = try InstallRecord(header: header, file: file)
    }

    /// The next file line; nil at the end.
    public func next() throws -> InstalledFile? {
        if let held = lookahead {
            lookahead = nil
            return held
        }
        guard !ended, let line = try lines.next() else {
            ended = true
            return nil
        }
        guard let file = InstalledFile(line: line) else { throw InstallError.damagedRecord(self.file, line: lines.lineNumber) }
        linesRead += 1
        return file
    }

    /// The line for `path`, if the record has one, skipping the lines before it. Calls must come in tree order
    /// of `path`, as a merge join makes them.
    public func line(for path: String) throws -> InstalledFile? {
        try numberedLine(for: path)?.line
    }

    /// `line(for:)` with the line's place among the record's file lines (from 0).
    public func numberedLine(for path: String) throws -> (line: InstalledFile, index: Int)? {
        while let next = try next() {
            if next.path.isIdentical(to: path) { return (next, linesRead - 1) }
            if LogicalKey.precedes(path, next.path) {
                lookahead = next
                return nil
            }
        }
        return nil
    }
}

/// Writes a record: the header, then file lines in tree order, into a temporary file renamed into place by
/// `commit` (with the record's lock held by the caller).
public final class InstallRecordWriter {
    private let writer: AtomicFileWriter
    private var line: [UInt8] = []
    private var last: String?
    public private(set) var files = 0

    init(_ record: InstallRecord, file: String) throws {
        writer = try AtomicFileWriter(destination: file, permissions: 0o600)
        try writer.write(record.headerLine)
    }

    /// Adds a file's line; lines come in tree order of their paths, one per path.
    public func add(_ file: InstalledFile) throws {
        if let last, !LogicalKey.precedes(last, file.path) {
            preconditionFailure("install record lines out of tree order: \(last) then \(file.path)")
        }
        last = file.path
        line.removeAll(keepingCapacity: true)
        file.appendLine(to: &line)
        try writer.write(line)
        files += 1
    }

    /// Adds the lines of files just written (or checked), in tree order, once their identities prove their bytes:
    /// a file whose change time is in the tick of the clock now could be written again in that tick without a
    /// trace (`FileIdentity.isRacy`, git's racily clean entries). So the record waits for the clock to leave the
    /// newest change time's tick (one tick, a few milliseconds, at the end of a batch), then leaves out any line
    /// still not proven (a stamp in the near future): `quilt status` hashes such a file instead.
    public func addPlaced(_ files: [InstalledFile]) throws {
        for file in Self.proven(files) { try add(file) }
    }

    /// `files` (just written or checked) less those whose identities do not prove their bytes, after waiting for
    /// the clock to leave the newest change time's tick (see `addPlaced`).
    public static func proven(_ files: [InstalledFile]) -> [InstalledFile] {
        guard let newest = files.map(\.identity.ctime).max() else { return [] }
        var now = FileSystem.stampClock()
        let deadline = now + FileIdentity.stampTick
        while newest >= now && now < deadline {
            usleep(1000)
            now = FileSystem.stampClock()
        }
        return files.filter { !$0.identity.isRacy(observedAt: now) }
    }

    /// What was written so far, to be read again (a pull reads the directory's refreshed record twice before it
    /// writes the next one; this one is never committed).
    public func readBack() throws -> InstallRecordReader {
        try InstallRecordReader(writer.readBack())
    }

    /// Puts the record in place.
    public func commit() throws { try writer.commit() }

    /// Puts the record in place unless the record file is no longer the one `read` (another install or pull
    /// wrote since, or holds the lock now): then it is dropped, and false returned. For a status that only
    /// refreshes identities, which must never replace a newer revision's record.
    public func commit(replacing read: InstallRecordReader, records: InstallRecords) throws -> Bool {
        guard let lock = try records.lock(read.record.directory, wait: false) else { return false }
        defer { withExtendedLifetime(lock) {} }
        guard FileSystem.identity(read.file) == read.identity else { return false }
        try writer.commit()
        return true
    }
}
