// quilt build: build a package revision from local files into a registry (quilt3's set_dir + build).
import ArgumentParser
import QuiltSupport
import QuiltFormat
import QuiltRegistry

/// Options `build` and `push` share: what goes into the revision.
struct RevisionContentOptions: ParsableArguments {
    @Argument(help: "The package name, ns/name.")
    var name: String

    @Argument(help: "A directory whose files become the package root (like quilt3's set_dir('.', DIR)).")
    var directory: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Add one file (or directory) at logical key LK.", valueName: "lk=path"))
    var sets: [String] = []

    @Option(name: .customLong("rm"), help: ArgumentHelp("Remove a logical key (or a directory key) from the --from revision.", valueName: "lk"))
    var removals: [String] = []

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Package metadata: JSON text, or @FILE.", valueName: "json|@file"))
    var meta: String?

    @Option(name: .customLong("entry-meta"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("An entry's metadata (its user_meta): LK=JSON or LK=@FILE. May be repeated.", valueName: "lk=json|@file"))
    var entryMeta: [String] = []

    @Option(name: .long, parsing: .unconditional, help: "The revision message.")
    var message: String?

    @Option(name: .long, help: ArgumentHelp("Start from this revision (incremental update).", valueName: "rev"))
    var from: String?

    @Option(name: .long, help: ArgumentHelp("The registry's workflow to check and stamp the revision with ('' for none; default: the config's default_workflow).", valueName: "id"))
    var workflow: String?

    @Flag(name: .long, help: "Leave out files whose names are not valid UTF-8, with a warning for each, instead of refusing them.")
    var skipUnreadableNames = false

    func validate() throws {
        for set in sets where !set.contains("=") { throw ValidationError("--set takes LK=PATH, got '\(set)'") }
        for item in entryMeta where !item.contains("=") {
            throw ValidationError("--entry-meta takes LK=JSON or LK=@FILE, got '\(item)'")
        }
    }

    /// The revision these options describe.
    func spec() throws -> RevisionSpec {
        var spec = RevisionSpec(name: name, directory: directory,
                                sets: sets.map { set in
                                    let parts = set.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                                    return (String(parts[0]), String(parts[1]))
                                },
                                removals: removals, meta: try meta.map(parseMetaArgument), message: message,
                                workflow: WorkflowChoice(argument: workflow))
        spec.skipUndecodableNames = skipUnreadableNames
        spec.entryMeta = try entryMeta.map { item in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(parts[0]), try parseMetaArgument(String(parts[1])))
        }
        return spec
    }
}

/// One warning per file a build or push left out for its name (`--skip-unreadable-names`).
func warnSkipped(_ result: PublishResult, _ io: IO) {
    for path in result.skipped { io.warning("skipped a file whose name is not valid UTF-8 \(quoted(bytes: path))") }
}

struct Build: QuiltCommand, VerboseCommand, QuietCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build a package revision into a registry.",
        discussion: """
        Adds DIR at the package root as quilt3's set_dir('.', DIR, meta=META) does (honouring .quiltignore; \
        without --meta the header's user_meta is null, as with 'quilt3 push --dir'), adds single files with \
        --set, starts from an existing revision with --from, removes keys with --rm, hashes every new file, \
        writes the manifest and moves the name's pointers. No data is copied: entries point at the files where \
        they are. Prints the top hash, which equals quilt3's for the same inputs.
        """)

    @OptionGroup var content: RevisionContentOptions
    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption
    @OptionGroup var quietOption: QuietOption

    @Flag(name: .long, help: "Check against the registry's workflow and print the top hash; write nothing.")
    var check = false

    @Flag(name: .long, help: "Print {name, top_hash, registry, timestamp, workflow} as JSON.")
    var json = false

    func execute(_ io: IO) throws {
        let progress = ProgressPhaseLines.phases(io, json: json)
        defer { progress?.finish() }
        let result = try io.context().build(content.spec(), from: content.from, registry: registryOptions.registry,
                                            checkOnly: check, progress: progress?.handler)
        progress?.finish()
        warnSkipped(result, io)
        noteS3Hashing(result.s3Hashing, io)
        if json {
            io.json(.object(JSONObject([
                ("name", .string(result.name)), ("top_hash", .string(result.topHash)),
                ("registry", .string(result.registry)), ("timestamp", result.timestamp.map { .integer($0) } ?? .null),
                ("workflow", workflowJSON(result)), ("s3_hashing", s3HashingJSON(result.s3Hashing)),
            ])))
        } else {
            io.line(result.topHash)
            if check { io.info(checkSummary(result)) }
        }
    }
}

/// `workflow` in `--json` output: the id that checked the revision, null for "no workflow" in a registry with
/// workflows, absent… as false when the registry has no workflows config.
func workflowJSON(_ result: PublishResult) -> JSONValue {
    guard result.stamped else { return .bool(false) }
    return result.workflow.map { .string($0) } ?? .null
}

/// `s3_hashing` in `--json`: how many S3 objects were hashed, how many from S3's checksums, how many read, and
/// the bytes downloaded to read them.
func s3HashingJSON(_ stats: S3HashStats) -> JSONValue {
    .object(JSONObject([
        ("objects", .int(stats.objects)), ("from_checksums", .int(stats.fromChecksums)), ("read", .int(stats.read)),
        ("bytes_downloaded", .int(stats.bytesDownloaded)),
    ]))
}

/// The same for `--verbose`.
func noteS3Hashing(_ stats: S3HashStats, _ io: IO) {
    guard stats.objects > 0 else { return }
    io.note("hashed \(stats.objects) S3 object(s): \(stats.fromChecksums) from S3's SHA-256 checksums, \(stats.read) read "
            + "(\(stats.bytesDownloaded) bytes downloaded for hashing)")
}

/// What `--check` says on a terminal.
func checkSummary(_ result: PublishResult) -> String {
    guard result.stamped else { return "check passed: \(result.registry) has no workflows" }
    return "check passed: workflow " + (result.workflow.map { "'\($0)'" } ?? "None") + " of \(result.registry)"
}
