// quilt cat: an entry's bytes on standard output, each checked against the entry's hash before it is written
// (git's cat-file -p; quilt3's PackageEntry.get_bytes).
import ArgumentParser
import QuiltRegistry

struct Cat: QuiltCommand, VerboseCommand {
    static let configuration = CommandConfiguration(
        commandName: "cat",
        abstract: "Print an entry's bytes, each checked against its hash before it is written.",
        discussion: """
        Streams the file entry LOGICAL_KEY of REV to standard output (REV may be a Quilt+ URI, whose path= names \
        the entry). No byte is written before it is verified: a sha2-256-chunked object is checked a chunk at a \
        time as it streams, other hash types whole before any output. A mismatch exits with status 65, naming \
        the key, after at most the chunks that matched. S3 objects are read from the object cache first, else \
        with ranged GETs, and a whole read fills the cache. A closed pipe ends it quietly.
        """)

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption

    @Argument(help: "The revision: ns/name, ns/name@<hash prefix>, ns/name:latest, ns/name:<timestamp>, a 64-hex top hash or a Quilt+ URI.")
    var revision: String

    @Argument(help: "The entry's logical key (optional when the URI has a path).")
    var logicalKey: String?

    func execute(_ io: IO) throws {
        let entry = try io.context().openEntry(revision, logicalKey: logicalKey, registry: registryOptions.registry)
        try entry.read { try io.writeNow($0) }
    }
}
