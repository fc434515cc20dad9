// quilt3's `pkg.verify(dir)` against a stored revision: the directory walked in tree order and the revision read
// in tree order, side by side (a merge join); files whose size matches are hashed a batch at a time. Neither the
// listing nor the manifest is held.
import QuiltSupport
import QuiltFormat

public struct VerifyReport: Sendable, Equatable {
    public var missing: [String] = []
    public var modified: [String] = []
    public var extra: [String] = []

    init() {}

    public func ok(extraFilesOK: Bool) -> Bool {
        missing.isEmpty && modified.isEmpty && (extraFilesOK || extra.isEmpty)
    }

    /// Files of the directory are hashed this many at a time.
    static let hashBatch = 4096

    /// Every entry of the revision `topHash` present under `directory` with the same size and the same hash,
    /// recomputed with the entry's own hash type; files not in the package are extra (`.quiltignore` does not
    /// apply: verify looks at everything; names that are not UTF-8 cannot be logical keys and are left out). The
    /// manifest is checked against its name as it is read.
    public init(registry: Registry, topHash: String, directory: String, progress: ProgressHandler? = nil) throws {
        guard FileSystem.isDirectory(directory) else { throw BuildError.notADirectory(directory) }
        self = try registry.readManifest(topHash) { entries in
            try Self.compare(entries, directory: directory, progress: progress)
        }
    }

    /// The one comparison of a directory with a revision (verify, status, pull): the directory walked in tree
    /// order beside the revision's entries that `selection` takes, each at its place (`selection.relativePath`).
    ///
    /// With `known` (an install record, read along in the same order), a file whose identity is the one recorded
    /// is not opened: the recorded hash stands for its bytes (`InstalledFile.isUnchanged`). Every other file
    /// whose size matches is hashed. `record` then gets, in tree order, a line for each file of the revision
    /// whose bytes are known (recorded and unchanged, or hashed now, modified or not): the record's next version;
    /// `origin` is the line's place among `known`'s lines when it is one of them, nil when the file was hashed now.
    static func compare(_ entries: StoredManifest, directory: String, selection: Installer.Selection = Installer.Selection(paths: []),
                        known: InstallRecordReader? = nil, record: ((_ line: InstalledFile, _ origin: Int?) throws -> Void)? = nil,
                        progress: ProgressHandler?) throws -> VerifyReport {
        var report = VerifyReport()
        var batch: [(key: String, path: String, type: HashType, expected: ObjectHash, slot: Int)] = []
        // Lines of the next record in tree order, those of files being hashed filled in once their batch is done.
        var pending: [(line: InstalledFile, origin: Int?)?] = []
        var awaiting = 0
        var counted = BatchProgress(progress)
        func hashHeld() throws {
            for type in HashType.allCases {
                let group = batch.filter { $0.type == type }
                guard !group.isEmpty else { continue }
                let results = try EntryHasher.hashFiles(group.map(\.path), type: type, progress: counted.handler(total: group.count))
                counted.finishBatch(files: group.count, bytes: results.reduce(0) { $0 + $1.size })
                for (item, result) in zip(group, results) {
                    if result.hash.value != item.expected.value { report.modified.append(item.key) }
                    if record != nil { pending[item.slot] = (InstalledFile(path: item.key, identity: result.identity, hash: result.hash), nil) }
                }
            }
            batch.removeAll(keepingCapacity: true)
            awaiting = 0
            if let record {
                for item in pending { if let item { try record(item.line, item.origin) } }
                pending.removeAll(keepingCapacity: true)
            }
        }
        func check(_ entry: ManifestStream.RawEntry, at place: String, against file: DirectoryScanner.File) throws {
            let stored = try ManifestLine.hash(of: entry)
            guard let hash = stored, let type = hash.hashType else { throw HashError.unsupportedType(stored?.type ?? "none") }
            let found = try known?.numberedLine(for: place)
            let line = found?.line
            if file.size != entry.size {
                report.modified.append(place)
                if let record, let found, found.line.isUnchanged(at: file.identity) {
                    if pending.isEmpty { try record(found.line, found.index) } else { pending.append((found.line, found.index)) }
                }
            } else if let found, let line, line.hash.type == hash.type, line.isUnchanged(at: file.identity) {
                // The stat shortcut: the bytes are those the record hashed.
                if line.hash.value != hash.value { report.modified.append(place) }
                if let record {
                    // Nothing waits for a hash before it: passed on now, not held (a status of unchanged files
                    // would otherwise hold 16,384 lines at a time).
                    if pending.isEmpty { try record(line, found.index) } else { pending.append((line, found.index)) }
                }
            } else {
                batch.append((place, file.realPath, type, hash, pending.count))
                if record != nil { pending.append(nil) }
                awaiting += 1
                if awaiting >= hashBatch { try hashHeld() }
            }
            // Lines wait only for their batch: past this many, hash what is held rather than hold more.
            if pending.count >= 4 * hashBatch { try hashHeld() }
        }
        // Entries as their stored lines: only the key, size and hash are needed, read in place (no URL, no meta
        // made into values); the hash only once the file is found.
        let place = selection.placeOfKey
        func nextSelected() throws -> (entry: ManifestStream.RawEntry, place: String)? {
            while let raw = try entries.nextLine() {
                let key = String(decoding: raw.key, as: UTF8.self)
                if selection.contains(logicalKey: key) { return (raw, place(key)) }
            }
            return nil
        }
        var entry = try nextSelected()
        try DirectoryScanner.walkAhead(directory, applyIgnore: false, undecodable: { _ in }) { file in
            while let current = entry, LogicalKey.precedes(current.place, file.relativePath) {
                report.missing.append(current.place)
                entry = try nextSelected()
            }
            guard let current = entry, current.place.isIdentical(to: file.relativePath) else {
                report.extra.append(file.relativePath)
                return
            }
            try check(current.entry, at: current.place, against: file)
            entry = try nextSelected()
        }
        while let current = entry {
            report.missing.append(current.place)
            entry = try nextSelected()
        }
        try hashHeld()
        report.modified.sort { LogicalKey.precedes($0, $1) }
        return report
    }
}

/// Progress of work done in batches, reported as one running count.
struct BatchProgress {
    private let progress: ProgressHandler?
    private var filesBefore = 0, bytesBefore = 0

    init(_ progress: ProgressHandler?) { self.progress = progress }

    /// The handler for the next batch of `total` files.
    func handler(total: Int) -> ProgressHandler? {
        guard let progress else { return nil }
        let (files, bytes) = (filesBefore, bytesBefore)
        return { p in
            progress(Progress(filesDone: files + p.filesDone, filesTotal: files + total, bytesDone: bytes + p.bytesDone,
                              bytesTotal: 0))
        }
    }

    mutating func finishBatch(files: Int, bytes: Int) {
        filesBefore += files
        bytesBefore += bytes
    }
}
