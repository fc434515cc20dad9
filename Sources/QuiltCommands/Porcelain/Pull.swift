// quilt pull: bring an installed directory to the registry's latest revision (or another), writing only what changed.
import ArgumentParser
import QuiltFormat
import QuiltRegistry

struct Pull: QuiltCommand, VerboseCommand, QuietCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Bring an installed directory to the registry's latest revision, writing only what changed.",
        discussion: """
        DIR (default: the current directory, or the nearest directory above it that quilt install wrote) is \
        brought to REVISION (default: latest in the registry it was installed from): files whose hash changed are \
        written (from the object cache first), files the new revision does not have are removed, the rest are left \
        alone, and the new revision is recorded. Local changes the pull would overwrite or remove (see quilt \
        status) stop it before anything changes, with exit status 1, unless --force.
        """)

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption
    @OptionGroup var quietOption: QuietOption

    @Flag(name: .long, help: "Overwrite or remove local changes.")
    var force = false

    @Flag(name: .long, help: "Print {dir, name, previous_top_hash, top_hash, up_to_date, written, removed, kept} as JSON.")
    var json = false

    @Argument(help: ArgumentHelp("The installed directory (default: the current directory).", valueName: "dir"))
    var dir: String = "."

    @Argument(help: ArgumentHelp("The revision to bring it to: ns/name@<hash prefix>, ns/name:<timestamp>, ns/name:latest, a top hash, or a Quilt+ URI (quilt+s3://BUCKET#package=NS/NAME[@HASH], which names the registry too; default: latest).", valueName: "revision"))
    var revision: String?

    func execute(_ io: IO) throws {
        let progress = ProgressPhaseLines.phases(io, json: json)
        defer { progress?.finish() }
        let result = try io.context().pull(dir, revision: revision, registry: registryOptions.registry, force: force,
                                           progress: progress?.handler)
        progress?.finish()
        let record = result.record
        if json {
            io.json(.object(JSONObject([
                ("dir", .string(record.directory)), ("name", .string(record.name)),
                ("previous_top_hash", .string(result.previousTopHash)), ("top_hash", .string(record.topHash)),
                ("up_to_date", .bool(result.upToDate)), ("written", .int(result.written)), ("removed", .int(result.removed)),
                ("kept", .int(result.kept)),
            ])))
        } else if result.upToDate {
            io.info("Already up to date: \(record.name)@\(record.topHash.prefix(7)) in \(record.directory)")
        } else {
            io.info("Updated \(record.directory) from \(record.name)@\(result.previousTopHash.prefix(7)) to "
                    + "@\(record.topHash.prefix(7)): \(result.written) written, \(result.removed) removed, \(result.kept) kept")
        }
    }
}
