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

    private static func compare(_ entries: StoredManifest, directory: String, progress: ProgressHandler?) throws -> VerifyReport {
        var report = VerifyReport()
        var batch: [(key: String, path: String, type: HashType, expected: ObjectHash)] = []
        var counted = BatchProgress(progress)
        func hashHeld() throws {
            for type in HashType.allCases {
                let group = batch.filter { $0.type == type }
                guard !group.isEmpty else { continue }
                let results = try EntryHasher.hashFiles(group.map(\.path), type: type, progress: counted.handler(total: group.count))
                counted.finishBatch(files: group.count, bytes: results.reduce(0) { $0 + $1.size })
                for (item, result) in zip(group, results) where result.hash.value != item.expected.value {
                    report.modified.append(item.key)
                }
            }
            batch.removeAll(keepingCapacity: true)
        }
        func check(_ entry: ManifestEntry, against file: DirectoryScanner.File) throws {
            guard let hash = entry.hash, let type = hash.hashType else {
                throw HashError.unsupportedType(entry.hash?.type ?? "none")
            }
            if file.size != entry.size {
                report.modified.append(entry.logicalKey)
            } else {
                batch.append((entry.logicalKey, file.realPath, type, hash))
                if batch.count >= hashBatch { try hashHeld() }
            }
        }
        var entry = try entries.next()
        try DirectoryScanner.walk(directory, applyIgnore: false, undecodable: { _ in }) { file in
            while let current = entry, LogicalKey.precedes(current.logicalKey, file.relativePath) {
                report.missing.append(current.logicalKey)
                entry = try entries.next()
            }
            guard let current = entry, current.logicalKey.isIdentical(to: file.relativePath) else {
                report.extra.append(file.relativePath)
                return
            }
            try check(current, against: file)
            entry = try entries.next()
        }
        while let current = entry {
            report.missing.append(current.logicalKey)
            entry = try entries.next()
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
