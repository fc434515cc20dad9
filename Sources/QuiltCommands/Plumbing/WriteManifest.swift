// quilt-write-manifest: turn an entry stream into a stored manifest and print its top hash.
import ArgumentParser
import QuiltCore

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
        var manifest = try Self.readManifest(meta: meta.map(parseMetaArgument), message: message) { parse in
            try io.readStandardInput(parse)
        }
        try EntryHasher.hashMissing(&manifest.entries)
        if print {
            try ManifestWriter().write(&manifest) { io.write($0) }
            return
        }
        let topHash = try io.registry(registryOptions).storeManifest(&manifest)
        io.line(topHash)
    }

    /// Builds the manifest an entry stream describes, checking every logical key. `input` hands each block of
    /// the stream to the function it is given; lines are parsed as they arrive, so the input is never held whole.
    static func readManifest(meta: JSONValue?, message: String?,
                             input: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> Manifest {
        var manifest = Manifest()
        if let meta { manifest.userMeta = meta }
        manifest.setMessage(message)
        var parser = EntryStream.Parser()
        let add = { (item: EntryStream.Item) throws in
            switch item {
            case .entry(let entry):
                try LogicalKey.validate(entry.logicalKey)
                manifest.entries.append(entry)
            case .directory(let key, let meta):
                manifest.directoryMeta.append((key, meta))
            case .header:
                break
            }
        }
        try input { block in try parser.feed(block, into: add) }
        try parser.finish(into: add)
        try manifest.normalize()
        return manifest
    }
}
