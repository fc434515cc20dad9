// `quilt push` as one core call: choose the registry, make the revision (or take the local latest), check where
// the data goes, and publish.
import QuiltFormat

/// Everything `quilt push` takes from its arguments.
public struct PushRequest: Sendable {
    public var spec: RevisionSpec
    /// Start from this revision of the remote registry (or of `fromRegistry`); else from nothing.
    public var from: String?
    /// The registry `from` is read from, when it is not the push's: a promotion (quilt3's
    /// `Package.browse(name, registry=A).push(name, registry=B)`), its objects copied server side.
    public var fromRegistry: String?
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
        let fromRevision = try request.from.map { try Revision($0) }
        try fromRevision?.requireNoPath()
        try PackageName.validate(name)
        if request.fromRegistry != nil && request.from == nil { throw PushError.fromRegistryWithoutFrom }
        let remote: Registry
        if request.registry == nil, request.fromRegistry == nil, let named = fromRevision?.registry {
            // A Quilt+ URI alone as --from names where to publish too: a new revision of that registry's package.
            remote = try registry(named)
            trace?("registry \(remote.url) (the Quilt+ URI of --from)")
        } else {
            guard let registryURL = request.registry ?? config.defaultRemoteRegistry else { throw PushError.noRegistry }
            remote = try registry(RegistryLocation(registryURL))
            trace?("registry \(remote.url) (\(request.registry == nil ? "default_remote_registry" : "--registry"))")
        }
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
        // The revisions the remote latest may be without anyone else having moved it (the conflict check).
        var expected = try knownRevisions(name, in: remote, local: local)
        var skipped: [[UInt8]] = []
        var s3Hashing = S3HashStats()
        let finishHeader: (inout JSONObject) throws -> Void
        if !request.spec.changesContent && request.from == nil {
            // The local latest as it is, with the new message, if one is given.
            guard let hash = try local.latest(name) else { throw PushError.notInLocalRegistry(name: name, registry: local.url) }
            build = RevisionBuild(base: (local, hash), additions: entrySpool())
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
            let base = try fromRevision.map { try self.base($0, registry: request.fromRegistry, pushingTo: remote) }
            // A push built on a revision of the same registry expects exactly that one there (--from); one built on
            // another registry's revision (a promotion) expects what this machine knows of this one.
            if let base, base.registry.url == remote.url { expected = [KnownRevision(base.topHash, source: "--from")] }
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

        let result = try pusher.push(name, build: build, finishHeader: finishHeader, expected: expected, destPrefix: destPrefix,
                                     copyMode: request.copyMode, force: request.force, dedupe: request.dedupe,
                                     journalDirectory: config.paths.dataDirectory + "/journal", useS3Checksums: useS3Checksums,
                                     progress: progress?("uploading"))
        // The remote latest is now this revision (written, or found there by --dedupe): the next push expects it.
        recordSeen(name, topHash: result.topHash, in: remote)
        return PublishResult(name: name, topHash: result.topHash, registry: remote.url, timestamp: result.timestamp,
                             workflow: workflow?.id, stamped: workflow != nil, skipped: skipped,
                             s3Hashing: s3Hashing + result.s3Hashing,
                             catalogURL: catalogPackageURL(bucket: pusher.bucket, name: name, topHash: result.topHash))
    }

    /// The revision a push starts from and the registry it is read from: a Quilt+ URI's own, else `fromRegistry`
    /// (`--from-registry`), else the push's own. A URI and `--from-registry` naming two registries is a usage error.
    func base(_ revision: Revision, registry fromRegistry: String?, pushingTo remote: Registry) throws
        -> (registry: Registry, topHash: String)
    {
        let registry: Registry
        if revision.registry != nil || fromRegistry != nil {
            registry = try self.registry(fromRegistry, for: revision)
        } else {
            registry = remote
        }
        if registry.url != remote.url { trace?("base registry \(registry.url): a promotion to \(remote.url)") }
        return (registry, try registry.resolve(revision))
    }
}
