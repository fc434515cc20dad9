// quilt rollback: make an earlier revision the latest again (quilt3's Package.rollback), with push's conflict check.
import ArgumentParser
import QuiltFormat
import QuiltRegistry

struct Rollback: QuiltCommand, VerboseCommand, QuietCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Make an earlier revision of a package its latest again.",
        discussion: """
        Writes a new timestamp pointer and latest holding HASH (a top hash or a unique prefix of at least 6 hex \
        digits), as quilt3's Package.rollback moves latest; the history keeps every revision, the rollback \
        showing as the newest. In an S3 registry, unless --force, the push conflict check applies: exit status 2 \
        when latest is not the revision this machine last published or read there (or the local latest). \
        Prints the top hash.
        """)

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption
    @OptionGroup var quietOption: QuietOption

    @Flag(name: .long, help: "Roll back even if latest is not a revision this machine has seen there.")
    var force = false

    @Flag(name: .long, help: "Print {name, top_hash, registry, timestamp, previous} as JSON.")
    var json = false

    @Argument(help: "The package name, ns/name.")
    var name: String

    @Argument(help: "The revision to make latest: a top hash or a unique prefix (at least 6 hex digits).")
    var hash: String

    func execute(_ io: IO) throws {
        let result = try io.context().rollback(name, to: hash, registry: registryOptions.registry, force: force)
        if json {
            io.json(.object(JSONObject([
                ("name", .string(result.name)), ("top_hash", .string(result.topHash)),
                ("registry", .string(result.registry)), ("timestamp", result.timestamp.map { .integer($0) } ?? .null),
                ("previous", .string(result.previous)),
            ])))
            return
        }
        io.line(result.topHash)
        if result.timestamp == nil {
            io.info("\(result.name)@\(result.topHash.prefix(7)) already is the latest in \(result.registry)")
        } else {
            io.info("Rolled back \(result.name) to \(result.topHash.prefix(7)) in \(result.registry) (was \(result.previous.prefix(7)))")
        }
    }
}
