// quilt diff: what changed between two revisions (quilt3's pkg.diff).
import ArgumentParser
import QuiltFormat
import QuiltSupport
import QuiltRegistry

struct Diff: QuiltCommand, VerboseCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show the entries added, modified and deleted between two revisions.",
        discussion: "Modified means size, hash or metadata differ; physical keys are ignored. Exit status 0 whether or not they differ.")

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption

    @Flag(name: .long, help: "Print {added, modified, deleted} as JSON.")
    var json = false

    @Argument(help: "The old revision.")
    var old: String

    @Argument(help: "The new revision.")
    var new: String

    func execute(_ io: IO) throws {
        let (from, to) = (try Revision(old), try Revision(new))
        try from.requireNoPath()
        try to.requireNoPath()
        let registry = try io.registry(registryOptions, for: from)
        guard try io.registry(registryOptions, for: to).url == registry.url else {
            throw RegistryError.invalidRevision(new, reason: "it is in another registry than \(quoted(old))")
        }
        let diff = try ManifestDiff(registry: registry, from: registry.resolve(from), to: registry.resolve(to))
        if json {
            io.json(.object(JSONObject([
                ("added", .array(diff.added.map { .string($0) })), ("modified", .array(diff.modified.map { .string($0) })),
                ("deleted", .array(diff.deleted.map { .string($0) })),
            ])))
            return
        }
        for key in diff.added { io.line("A\t\(terminalSafe(key))") }
        for key in diff.modified { io.line("M\t\(terminalSafe(key))") }
        for key in diff.deleted { io.line("D\t\(terminalSafe(key))") }
    }
}
