// quilt-cat-manifest: print a stored manifest exactly as stored (git's cat-file -p).
import ArgumentParser
import QuiltRegistry

struct CatManifest: QuiltCommand, VerboseCommand {
    static let configuration = CommandConfiguration.plumbing(
        "cat-manifest",
        abstract: "Print a stored manifest byte for byte.",
        discussion: "REV is ns/name, ns/name@<hash prefix>, ns/name:latest, ns/name:<timestamp> or a 64-hex top hash.")

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption

    @Flag(name: .long, help: "Fail unless the manifest hashes to its top hash.")
    var verify = false

    @Argument(help: "The revision.")
    var revision: String

    func execute(_ io: IO) throws {
        let rev = try Revision(revision)
        try rev.requireNoPath()
        let registry = try io.registry(registryOptions, for: rev)
        let topHash = try registry.resolve(rev)
        // Streamed both times: with --verify, a first pass checks the manifest before a byte is printed.
        if verify { _ = try registry.manifestSummary(topHash) }
        try registry.readManifestBytes(topHash) { io.write($0) }
    }
}
