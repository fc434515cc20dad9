// quilt verify: check a directory against a revision (quilt3's verify).
import ArgumentParser
import QuiltFormat
import QuiltRegistry

struct Verify: QuiltCommand, VerboseCommand, QuietCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that a directory holds exactly a revision's files.",
        discussion: """
        Every entry must be present under DIR with the same size and hash (recomputed with the entry's own hash \
        type). Files not in the revision fail the check unless --extra-files-ok. Exit status 0 when it passes, 1 \
        when it does not.
        """)

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption
    @OptionGroup var quietOption: QuietOption

    @Option(name: .long, help: "The directory to check.")
    var dir: String

    @Flag(name: .long, help: "Files not in the revision are allowed.")
    var extraFilesOk = false

    @Flag(name: .long, help: "Print {ok, missing, modified, extra} as JSON.")
    var json = false

    @Argument(help: "The revision.")
    var revision: String

    func execute(_ io: IO) throws {
        let rev = try Revision(revision)
        try rev.requireNoPath()
        let registry = try io.registry(registryOptions, for: rev)
        let topHash = try registry.resolve(rev)
        let progress = io.progressLine("verifying", json: json)
        let report = try VerifyReport(registry: registry, topHash: topHash, directory: dir, progress: progress?.handler)
        progress?.finish()
        let ok = report.ok(extraFilesOK: extraFilesOk)
        if json {
            io.json(.object(JSONObject([
                ("ok", .bool(ok)), ("missing", .array(report.missing.map { .string($0) })),
                ("modified", .array(report.modified.map { .string($0) })), ("extra", .array(report.extra.map { .string($0) })),
            ])))
        } else {
            for key in report.missing { io.line("missing\t\(terminalSafe(key))") }
            for key in report.modified { io.line("modified\t\(terminalSafe(key))") }
            for key in report.extra { io.line("extra\t\(terminalSafe(key))") }
            io.flush()
            io.verdict(ok ? "Verification succeeded" : "Verification failed")
        }
        if !ok { throw ExitCode(ExitStatus.failure) }
    }
}
