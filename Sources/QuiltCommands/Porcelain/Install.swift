// quilt install: materialise a revision's files and record the revision in the local registry (quilt3's install).
import ArgumentParser
import QuiltFormat
import QuiltRegistry

struct Install: QuiltCommand, VerboseCommand, QuietCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Copy a revision's files into a directory and record the revision locally.",
        discussion: """
        Copies every file (or, with --path, the files it selects) to DIR/<logical key>, checking each file's hash \
        before it is put in place; nothing is ever written outside DIR and no partial file is left. The default \
        DIR is <default_install_location or the local registry>/<ns>/<name>. Then records the revision in the \
        local registry (or --dest-registry), keeping the original physical keys as quilt3 does, so its top hash \
        is unchanged, and in DIR's install record (for quilt status and quilt pull).
        """)

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption
    @OptionGroup var quietOption: QuietOption

    @Option(name: .long, help: "The local directory to put the files in.")
    var dest: String?

    @Option(name: .long, help: "The registry to record the revision in (default: the local registry).")
    var destRegistry: String?

    @Option(name: .long, help: ArgumentHelp("Only this logical key, directory key or pattern (data/*.csv); repeatable. With one, a file lands at DIR/<basename> and a directory's or pattern's files relative to it; with several, every file at its logical key.", valueName: "path"))
    var path: [String] = []

    @Flag(name: .long, help: "Print {name, top_hash, dest, files} as JSON.")
    var json = false

    @Argument(help: "The revision: ns/name, ns/name:latest, ns/name@<hash prefix>, ns/name:<timestamp> (a name is needed to record it).")
    var revision: String

    func execute(_ io: IO) throws {
        let progress = ProgressPhaseLines.phases(io, json: json)
        defer { progress?.finish() }
        let result = try io.context().install(revision, registry: registryOptions.registry, destination: dest,
                                              recordIn: destRegistry, paths: path, progress: progress?.handler)
        progress?.finish()
        if json {
            io.json(.object(JSONObject([
                ("name", .string(result.name)), ("top_hash", .string(result.topHash)),
                ("dest", .string(result.destination)), ("files", .int(result.files)),
            ])))
        } else {
            io.info("Installed \(result.name)@\(result.topHash.prefix(7)) to \(result.destination) "
                    + "(\(result.files) file\(result.files == 1 ? "" : "s"))")
        }
    }
}
