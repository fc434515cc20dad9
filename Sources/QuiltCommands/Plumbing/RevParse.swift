// quilt-rev-parse: resolve a revision to its 64-hex top hash.
import ArgumentParser
import QuiltRegistry

struct RevParse: QuiltCommand, VerboseCommand {
    static let configuration = CommandConfiguration.plumbing(
        "rev-parse",
        abstract: "Resolve revisions to top hashes.",
        discussion: """
        Prints the 64-hex top hash of each REV, one per line: ns/name (its latest), ns/name@<hash prefix of 6 or \
        more hex digits>, ns/name:latest, ns/name:<timestamp>, or a bare 64-hex hash.
        """)

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption

    @Flag(name: .long, help: "Print the shortest unique prefix (at least 7 digits) instead.")
    var short = false

    @Argument(help: "Revisions to resolve.")
    var revisions: [String]

    func validate() throws {
        if revisions.isEmpty { throw ValidationError("no revision given") }
    }

    func execute(_ io: IO) throws {
        for text in revisions {
            let rev = try Revision(text)
            try rev.requireNoPath()
            let registry = try io.registry(registryOptions, for: rev)
            let topHash = try registry.resolve(rev)
            io.line(short ? registry.shortHash(topHash) : topHash)
        }
    }
}
