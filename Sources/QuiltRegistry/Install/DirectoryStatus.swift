// `quilt status`: what differs between an installed directory and the revision its install record names, by the
// one verify engine (VerifyReport.compare) with the record's identities, so an unchanged file is not opened; and
// whether the registry's `latest` is still that revision.
import QuiltSupport
import QuiltFormat

/// An installed directory against its revision.
public struct DirectoryStatus: Sendable {
    public var record: InstallRecord
    /// Places (paths below the directory) whose bytes differ from the revision's entry, in tree order.
    public var modified: [String]
    /// The revision's entries with no file, in tree order.
    public var deleted: [String]
    /// Files the revision (as installed: its `--path` selection) does not have, in tree order.
    public var added: [String]
    public var latest: Latest
    /// Files hashed because the record could not vouch for them (a changed stat, a file never recorded).
    public var filesHashed: Int

    public enum Latest: Sendable, Equatable {
        /// Not asked (`--no-fetch`).
        case notChecked
        /// The registry's `latest` (nil: the package has none there).
        case found(String?)
        /// It could not be read; the message says why.
        case unavailable(String)
    }

    public var isClean: Bool { modified.isEmpty && deleted.isEmpty && added.isEmpty }

    /// Every change, sorted by place (git's porcelain order): `M`, `D` or `A` and the place.
    public var changes: [(code: Character, path: String)] {
        var all: [(code: Character, path: String)] = modified.map { ("M", $0) } + deleted.map { ("D", $0) } + added.map { ("A", $0) }
        all.sort { LogicalKey.precedes($0.path, $1.path) }
        return all
    }
}

extension QuiltContext {
    /// Compares the installed directory `directory` (or the nearest one above it with an install record) with the
    /// revision it records. Files whose identity is the one recorded are taken as recorded; the others are hashed,
    /// and the record is refreshed with what was learnt (under its lock; skipped if another holds it or wrote it
    /// meanwhile), so the next status does not hash them again. With `fetchLatest`, reads the `latest` pointer of
    /// the registry installed from: one small read.
    public func status(_ directory: String, fetchLatest: Bool, progress: ProgressHandler? = nil) throws -> DirectoryStatus {
        guard let found = try installRecords.find(directory) else { throw InstallError.notInstalled(directory) }
        let record = found.record
        let manifests = try registry(RegistryLocation(record.manifestRegistry))
        let (report, refresh) = try manifests.readManifest(record.topHash) { entries in
            // (A body started again, for a manifest stored out of tree order, reads the record and writes its next
            // version from the start.)
            guard let known = try installRecords.open(directory: record.directory), known.record == record else {
                throw InstallError.busy(record.directory)
            }
            let refresh = RecordRefresh(known, records: installRecords)
            let report = try VerifyReport.compare(entries, directory: record.directory, selection: record.selection, known: known,
                                                  record: refresh.add, progress: progress)
            return (report, refresh)
        }
        // Only a cache of what was learnt: a record another process holds or replaced stays as it is.
        try refresh.finish()
        var latest = DirectoryStatus.Latest.notChecked
        if fetchLatest {
            do {
                latest = .found(try registry(RegistryLocation(record.registry)).latest(record.name))
            } catch let error as QuiltError {
                latest = .unavailable(error.message)
            } catch {
                latest = .unavailable(String(describing: error))
            }
        }
        return DirectoryStatus(record: record, modified: report.modified, deleted: report.missing, added: report.extra,
                               latest: latest, filesHashed: refresh.hashed)
    }
}

/// The next version of a directory's record as a status learns it, written only if it differs: while every line
/// is the old record's next one, nothing is written; at the first that is not (a file hashed now, a line left
/// out), the old lines so far are copied and the rest follows. A status of an unchanged directory writes nothing.
final class RecordRefresh {
    private let known: InstallRecordReader
    private let records: InstallRecords
    private var writer: InstallRecordWriter?
    /// Lines of the old record passed on unchanged before any difference.
    private var unchanged = 0
    private(set) var hashed = 0

    init(_ known: InstallRecordReader, records: InstallRecords) {
        self.known = known
        self.records = records
    }

    func add(_ line: InstalledFile, origin: Int?) throws {
        if origin == nil { hashed += 1 }
        if writer == nil {
            if origin == unchanged {
                unchanged += 1
                return
            }
            try start()
        }
        try writer!.add(line)
    }

    /// Copies the first `unchanged` lines of the old record into a new writer.
    private func start() throws {
        let next = try records.writer(known.record)
        if unchanged > 0 {
            guard let again = try InstallRecordReader(file: known.file) else { throw InstallError.busy(known.record.directory) }
            for _ in 0..<unchanged {
                guard let line = try again.next() else { throw InstallError.busy(known.record.directory) }
                try next.add(line)
            }
        }
        writer = next
    }

    /// Puts the new record in place if it differs from the old one (lines left out at the end count).
    func finish() throws {
        while try known.next() != nil {}
        if writer == nil {
            guard known.linesRead != unchanged else { return }
            try start()
        }
        _ = try writer!.commit(replacing: known, records: records)
    }
}
