// quilt show: the header and entries of a revision.
import ArgumentParser
import QuiltFormat
import QuiltRegistry

struct Show: QuiltCommand, VerboseCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show the header and entries of a revision.")

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption

    @Flag(name: .long, help: "Print {name, top_hash, message, user_meta, workflow, entries} as JSON.")
    var json = false

    @Flag(name: .long, help: "Print the revision's Quilt+ URI (quilt+s3://BUCKET#package=NS/NAME@TOPHASH) instead.")
    var uri = false

    @Argument(help: "The revision: ns/name, ns/name:latest, ns/name@<hash prefix>, ns/name:<timestamp>, a 64-hex top hash or a Quilt+ URI.")
    var revision: String

    func validate() throws {
        if uri && json { throw ValidationError("--uri and --json cannot be used together") }
    }

    func execute(_ io: IO) throws {
        let rev = try Revision(revision)
        try rev.requireNoPath()
        let registry = try io.registry(registryOptions, for: rev)
        let topHash = try registry.resolve(rev)
        if uri {
            guard let name = rev.name else {
                throw RegistryError.invalidRevision(revision, reason: "a Quilt+ URI needs a package name; give ns/name@<hash>")
            }
            io.line(QuiltURI(registry: registry.location, name: name, topHash: topHash).text)
            return
        }
        if json {
            try registry.writeRevisionJSON(name: rev.name, topHash: topHash) { io.write($0) }
            return
        }
        // One pass checks the manifest against its name and counts it; the entries are read again as printed.
        let manifest = try registry.manifestSummary(topHash)
        if let name = rev.name { io.line("name:      \(name)") }
        io.line("top hash:  \(topHash)")
        io.line("message:   \(terminalSafe(manifest.message ?? ""))")
        if let userMeta = manifest.userMeta { io.line("user_meta: \(terminalSafe(JSONWriter.manifestForm(userMeta)))") }
        if let stamp = manifest.header["workflow"] { io.line("workflow:  \(terminalSafe(Self.describe(stamp)))") }
        let total = manifest.totalSize
        io.line("entries:   \(manifest.fileCount) (\(formatBytes(total)))")
        io.line("")
        try registry.readManifest(topHash, canonicalLayout: manifest.canonicalLayout) { entries in
            while let entry = try entries.next() {
                let size = String(entry.size)
                let padded = String(repeating: " ", count: max(0, 12 - size.count)) + size
                io.line("\(padded)  \(terminalSafe(entry.hash?.value ?? "-"))  \(terminalSafe(entry.logicalKey))")
            }
        }
    }

    /// A workflow stamp in one line: the workflow's id (`None` for "no workflow", as quilt3 names it) and the
    /// config it came from.
    static func describe(_ stamp: JSONValue) -> String {
        guard case .object(let object) = stamp else { return JSONWriter.manifestForm(stamp) }
        let id = object["id"].flatMap { $0 == .null ? nil : ($0.stringValue ?? JSONWriter.manifestForm($0)) } ?? "None"
        return id + (object["config"]?.stringValue.map { " (config \($0))" } ?? "")
    }
}
