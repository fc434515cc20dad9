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
        let (report, known, next, fresh, written) = try manifests.readManifest(record.topHash) { entries in
            // (A body started again, for a manifest stored out of tree order, reads the record and writes its next
            // version from the start.)
            guard let known = try installRecords.open(directory: record.directory), known.record == record else {
                throw InstallError.busy(record.directory)
            }
            let next = try installRecords.writer(record)
            var fresh = 0, written = 0
            let report = try VerifyReport.compare(entries, directory: record.directory, selection: record.selection, known: known,
                                                  record: { line, isFresh in
                                                      try next.add(line)
                                                      written += 1
                                                      if isFresh { fresh += 1 }
                                                  }, progress: progress)
            return (report, known, next, fresh, written)
        }
        while try known.next() != nil {}
        if fresh > 0 || written != known.linesRead {
            // Only a cache of what was learnt: a record another process holds or replaced stays as it is.
            _ = try next.commit(replacing: known, records: installRecords)
        }
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
                               latest: latest, filesHashed: fresh)
    }
}
