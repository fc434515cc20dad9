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
        let manifest = try registry.loadManifest(topHash)
        if json {
            let entries: [JSONValue] = manifest.entries.map { entry in
                .object(JSONObject([
                    // `physical_keys` is the manifest's own name and form; `physical_key` stays for old readers.
                    ("logical_key", .string(entry.logicalKey)), ("physical_key", .string(entry.physicalKey)),
                    ("physical_keys", .array([.string(entry.physicalKey)])),
                    ("size", .int(entry.size)), ("hash", entry.hash?.json ?? .null), ("meta", entry.meta),
                ]))
            }
            io.json(.object(JSONObject([
                ("name", rev.name.map { .string($0) } ?? .null), ("top_hash", .string(topHash)),
                ("message", manifest.header["message"] ?? .null), ("user_meta", manifest.userMeta ?? .null),
                ("entries", .array(entries)),
            ])))
            return
        }
        if let name = rev.name { io.line("name:      \(name)") }
        io.line("top hash:  \(topHash)")
        io.line("message:   \(terminalSafe(manifest.message ?? ""))")
        if let userMeta = manifest.userMeta { io.line("user_meta: \(terminalSafe(JSONWriter.manifestForm(userMeta)))") }
        let total = manifest.entries.reduce(0) { $0 + $1.size }
        io.line("entries:   \(manifest.entries.count) (\(formatBytes(total)))")
        io.line("")
        for entry in manifest.entries {
            let size = String(entry.size)
            let padded = String(repeating: " ", count: max(0, 12 - size.count)) + size
            io.line("\(padded)  \(terminalSafe(entry.hash?.value ?? "-"))  \(terminalSafe(entry.logicalKey))")
        }
    }
}
