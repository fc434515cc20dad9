// `quilt status`: what differs between an installed directory and the revision its install record names, by the
// one verify engine (VerifyReport.compare) with the record's identities, so an unchanged file is not opened; and
// whether the registry's `latest` is still that revision. Before it, one check that decides only "nothing
// differs": the walk beside the record alone, whose summary of the selected entries stands for the manifest, which
// is then neither read nor hashed (see `isAsRecorded` for what that saves).
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
    /// revision it records. A directory exactly as recorded is clean without reading the manifest
    /// (`isAsRecorded`). Otherwise files whose identity is the one recorded are taken as recorded; the others are hashed,
    /// and the record is refreshed with what was learnt (under its lock; skipped if another holds it or wrote it
    /// meanwhile), so the next status does not hash them again. With `fetchLatest`, reads the `latest` pointer of
    /// the registry installed from: one small read.
    public func status(_ directory: String, fetchLatest: Bool, progress: ProgressHandler? = nil) throws -> DirectoryStatus {
        guard let found = try installRecords.find(directory) else { throw InstallError.notInstalled(directory) }
        let record = found.record
        if let selected = record.selected, try Self.isAsRecorded(found, selected: selected) {
            return DirectoryStatus(record: record, modified: [], deleted: [], added: [],
                                   latest: latest(of: record, fetch: fetchLatest), filesHashed: 0)
        }
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
        return DirectoryStatus(record: record, modified: report.modified, deleted: report.missing, added: report.extra,
                               latest: latest(of: record, fetch: fetchLatest), filesHashed: refresh.hashed)
    }

    /// Whether the directory holds exactly what its record says the install left there, with nothing else: every
    /// file walked has the record's next line, its identity unchanged, and the lines, no more, sum up to the
    /// revision's selected entries as install read them (`selected`, from the manifest it checked against its top
    /// hash). Then the record stands for the manifest, which is not read: nothing differs. At the first file that
    /// is not so, false: the comparison with the manifest decides (a record's line may hold the hash of a modified
    /// file, or be missing for one whose stat could not prove its bytes).
    static func isAsRecorded(_ record: InstallRecordReader, selected: SelectedEntries) throws -> Bool {
        struct Differs: Error {}
        var digest = SelectedEntriesDigest()
        do {
            // The walk of the comparison (VerifyReport.compare): every file, ignored and hidden ones too. Its
            // directories listed and stat'ed on every core, the files compared on this thread: not `walkAhead`'s
            // walk on one other thread, whose hand-over of batches cost more than it saved here (`perf stat -r 15`
            // of a second status of 20,000 unchanged files: 0.83× the wall time of the status before this check
            // with `walkAhead`, 0.70× with `walk` on this thread alone).
            try DirectoryScanner.walk(record.record.directory, applyIgnore: false, workers: DirectoryScanner.spareCores,
                                      undecodable: { _ in }) { file in
                guard let line = try record.next(), line.path.isIdentical(to: file.relativePath),
                      line.isUnchanged(at: file.identity) else { throw Differs() }
                digest.add(place: line.path, size: line.identity.size, hash: line.hash)
            }
        } catch is Differs {
            return false
        }
        return try record.next() == nil && digest.finish() == selected
    }

    /// The registry's `latest` of the installed package, if asked.
    private func latest(of record: InstallRecord, fetch: Bool) -> DirectoryStatus.Latest {
        guard fetch else { return .notChecked }
        do {
            return .found(try registry(RegistryLocation(record.registry)).latest(record.name))
        } catch let error as QuiltError {
            return .unavailable(error.message)
        } catch {
            return .unavailable(String(describing: error))
        }
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
