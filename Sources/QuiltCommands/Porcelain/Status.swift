// quilt status: what differs between an installed directory and the revision quilt install (or pull) wrote there.
import ArgumentParser
import QuiltFormat
import QuiltRegistry

struct Status: QuiltCommand, VerboseCommand, QuietCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the files of an installed directory that differ from its revision.",
        discussion: """
        Compares DIR (default: the current directory, or the nearest directory above it that quilt install \
        wrote) with the revision its install record names: M a modified file, D a deleted one, A a file the \
        revision does not have. A file whose device, inode, size, modification and change times are those \
        recorded is not opened; the others are hashed, and the record learns what was found. Unless --no-fetch, \
        also says whether the registry's latest is still the installed revision. Exit status 0 whether or not \
        anything differs.
        """)

    @OptionGroup var verboseOption: VerboseOption
    @OptionGroup var quietOption: QuietOption

    @Flag(name: .long, help: "Print only the changes, one 'M|D|A <path>' line each, sorted by path (latest is not read).")
    var porcelain = false

    @Flag(name: .long, help: "Print {dir, name, top_hash, registry, paths, latest, up_to_date, modified, deleted, added} as JSON.")
    var json = false

    @Flag(name: .customLong("no-fetch"), help: "Do not read the registry's latest.")
    var noFetch = false

    @Argument(help: ArgumentHelp("The installed directory (default: the current directory).", valueName: "dir"))
    var dir: String = "."

    func validate() throws {
        if porcelain && json { throw ValidationError("--porcelain and --json cannot be used together") }
    }

    func execute(_ io: IO) throws {
        let progress = io.progressLine("checking", json: json || porcelain)
        let status = try io.context().status(dir, fetchLatest: !noFetch && !porcelain, progress: progress?.handler)
        progress?.finish()
        let record = status.record
        if porcelain {
            for change in status.changes { io.line("\(change.code) \(terminalSafe(change.path))") }
            return
        }
        if json {
            var latest: JSONValue = .null, upToDate: JSONValue = .null
            if case .found(let hash) = status.latest {
                latest = hash.map { .string($0) } ?? .null
                upToDate = .bool(hash == record.topHash)
            }
            io.json(.object(JSONObject([
                ("dir", .string(record.directory)), ("name", .string(record.name)), ("top_hash", .string(record.topHash)),
                ("registry", .string(record.registry)), ("paths", .array(record.paths.map { .string($0) })),
                ("latest", latest), ("up_to_date", upToDate),
                ("modified", .array(status.modified.map { .string($0) })),
                ("deleted", .array(status.deleted.map { .string($0) })),
                ("added", .array(status.added.map { .string($0) })),
            ])))
            return
        }
        io.line("On \(terminalSafe(record.name))@\(record.topHash.prefix(7)) in \(terminalSafe(record.directory))")
        switch status.latest {
        case .notChecked:
            break
        case .found(let hash?) where hash == record.topHash:
            io.line("Up to date with latest in \(terminalSafe(record.registry)).")
        case .found(let hash?):
            io.line("latest in \(terminalSafe(record.registry)) is \(hash.prefix(7)), not the installed revision "
                    + "(see 'quilt pull').")
        case .found(nil):
            io.line("\(terminalSafe(record.name)) has no latest in \(terminalSafe(record.registry)).")
        case .unavailable(let reason):
            io.flush()
            io.warning("cannot read latest in \(record.registry): \(reason)")
        }
        if status.isClean {
            io.line("No changes.")
        } else {
            for change in status.changes { io.line("\(change.code) \(terminalSafe(change.path))") }
        }
    }
}
