// quilt-write-manifest: turn an entry stream into a stored manifest and print its top hash.
import ArgumentParser
import QuiltFormat
import QuiltRegistry

struct WriteManifest: QuiltCommand, VerboseCommand {
    static let configuration = CommandConfiguration(
        commandName: "quilt-write-manifest",
        abstract: "Write a manifest from an entry stream and print its top hash.",
        discussion: """
        Reads an entry stream on standard input (any order), puts the entries in the format's tree order, computes \
        hashes that are missing (local files only), stores the manifest at .quilt/packages/<top-hash> in the \
        registry and prints the top hash. Plumbing takes things literally: without --meta the header has no \
        user_meta key (--meta null writes null); without --message it has "message": null.
        """)

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption

    @Option(name: .long, parsing: .unconditional, help: "The revision message.")
    var message: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Package metadata: JSON text, or @FILE to read it from a file.", valueName: "json|@file"))
    var meta: String?

    @Flag(name: .long, help: "Write the manifest to standard output instead; store nothing.")
    var print = false

    func execute(_ io: IO) throws {
        var manifest = try Manifest.read(entryStream: { try io.readStandardInput($0) }, meta: meta.map(parseMetaArgument),
                                         message: message)
        try EntryHasher.hashMissing(&manifest.entries)
        if print {
            try io.context().manifestWriter.write(&manifest) { io.write($0) }
            return
        }
        let topHash = try io.registry(registryOptions).storeManifest(&manifest)
        io.line(topHash)
    }
}
