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

    @Flag(name: .long, help: "Print {name, top_hash, message, user_meta, entries} as JSON.")
    var json = false

    @Argument(help: "The revision: ns/name, ns/name:latest, ns/name@<hash prefix>, ns/name:<timestamp>, or a 64-hex top hash.")
    var revision: String

    func execute(_ io: IO) throws {
        let registry = try io.registry(registryOptions)
        let rev = try Revision(revision)
        let topHash = try registry.resolve(rev)
        if json {
            try printJSON(io, registry: registry, name: rev.name, topHash: topHash)
            return
        }
        // One pass checks the manifest against its name and counts it; the entries are read again as printed.
        let manifest = try registry.manifestSummary(topHash)
        if let name = rev.name { io.line("name:      \(name)") }
        io.line("top hash:  \(topHash)")
        io.line("message:   \(terminalSafe(manifest.message ?? ""))")
        if let userMeta = manifest.userMeta { io.line("user_meta: \(terminalSafe(JSONWriter.manifestForm(userMeta)))") }
        let total = manifest.totalSize
        io.line("entries:   \(manifest.fileCount) (\(formatBytes(total)))")
        io.line("")
        let entries = try registry.entriesInTreeOrder(topHash, storedInTreeOrder: manifest.inTreeOrder)
        while let entry = try entries.next() {
            let size = String(entry.size)
            let padded = String(repeating: " ", count: max(0, 12 - size.count)) + size
            io.line("\(padded)  \(terminalSafe(entry.hash?.value ?? "-"))  \(terminalSafe(entry.logicalKey))")
        }
    }

    /// The JSON object, streamed: entries are printed as they are read (in stored order, which is tree order for
    /// every manifest quilt3 or this suite writes), and the manifest is checked against its name at the end; a
    /// manifest that fails leaves the object unclosed and the command fails.
    private func printJSON(_ io: IO, registry: Registry, name: String?, topHash: String) throws {
        let stream = try registry.streamManifest(topHash)
        var out: [UInt8] = []
        out.append(contentsOf: #"{"name": "#.utf8)
        JSONWriter.writeManifestForm(name.map { .string($0) } ?? .null, to: &out)
        out.append(contentsOf: #", "top_hash": "#.utf8)
        JSONWriter.writeManifestForm(.string(topHash), to: &out)
        out.append(contentsOf: #", "message": "#.utf8)
        JSONWriter.writeManifestForm(stream.header["message"] ?? .null, to: &out)
        out.append(contentsOf: #", "user_meta": "#.utf8)
        JSONWriter.writeManifestForm(stream.header["user_meta"] ?? .null, to: &out)
        out.append(contentsOf: #", "entries": ["#.utf8)
        var first = true
        while let entry = try stream.nextEntry() {
            if !first { out.append(contentsOf: ", ".utf8) }
            first = false
            JSONWriter.writeManifestForm(.object(JSONObject([
                // `physical_keys` is the manifest's own name and form; `physical_key` stays for old readers.
                ("logical_key", .string(entry.logicalKey)), ("physical_key", .string(entry.physicalKey)),
                ("physical_keys", .array([.string(entry.physicalKey)])),
                ("size", .int(entry.size)), ("hash", entry.hash?.json ?? .null), ("meta", entry.meta),
            ])), to: &out)
            if out.count >= 1 << 16 {
                io.write(out)
                out.removeAll(keepingCapacity: true)
            }
        }
        io.write(out)
        try stream.verify()
        io.write(Array("]}\n".utf8))
    }
}
