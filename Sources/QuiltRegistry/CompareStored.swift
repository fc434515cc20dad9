// Comparing stored revisions without loading them: two manifests, or a manifest and a directory listing, read
// side by side in tree order (a merge join), each manifest checked against its name when it has been read.
import QuiltSupport
import QuiltFormat

extension ManifestDiff {
    /// quilt3's `pkg.diff` from the revision `old` to `new`, both in `registry`: entries are read in tree order
    /// side by side, so memory holds the differences, not the manifests. Each manifest is checked against its
    /// name once read (a mismatch throws; nothing has been returned yet).
    public init(registry: Registry, from old: String, to new: String) throws {
        do {
            let before = RawReadAhead(try registry.openManifest(old))
            let after = RawReadAhead(try registry.openManifest(new))
            self = try Self.merge(before, after)
            try registry.verify(before.stream, as: old)
            try registry.verify(after.stream, as: new)
        } catch is NotInTreeOrder {
            // A manifest stored out of tree order: both are sorted in spools (and checked) first.
            self = try Self.merge(SpoolLines(try registry.checkedSpooledManifest(old)),
                                  SpoolLines(try registry.checkedSpooledManifest(new)))
        }
    }

    /// The differences of two tree-ordered sequences of entry lines: `deleted` and `modified` in tree order,
    /// `added` sorted by code point (quilt3's `sorted` of the keys left over). Lines are compared as bytes
    /// where both are in the writer's form, and parsed only where those bytes differ.
    static func merge(_ old: RawEntrySource, _ new: RawEntrySource) throws -> ManifestDiff {
        var diff = ManifestDiff(added: [], modified: [], deleted: [])
        var a = try old.next(), b = try new.next()
        while true {
            switch (a, b) {
            case (nil, nil):
                diff.added.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                return diff
            case (let x?, let y?):
                if x.key.elementsEqual(y.key) {
                    if try !sameContent(x, y) { diff.modified.append(String(decoding: x.key, as: UTF8.self)) }
                    a = try old.next()
                    b = try new.next()
                } else if LogicalKey.precedes(x.key.assumingMemoryBound(to: UInt8.self), y.key.assumingMemoryBound(to: UInt8.self)) {
                    diff.deleted.append(String(decoding: x.key, as: UTF8.self))
                    a = try old.next()
                } else {
                    diff.added.append(String(decoding: y.key, as: UTF8.self))
                    b = try new.next()
                }
            case (let x?, nil):
                diff.deleted.append(String(decoding: x.key, as: UTF8.self))
                a = try old.next()
            case (nil, let y?):
                diff.added.append(String(decoding: y.key, as: UTF8.self))
                b = try new.next()
            }
        }
    }

    /// quilt3's entry equality: size, hash and meta (as values: `1 == 1.0`, keys in any order).
    static func sameContent(_ x: RawLine, _ y: RawLine) throws -> Bool {
        if let cx = x.contentStart, let cy = y.contentStart,
           UnsafeRawBufferPointer(rebasing: x.line[cx...]).elementsEqual(UnsafeRawBufferPointer(rebasing: y.line[cy...])) {
            return true
        }
        guard case .entry(let first) = try ManifestReader.parseLine(x.line, lineNumber: 0),
              case .entry(let second) = try ManifestReader.parseLine(y.line, lineNumber: 0) else { return false }
        return first.size == second.size && first.hash == second.hash && first.meta == second.meta
    }

    /// Convenience for callers holding two manifests already: `init(from:to:)`.
    public init(added: [String], modified: [String], deleted: [String]) {
        self.added = added
        self.modified = modified
        self.deleted = deleted
    }
}

extension Registry {
    /// A manifest read into a spool and checked against its name: for manifests stored out of tree order.
    func checkedSpooledManifest(_ topHash: String) throws -> SpooledManifest {
        let spooled = try spooledManifest(topHash)
        let actual = try writer.topHash(of: spooled)
        guard actual == topHash else { throw RegistryError.corruptManifest(topHash: topHash, actual: actual) }
        return spooled
    }

    /// The entries of a manifest sorted in a spool, checked against its name first.
    func checkedSortedEntries(_ topHash: String) throws -> TreeOrderEntries {
        try TreeOrderEntries(spooled: checkedSpooledManifest(topHash))
    }
}

extension VerifyReport {
    /// Files of the directory are hashed this many at a time.
    static let hashBatch = 4096

    /// quilt3's `pkg.verify(dir)` against the stored revision `topHash`: the directory's files (listed in tree
    /// order) and the revision's entries (read in tree order) are merged, and files whose size matches are hashed
    /// a batch at a time. The manifest is checked against its name once read.
    public init(registry: Registry, topHash: String, directory: String, progress: ProgressHandler? = nil) throws {
        let files = try DirectoryScanner.scanAll(directory)
        do {
            let entries = try registry.checkedEntriesInTreeOrder(topHash)
            try self.init(entries: entries, files: files, progress: progress)
            try registry.finish(entries, as: topHash)
        } catch is NotInTreeOrder {
            try self.init(entries: try registry.checkedSortedEntries(topHash), files: files, progress: progress)
        }
    }

    init(entries: TreeOrderEntries, files: [DirectoryScanner.File], progress: ProgressHandler?) throws {
        var batch: [(key: String, path: String, type: HashType, expected: ObjectHash)] = []
        var counted = BatchProgress(progress)
        func hashBatch() throws {
            for type in HashType.allCases {
                let group = batch.filter { $0.type == type }
                guard !group.isEmpty else { continue }
                let results = try EntryHasher.hashFiles(group.map(\.path), type: type, progress: counted.handler(total: group.count))
                counted.finishBatch(files: group.count, bytes: results.reduce(0) { $0 + $1.size })
                for (item, result) in zip(group, results) where result.hash.value != item.expected.value {
                    modified.append(item.key)
                }
            }
            batch.removeAll(keepingCapacity: true)
        }
        var next = 0
        while let entry = try entries.next() {
            while next < files.count && LogicalKey.precedes(files[next].relativePath, entry.logicalKey) {
                extra.append(files[next].relativePath)
                next += 1
            }
            guard next < files.count, files[next].relativePath.isIdentical(to: entry.logicalKey) else {
                missing.append(entry.logicalKey)
                continue
            }
            let file = files[next]
            next += 1
            guard let hash = entry.hash, let type = hash.hashType else {
                throw HashError.unsupportedType(entry.hash?.type ?? "none")
            }
            if file.size != entry.size {
                modified.append(entry.logicalKey)
            } else {
                batch.append((entry.logicalKey, file.realPath, type, hash))
                if batch.count >= Self.hashBatch { try hashBatch() }
            }
        }
        while next < files.count {
            extra.append(files[next].relativePath)
            next += 1
        }
        try hashBatch()
        modified.sort { LogicalKey.precedes($0, $1) }
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
