// quilt-write-manifest: turn an entry stream into a stored manifest and print its top hash.
import ArgumentParser
import QuiltFormat
import QuiltRegistry

struct WriteManifest: QuiltCommand, VerboseCommand {
    static let configuration = CommandConfiguration.plumbing(
        "write-manifest",
        abstract: "Write a manifest from an entry stream and print its top hash.",
        discussion: """
        Reads an entry stream on standard input (any order), puts the entries in the format's tree order, computes \
        hashes that are missing (local files only), stores the manifest at .quilt/packages/<top-hash> in the \
        registry and prints the top hash. Plumbing takes things literally: without --meta the header has no \
        user_meta key (--meta null writes null); without --message it has "message": null. With FILE arguments \
        (paths or s3:// URLs; '-' for standard input), reads those entry streams instead, together, as one: the \
        outputs of a sharded job make the manifest a single run would have made. Inputs that end in shard \
        trailers are checked before anything is written: each part against its trailer, and the set as shards \
        0 to N-1, each exactly once; a part without its trailer, one that does not match it, or a shard missing \
        or given twice is refused (exit 65), naming the part and the shard.
        """)

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption

    @Option(name: .long, parsing: .unconditional, help: "The revision message.")
    var message: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Package metadata: JSON text, or @FILE to read it from a file.", valueName: "json|@file"))
    var meta: String?

    @Option(name: .long, help: ArgumentHelp("The package name the registry's workflow checks (needed when it has workflows).", valueName: "ns/name"))
    var name: String?

    @Option(name: .long, help: ArgumentHelp("The registry's workflow to check and stamp with ('' for none; default: its default_workflow).", valueName: "id"))
    var workflow: String?

    @Flag(name: .long, help: "Write the manifest to standard output instead; store nothing.")
    var print = false

    @Argument(help: ArgumentHelp("Entry-stream files (paths or s3:// URLs; '-' for standard input) read instead of standard input.", valueName: "file"))
    var streams: [String] = []

    func validate() throws {
        if streams.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input ('-') can be read only once") }
    }

    func execute(_ io: IO) throws {
        let registry = try io.registry(registryOptions)
        let context = try io.context()
        let inputs = streams.isEmpty
            ? [EntryStream.Input(name: nil) { try io.readStandardInput($0) }]
            : streams.map { stream in
                stream == "-"
                    ? EntryStream.Input(name: "-") { try io.readStandardInput($0) }
                    : EntryStream.Input(name: stream) { try context.readEntryStreamFile(stream, $0) }
            }
        let topHash = try context.writeManifest(entryStreams: inputs, meta: meta.map(parseMetaArgument), message: message,
                                                name: name, workflow: WorkflowChoice(argument: workflow), registry: registry,
                                                to: print ? .stream { io.write($0) } : .registry)
        if !print { io.line(topHash) }
    }
}
