// quilt push: copy data to S3 and publish a revision to a remote registry (quilt3's push).
import ArgumentParser
import QuiltCore

struct Push: QuiltCommand, VerboseCommand {
    static let configuration = CommandConfiguration(
        commandName: "quilt push",
        abstract: "Copy data to S3 and publish a revision to a remote registry.",
        discussion: """
        With no DIR, --set, --rm, --meta or --from, publishes NAME's latest revision from the local registry. \
        Otherwise builds a revision as 'quilt build' does, starting from --from (a revision in the remote \
        registry) or from nothing. Data goes to \
        s3://<bucket>/<ns>/<name>/<logical key> (or --dest). By default only local files and objects outside the \
        registry bucket are copied (quilt3 7+); --copy all|local|none changes that. Every copied object's hash \
        is computed here and checked against S3's checksum. Unless --force, the push fails with exit status 2 \
        when the remote latest is not the revision the push started from (--from, else NAME's local latest, as \
        recorded by 'quilt install'). The registry defaults to \
        default_remote_registry from 'quilt config'.
        """)

    @OptionGroup var verboseOption: VerboseOption

    @OptionGroup var content: RevisionContentOptions

    @Option(name: .long, help: ArgumentHelp("The remote registry, s3://bucket (default: default_remote_registry).", valueName: "url"))
    var registry: String?

    @Option(name: .long, help: ArgumentHelp("Where data goes: s3://<registry bucket>/<prefix> (default: <ns>/<name>).", valueName: "url"))
    var dest: String?

    @Flag(name: .long, help: "Publish even if the remote latest is not the revision this push starts from.")
    var force = false

    @Flag(name: .long, help: "Write nothing when the new top hash equals the remote latest.")
    var dedupe = false

    @Option(name: .long, help: ArgumentHelp("Which entries to copy: default, all, local or none.", valueName: "mode"))
    var copy: String = CopyMode.outsideRegistry.rawValue

    @Flag(name: .long, help: "Print {name, top_hash, registry, timestamp} as JSON.")
    var json = false

    func validate() throws {
        if CopyMode(rawValue: copy) == nil { throw ValidationError("--copy takes default, all, local or none") }
    }

    func execute(_ io: IO) throws {
        let context = try io.context()
        guard let registryURL = registry ?? context.config.defaultRemoteRegistry else {
            throw ArgumentError.invalid("no registry: give --registry s3://bucket or set 'quilt config default_remote_registry'")
        }
        try PackageName.validate(content.name)
        let remote = try context.registry(registryURL)
        let transfers = S3Transfers(client: try context.s3Client(), concurrency: transferConcurrency(io.environment))
        let pusher = try Pusher(registry: remote, transfers: transfers)
        let local = try context.localRegistry()

        var manifest: Manifest
        var parent: String?
        let onlyPublish = content.directory == nil && content.sets.isEmpty && content.removals.isEmpty
            && content.meta == nil && content.from == nil
        if onlyPublish {
            guard let hash = try local.latest(content.name) else { throw RegistryError.noSuchPackage(content.name) }
            manifest = try local.loadManifest(hash)
            if let message = content.message { manifest.setMessage(message) }
            parent = hash
        } else {
            // Like `quilt build`: the revision starts from --from or from nothing. The revision this push knows
            // of (for the conflict check) is --from's, else the local latest, as after `quilt install`.
            var base: Manifest?
            if let from = content.from {
                parent = try remote.resolve(Revision(from))
                base = try remote.loadManifest(parent!)
            } else {
                parent = try local.latest(content.name)
            }
            let hashing = io.progressAllowed(json: json) ? ProgressLine(label: "hashing") : nil
            manifest = try content.makeManifest(base: base, context: context, progress: hashing?.handler)
            hashing?.finish()
        }

        var destPrefix: String?
        if let dest {
            guard case .s3(let bucket, let key, nil) = try PhysicalKey(url: dest), bucket == pusher.bucket else {
                throw PushError.destinationOutsideRegistry(dest: dest, bucket: pusher.bucket)
            }
            destPrefix = key
        }
        let progress = io.progressAllowed(json: json) ? ProgressLine(label: "uploading") : nil
        let result = try pusher.push(content.name, manifest: manifest, parent: parent, destPrefix: destPrefix,
                                     copyMode: CopyMode(rawValue: copy)!, force: force, dedupe: dedupe,
                                     journalDirectory: context.config.paths.dataDirectory + "/journal",
                                     progress: progress?.handler)
        progress?.finish()
        if json {
            io.json(.object(JSONObject([
                ("name", .string(content.name)), ("top_hash", .string(result.topHash)), ("registry", .string(remote.url)),
                ("timestamp", result.timestamp.map { .integer($0) } ?? .null),
            ])))
        } else {
            io.line(result.topHash)
            let what = result.timestamp == nil ? "already at" : "pushed to"
            io.info("Package \(content.name)@\(result.topHash.prefix(7)) \(what) \(remote.url)")
        }
    }
}
