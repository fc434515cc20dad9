// quilt delete: remove a package's pointers (quilt3's delete_package); manifests and data stay.
import ArgumentParser
import QuiltFormat
import QuiltRegistry

struct Delete: QuiltCommand, VerboseCommand, QuietCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a package, or one revision of it, from a registry.",
        discussion: """
        Deletes pointers only, as quilt3's delete_package does: manifests and data stay. With --top-hash, only \
        the pointers holding that hash go, and if latest was one of them it is re-pointed at the newest remaining \
        revision. Asks first when standard input is a terminal; when it is not, deletes only with --yes.
        """)

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption
    @OptionGroup var quietOption: QuietOption

    @Option(name: .long, help: "Delete only this revision (a hash or a unique prefix).")
    var topHash: String?

    @Flag(name: [.customShort("y"), .long], help: "Do not ask.")
    var yes = false

    @Flag(name: .long, help: "Print {name, deleted} as JSON.")
    var json = false

    @Argument(help: "The package name, ns/name.")
    var name: String

    func execute(_ io: IO) throws {
        try PackageName.validate(name)
        let registry = try io.registry(registryOptions)
        if !yes {
            let what = topHash.map { "revision \($0) of \(name)" } ?? "package \(name)"
            // Without a terminal there is no one to ask: a pasted or scripted delete says --yes, or deletes nothing.
            guard io.stdinIsTerminal else { throw ArgumentError.confirmationNeeded(what: what, registry: registry.url) }
            guard io.confirm("Delete \(what) from \(registry.url)?") else { throw ArgumentError.notConfirmed }
        }
        let deleted = try registry.deletePackage(name, topHash: topHash?.lowercased())
        if json {
            io.json(.object(JSONObject([("name", .string(name)), ("deleted", .array(deleted.map { .string($0) }))])))
        } else {
            io.info("Deleted \(deleted.count) pointer\(deleted.count == 1 ? "" : "s") of \(name)")
        }
    }
}
