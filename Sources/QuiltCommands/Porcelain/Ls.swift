// quilt ls: the files and directories of a directory of a revision (git's ls-tree), streamed from the manifest.
import ArgumentParser
import QuiltFormat
import QuiltRegistry

struct Ls: QuiltCommand, VerboseCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List the files and directories of a directory of a revision.",
        discussion: """
        Prints the children of PATH (default: the root of the package) in tree order, a directory's name ending \
        in '/'; a PATH that is a file's logical key prints that file. REV may be a Quilt+ URI, whose path= is \
        PATH. The listing streams: each line is printed as soon as it is known (with -l or --json, a directory's \
        once its subtree has passed), and the manifest is checked against its name as it is read.
        """)

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption

    @Flag(name: .customShort("l"), help: "Also print sizes (a directory's is the sum below it) and hashes.")
    var long = false

    @Flag(name: .customShort("r"), help: "Print every file below PATH instead of its children.")
    var recursive = false

    @Flag(name: .long, help: "Print one JSON object per line: {name, logical_key, type, size, hash | files}.")
    var json = false

    @Argument(help: "The revision: ns/name, ns/name@<hash prefix>, ns/name:latest, ns/name:<timestamp>, a 64-hex top hash or a Quilt+ URI.")
    var revision: String

    @Argument(help: "A directory (or file) of the package.")
    var path: String?

    func execute(_ io: IO) throws {
        let rev = try Revision(revision)
        let path = try QuiltContext.entryPath(rev, given: path, what: "path")
        let registry = try io.context().registry(registryOptions.registry, for: rev)
        try registry.list(try registry.resolve(rev), path: path, recursive: recursive, directoryTotals: long || json,
                          takeBack: io.takeBackUnwritten, pause: io.flush) { item in
            if json {
                var object = JSONObject([
                    ("name", .string(item.name)), ("logical_key", .string(item.logicalKey)),
                    ("type", .string(item.kind.rawValue)), ("size", .int(item.size)),
                ])
                if let hash = item.entry?.hash { object["hash"] = hash.json } else if item.kind == .directory { object["files"] = .int(item.files) }
                io.json(.object(object))
            } else if long {
                let size = String(item.size)
                let padded = String(repeating: " ", count: max(0, 12 - size.count)) + size
                io.line("\(padded)  \(terminalSafe(item.entry?.hash?.value ?? "-"))  \(terminalSafe(item.name))")
            } else {
                io.line(terminalSafe(item.name))
            }
        }
    }
}
