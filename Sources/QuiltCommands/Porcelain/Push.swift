// quilt push: copy data to S3 and publish a revision to a remote registry (quilt3's push).
import ArgumentParser
import QuiltFormat
import QuiltRegistry

struct Push: QuiltCommand, VerboseCommand, QuietCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Copy data to S3 and publish a revision to a remote registry.",
        discussion: """
        With no DIR, --set, --rm, --meta or --from, publishes NAME's latest revision from the local registry. \
        Otherwise builds a revision as 'quilt build' does, starting from --from (a revision in the remote \
        registry) or from nothing. Data goes to \
        s3://<bucket>/<ns>/<name>/<logical key> (or --dest). By default only local files and objects outside the \
        registry bucket are copied (quilt3 7+); --copy all|local|none changes that. Every copied object's hash \
        is computed here and checked against S3's checksum. With --from-registry, --from is read in that \
        registry and its objects are copied server side (a promotion between registries). Unless --force, the \
        push fails with exit status 2 when the remote latest is not the revision the push started from (--from \
        in the same registry), nor the one this machine last published or read there (a record moved by every \
        push, install and pull), nor NAME's local latest. The registry defaults to \
        default_remote_registry from 'quilt config'. With a catalog configured (navigator_url), the revision's \
        catalog page is shown too.
        """)

    @OptionGroup var verboseOption: VerboseOption
    @OptionGroup var quietOption: QuietOption

    @OptionGroup var content: RevisionContentOptions

    @Option(name: .long, help: ArgumentHelp("The remote registry, s3://bucket (default: default_remote_registry).", valueName: "url"))
    var registry: String?

    @Option(name: .long, help: ArgumentHelp("Read --from in this registry (a promotion: objects are copied server side).", valueName: "url"))
    var fromRegistry: String?

    @Option(name: .long, help: ArgumentHelp("Where data goes: s3://<registry bucket>/<prefix> (default: <ns>/<name>).", valueName: "url"))
    var dest: String?

    @Flag(name: .long, help: "Publish even if the remote latest is not the revision this push starts from.")
    var force = false

    @Flag(name: .long, help: "Write nothing when the new top hash equals the remote latest.")
    var dedupe = false

    @Option(name: .long, help: ArgumentHelp("Which entries to copy: default, all, local or none.", valueName: "mode"),
            completion: .list(CopyMode.allCases.map(\.rawValue)))
    var copy: String = CopyMode.outsideRegistry.rawValue

    @Flag(name: .long, help: "Check against the remote registry's workflow; upload and write nothing.")
    var check = false

    @Flag(name: .long, help: "Print {name, top_hash, registry, timestamp, workflow, s3_hashing, uri[, catalog_url]} as JSON.")
    var json = false

    func validate() throws {
        if CopyMode(rawValue: copy) == nil { throw ValidationError("--copy takes default, all, local or none") }
    }

    func execute(_ io: IO) throws {
        var request = PushRequest(spec: try content.spec(), from: content.from, registry: registry, dest: dest,
                                  copyMode: CopyMode(rawValue: copy)!, force: force, dedupe: dedupe, checkOnly: check)
        request.fromRegistry = fromRegistry
        let progress = ProgressPhaseLines.phases(io, json: json)
        defer { progress?.finish() }
        let result = try io.context().push(request, progress: progress?.handler)
        progress?.finish()
        warnSkipped(result, io)
        noteS3Hashing(result.s3Hashing, io)
        if json {
            var object = JSONObject([
                ("name", .string(result.name)), ("top_hash", .string(result.topHash)), ("registry", .string(result.registry)),
                ("timestamp", result.timestamp.map { .integer($0) } ?? .null), ("workflow", workflowJSON(result)),
                ("s3_hashing", s3HashingJSON(result.s3Hashing)),
            ])
            // The revision's Quilt+ URI, as the catalog copies it (not after --check, which publishes nothing).
            if !check, !result.topHash.isEmpty, let location = try? RegistryLocation(result.registry) {
                object["uri"] = .string(QuiltURI(registry: location, name: result.name, topHash: result.topHash).text)
            }
            if let url = result.catalogURL { object["catalog_url"] = .string(url) }
            io.json(.object(object))
        } else if check {
            io.info(checkSummary(result))
        } else {
            io.line(result.topHash)
            let what = result.timestamp == nil ? "already at" : "pushed to"
            io.info("Package \(result.name)@\(result.topHash.prefix(7)) \(what) \(result.registry)")
            if let url = result.catalogURL { io.info("View it in the catalog: \(url)") }
        }
    }
}
