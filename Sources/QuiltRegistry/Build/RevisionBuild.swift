// The one build path. Every new revision — `quilt build` and `quilt push` of a directory, `--set`, `--rm` and
// `--from`, `quilt-write-manifest`'s entry streams, a bundle's manifest — is a base revision read as a stream in
// tree order (never loaded), minus the keys removed from it, merged with the entries added, which wait sorted in
// a spool; the merged lines go to the one writer. Entries whose data still needs work (a hash, an upload) are
// completed a batch at a time on their way to it. Memory is the spool's budget and a few blocks, however large
// the base or the additions.
import QuiltSupport
import QuiltFormat
import QuiltStorage
#if canImport(Glibc)
import Glibc
#endif

/// A revision about to be written.
final class RevisionBuild {
    /// The revision it starts from, if any.
    let base: (registry: Registry, topHash: String)?
    /// Logical keys (or directory keys, without their `/`) taken out of the base, in the order given.
    let removals: [String]
    /// The removals as given (for messages).
    private let removalTexts: [String]
    /// The entries added (the last added wins over an earlier one with the same key, and over the base's).
    let additions: EntrySpool
    /// The package `user_meta` to set; nil keeps the base's (or, without a base, leaves none).
    let packageMeta: JSONValue?
    /// Directory metadata set, in order, after the removals: each replaces any line of its key.
    let directoryEdits: [(key: String, meta: JSONValue)]
    /// `user_meta` set on entries of the base, by logical key (`pkg[lk].set_meta(…)`); each must name one.
    let entryMeta: [[UInt8]: JSONValue]

    init(base: (registry: Registry, topHash: String)?, removals: [String] = [], additions: EntrySpool,
         packageMeta: JSONValue? = nil, directoryEdits: [(key: String, meta: JSONValue)] = [],
         entryMeta: [[UInt8]: JSONValue] = [:]) {
        self.entryMeta = entryMeta
        self.base = base
        removalTexts = removals
        self.removals = removals.map { key in
            var trimmed = key
            while trimmed.hasSuffix("/") { trimmed.removeLast() }
            return trimmed
        }
        self.additions = additions
        self.packageMeta = packageMeta
        self.directoryEdits = directoryEdits
    }

    /// Runs `body` with the base read in tree order (nil without one). `body` may run again from the start on a
    /// sorted copy of a base stored out of tree order (see `Registry.readManifest`).
    func readBase<R>(_ body: (StoredManifest?) throws -> R) throws -> R {
        guard let base else { return try body(nil) }
        return try base.registry.readManifest(base.topHash) { try body($0) }
    }

    /// The header: the base's (or `{"version": "v0"}`) with the package metadata set. The workflow stamp and the
    /// message are the caller's to add.
    func header(_ base: StoredManifest?) -> JSONObject {
        var header = base?.header ?? JSONObject([("version", .string("v0"))])
        if let packageMeta { header["user_meta"] = packageMeta }
        return header
    }

    /// The directory metadata lines: the base's, less those below a removed key, with the edits applied.
    func directories(_ base: StoredManifest?) -> [(key: String, meta: JSONValue)] {
        var list = base?.directoryMeta ?? []
        for key in removals {
            let prefix = key + "/"
            list.removeAll { $0.key.hasBytePrefix(prefix) }
        }
        for (key, meta) in directoryEdits {
            list.removeAll { $0.key.isIdentical(to: key) }
            list.append((key, meta))
        }
        return list
    }

    /// Every file line of the revision, in tree order: the additions' lines as the spool keeps them, the base's
    /// (less what a removal takes) normalized to the writer's form, each checked where the two sources meet (a
    /// file where a directory is) and against the directory lines (no file where one says a directory is). A
    /// removal that takes nothing from the base is refused at the end, before anything can have been committed.
    func forEachLine(_ base: StoredManifest?, directories: [(key: String, meta: JSONValue)],
                     _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var matched = [Bool](repeating: false, count: removals.count)
        var metaUnmatched = Set(entryMeta.keys)
        let removalKeys = removals.map { Array($0.utf8) }
        let directoryPaths = Manifest.directoryPaths(directories)
        var normalized: [UInt8] = []
        normalized.reserveCapacity(4096)

        /// Whether a removal takes `key` (marking every removal that does).
        func removed(_ key: UnsafeRawBufferPointer) -> Bool {
            var taken = false
            for (i, removal) in removalKeys.enumerated() where key.count >= removal.count {
                guard removal.isEmpty || memcmp(key.baseAddress!, removal, removal.count) == 0 else { continue }
                if key.count == removal.count || key[removal.count] == UInt8(ascii: "/") {
                    matched[i] = true
                    taken = true
                }
            }
            return taken
        }
        /// The base's next entry that no removal takes.
        func nextBase() throws -> ManifestStream.RawEntry? {
            while let raw = try base?.nextLine() {
                if removalKeys.isEmpty || !removed(raw.key) { return raw }
            }
            return nil
        }
        // The sizes are summed as the readers sum them: a revision they would refuse (past 2^63-1 bytes, from an
        // entry stream's sizes) is not written.
        var total = 0
        // Each source checks its own neighbours (the spool as it sorts, the base as it streams); where they meet,
        // a key must not be a file that the other source's next key lies below: tree order puts every key below
        // `f/` right after `f`, so the other's head is the only key to look at (equal keys are a replacement).
        func emit(_ line: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer, other: UnsafeRawBufferPointer?,
                  size: Int? = nil) throws {
            let size = try size ?? ManifestLine.renderedSize(line) ?? ManifestStream.RawEntry(line: line, key: key).size
            let (sum, overflow) = total.addingReportingOverflow(max(0, size))
            if overflow { throw ManifestError.sizeOverflow(logicalKey: String(decoding: key, as: UTF8.self)) }
            total = sum
            if let other, other.count > key.count, other[key.count] == UInt8(ascii: "/"),
               key.isEmpty || memcmp(key.baseAddress!, other.baseAddress!, key.count) == 0 {
                throw ManifestError.logicalKeyCollision(file: String(decoding: key, as: UTF8.self),
                                                        directory: String(decoding: other, as: UTF8.self))
            }
            if !directoryPaths.isEmpty {
                let file = String(decoding: key, as: UTF8.self)
                if let directory = directoryPaths[ExactString(file)] {
                    throw ManifestError.logicalKeyCollision(file: file, directory: directory)
                }
            }
            try body(line)
        }
        func emitBase(_ raw: ManifestStream.RawEntry, other: UnsafeRawBufferPointer?) throws {
            normalized.removeAll(keepingCapacity: true)
            if !entryMeta.isEmpty, let meta = entryMeta[Array(raw.key)] {
                guard case .entry(var entry) = try ManifestLine.parse(raw.line, lineNumber: 0, rules: .manifest) else { return }
                entry.userMeta = meta
                metaUnmatched.remove(Array(raw.key))
                ManifestLine.appendEntry(entry, to: &normalized)
                return try normalized.withUnsafeBytes { try emit($0, key: raw.key, other: other, size: raw.size) }
            }
            if ManifestLine.appendNormalized(raw.line, to: &normalized) == nil {
                guard case .entry(let entry) = try ManifestLine.parse(raw.line, lineNumber: 0, rules: .manifest) else { return }
                ManifestLine.appendEntry(entry, to: &normalized)
            }
            try normalized.withUnsafeBytes { try emit($0, key: raw.key, other: other, size: raw.size) }
        }

        var added = try additions.sortedLines()
        var addition = try added.next()
        var baseLine = try nextBase()
        while true {
            switch (addition, baseLine) {
            case (nil, nil):
                if let unmatched = matched.firstIndex(of: false) { throw BuildError.noSuchEntry(removalTexts[unmatched]) }
                if let key = metaUnmatched.min(by: { a, b in
                    a.withUnsafeBufferPointer { l in b.withUnsafeBufferPointer { r in LogicalKey.precedes(l, r) } }
                }) {
                    throw BuildError.entryMetaNamesNoEntry(String(decoding: key, as: UTF8.self))
                }
                return
            case (let a?, nil):
                try emit(a.line, key: a.key, other: nil)
                addition = try added.next()
            case (nil, let b?):
                try emitBase(b, other: nil)
                baseLine = try nextBase()
            case (let a?, let b?):
                if a.key.hasSameBytes(as: b.key) {
                    // The addition replaces the base's entry.
                    try emit(a.line, key: a.key, other: nil)
                    addition = try added.next()
                    baseLine = try nextBase()
                } else if LogicalKey.precedes(a.key.assumingMemoryBound(to: UInt8.self), b.key.assumingMemoryBound(to: UInt8.self)) {
                    try emit(a.line, key: a.key, other: b.key)
                    addition = try added.next()
                } else {
                    try emitBase(b, other: a.key)
                    baseLine = try nextBase()
                }
            }
        }
    }

    /// Goes through the whole revision without writing it: what refuses a removal of nothing, a duplicate or a
    /// collision before anything is read or written where a failure half-way would cost (hashing, standard output).
    func check() throws {
        try readBase { base in try forEachLine(base, directories: directories(base)) { _ in } }
    }

    /// What a workflow's `entries_schema` sees: one `{logical_key, size, meta}` per file in tree order, `meta`
    /// being the entry's user_meta or {} (held whole: the schema validates one array).
    func entriesForValidation() throws -> JSONValue {
        try readBase { base in
            var entries: [JSONValue] = []
            try forEachLine(base, directories: directories(base)) { line in
                guard case .entry(let entry) = try ManifestLine.parse(line, lineNumber: 0, rules: .entryStream) else { return }
                entries.append(.object(JSONObject([
                    ("logical_key", .string(entry.logicalKey)), ("size", .int(entry.size)),
                    ("meta", entry.userMeta ?? .object(JSONObject())),
                ])))
            }
            return .array(entries)
        }
    }

    /// Where a revision's manifest goes.
    enum Output {
        /// Nowhere: only the top hash is computed (`--check`).
        case nothing
        /// A staged object of this storage, to be committed by the caller under the top hash.
        case staged(any Storage)
        /// A stream (standard output), written through as the lines come.
        case stream((UnsafeRawBufferPointer) throws -> Void)
    }

    /// Writes the revision with `writer` to `output`, `finishHeader` adding the stamp and the message. Lines whose
    /// entry `completion` says needs work are completed by it a batch at a time. Returns the top hash and, for
    /// `.staged`, the staged object, still to be committed (a base read again from a sorted copy starts a new one;
    /// the first is dropped).
    func write(with writer: ManifestWriter, finishHeader: (inout JSONObject) throws -> Void,
               completion: LineCompletion? = nil, to output: Output) throws -> (topHash: String, staged: (any StagedObject)?) {
        try readBase { base in
            var header = header(base)
            try finishHeader(&header)
            let directories = directories(base)
            var staged: (any StagedObject)?
            let sink: (UnsafeRawBufferPointer) throws -> Void
            switch output {
            case .nothing:
                sink = { _ in }
            case .staged(let storage):
                let object = try storage.stage()
                staged = object
                sink = { try object.write($0) }
            case .stream(let stream):
                sink = stream
            }
            let topHash = try writer.write(header: header, directories: directories, lines: { emit in
                guard let completion else {
                    return try forEachLine(base, directories: directories, emit)
                }
                try withoutActuallyEscaping(emit) { emit in
                    var lines = CompletingLines(completion: completion, emit: emit)
                    try forEachLine(base, directories: directories) { try lines.add($0) }
                    try lines.flush()
                }
            }, to: sink)
            return (topHash, staged)
        }
    }
}

/// Which lines need work before they can be written, and the work, done on a batch of their entries (in place:
/// hashes, sizes, new physical keys; never their logical keys).
struct LineCompletion {
    var needsWork: (UnsafeRawBufferPointer) -> Bool
    var complete: (inout [ManifestEntry]) throws -> Void

    /// Entries whose hash is missing (their line says `"hash": null`) get one.
    static func missingHashes(_ complete: @escaping (inout [ManifestEntry]) throws -> Void) -> LineCompletion {
        LineCompletion(needsWork: { WriterFormLine($0) == nil }, complete: complete)
    }

    /// Every entry (a push decides for each whether its data moves).
    static func everyEntry(_ complete: @escaping (inout [ManifestEntry]) throws -> Void) -> LineCompletion {
        LineCompletion(needsWork: { _ in true }, complete: complete)
    }
}

/// Lines on their way to a writer, in order; those that need work wait, with the lines after them, until a
/// batch is full, and are then completed together.
struct CompletingLines {
    let completion: LineCompletion
    let emit: (UnsafeRawBufferPointer) throws -> Void
    private var held: [UInt8] = []
    /// Per line held: its range in `held`, or (lowerBound -1) the index of its entry in `pending`.
    private var order: [(start: Int, end: Int)] = []
    private var pending: [ManifestEntry] = []
    private var line: [UInt8] = []

    static let batchEntries = 4096
    static let batchBytes = 16 << 20

    init(completion: LineCompletion, emit: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.completion = completion
        self.emit = emit
    }

    mutating func add(_ line: UnsafeRawBufferPointer) throws {
        let work = completion.needsWork(line)
        if !work && order.isEmpty { return try emit(line) }
        if work {
            guard case .entry(let entry) = try ManifestLine.parse(line, lineNumber: 0, rules: .entryStream) else { return }
            order.append((-1, pending.count))
            pending.append(entry)
        } else {
            order.append((held.count, held.count + line.count))
            held.append(contentsOf: line)
        }
        if pending.count >= Self.batchEntries || held.count >= Self.batchBytes { try flush() }
    }

    mutating func flush() throws {
        guard !order.isEmpty else { return }
        if !pending.isEmpty { try completion.complete(&pending) }
        for item in order {
            if item.start < 0 {
                line.removeAll(keepingCapacity: true)
                ManifestLine.appendEntry(pending[item.end], to: &line)
                try line.withUnsafeBytes { try emit($0) }
            } else {
                try held.withUnsafeBytes { try emit(UnsafeRawBufferPointer(rebasing: $0[item.start..<item.end])) }
            }
        }
        held.removeAll(keepingCapacity: true)
        order.removeAll(keepingCapacity: true)
        pending.removeAll(keepingCapacity: true)
    }
}
