// `quilt push` as one core call: choose the registry, make the revision (or take the local latest), check where
// the data goes, and publish.
import QuiltFormat

/// Everything `quilt push` takes from its arguments.
public struct PushRequest: Sendable {
    public var spec: RevisionSpec
    /// Start from this revision of the remote registry; else from nothing (and the local latest is the revision
    /// the push knows of, as after `quilt install`).
    public var from: String?
    /// `s3://bucket`; nil for `default_remote_registry`.
    public var registry: String?
    /// `s3://<registry bucket>/<prefix>`: where data goes (default `<ns>/<name>`).
    public var dest: String?
    public var copyMode: CopyMode = .outsideRegistry
    public var force = false
    public var dedupe = false
    /// Check against the remote registry's workflow and stop: nothing is uploaded or written.
    public var checkOnly = false

    public init(spec: RevisionSpec, from: String? = nil, registry: String? = nil, dest: String? = nil,
                copyMode: CopyMode = .outsideRegistry, force: Bool = false, dedupe: Bool = false, checkOnly: Bool = false) {
        self.checkOnly = checkOnly
        self.spec = spec
        self.from = from
        self.registry = registry
        self.dest = dest
        self.copyMode = copyMode
        self.force = force
        self.dedupe = dedupe
    }
}

extension QuiltContext {
    /// Publishes what `request` describes. With no content and no `from`, publishes the name's local latest
    /// revision (with the new message, if one is given).
    public func push(_ request: PushRequest, progress: ProgressPhases? = nil) throws -> PublishResult {
        let name = request.spec.name
        guard let registryURL = request.registry ?? config.defaultRemoteRegistry else { throw PushError.noRegistry }
        try PackageName.validate(name)
        let remote = try registry(RegistryLocation(registryURL))
        trace?("registry \(remote.url) (\(request.registry == nil ? "default_remote_registry" : "--registry"))")
        let pusher = try Pusher(registry: remote, transfers: transfers())
        let local = try localRegistry()
        // Checked before any file is read or hashed: a usage error is reported before work, not after it.
        var destPrefix: String?
        if let dest = request.dest {
            guard case .s3(let bucket, let key, nil)? = try? PhysicalKey(url: dest), bucket == pusher.bucket else {
                throw PushError.destinationOutsideRegistry(dest: dest, bucket: pusher.bucket)
            }
            destPrefix = key
        }
        // quilt3 checks against the destination's workflow before it copies anything.
        let workflow = try workflow(request.spec.workflow, in: remote)

        let build: RevisionBuild
        let parent: String?
        var skipped: [[UInt8]] = []
        var s3Hashing = S3HashStats()
        let finishHeader: (inout JSONObject) throws -> Void
        if !request.spec.changesContent && request.from == nil {
            // The local latest as it is, with the new message, if one is given.
            guard let hash = try local.latest(name) else { throw PushError.notInLocalRegistry(name: name, registry: local.url) }
            build = RevisionBuild(base: (local, hash), additions: entrySpool())
            parent = hash
            if let workflow {
                let header = try local.manifestHeader(hash)
                let entries = workflow.entriesSchema == nil ? JSONValue.array([]) : try build.entriesForValidation()
                try workflow.check(name: name, userMeta: header["user_meta"], entries: { entries },
                                   message: request.spec.message ?? header["message"]?.stringValue)
            }
            finishHeader = { header in
                Workflow.stamp(workflow, on: &header)
                if let message = request.spec.message { header["message"] = .string(message) }
            }
        } else {
            let base = try request.from.map { (registry: remote, topHash: try remote.resolve(Revision($0))) }
            parent = try base?.topHash ?? local.latest(name)
            // Local files are hashed as they are uploaded, so each is read once; only a deduplicating push, which
            // wants the top hash before it sends anything, hashes them first.
            let seesEntries = workflow?.entriesSchema != nil
            let composed = try request.spec.compose(base: base, context: self, hashing: request.dedupe && !seesEntries ? .asAdded : .later,
                                                    progress: progress?("hashing")) { userMeta in
                guard let workflow, !seesEntries else { return }
                try workflow.check(name: name, userMeta: userMeta, entries: { .array([]) }, message: request.spec.message)
            }
            if let workflow, seesEntries {
                let entries = try composed.build.entriesForValidation()
                try workflow.check(name: name, userMeta: composed.userMeta, entries: { entries }, message: request.spec.message)
            }
            (build, skipped, s3Hashing) = (composed.build, composed.skipped, composed.s3Hashing)
            finishHeader = { header in
                Workflow.stamp(workflow, on: &header)
                header["message"] = request.spec.message.map { .string($0) } ?? .null
            }
        }
        if request.checkOnly {
            return PublishResult(name: name, topHash: "", registry: remote.url, timestamp: nil, workflow: workflow?.id,
                                 stamped: workflow != nil, skipped: skipped)
        }

        let result = try pusher.push(name, build: build, finishHeader: finishHeader, parent: parent, destPrefix: destPrefix,
                                     copyMode: request.copyMode, force: request.force, dedupe: request.dedupe,
                                     journalDirectory: config.paths.dataDirectory + "/journal", useS3Checksums: useS3Checksums,
                                     progress: progress?("uploading"))
        return PublishResult(name: name, topHash: result.topHash, registry: remote.url, timestamp: result.timestamp,
                             workflow: workflow?.id, stamped: workflow != nil, skipped: skipped,
                             s3Hashing: s3Hashing + result.s3Hashing,
                             catalogURL: catalogPackageURL(bucket: pusher.bucket, name: name, topHash: result.topHash))
    }
}
