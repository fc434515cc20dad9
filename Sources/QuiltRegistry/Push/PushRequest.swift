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

        var manifest: Manifest
        var parent: String?
        var skipped: [[UInt8]] = []
        var s3Hashing = S3HashStats()
        if !request.spec.changesContent && request.from == nil {
            guard let hash = try local.latest(name) else { throw PushError.notInLocalRegistry(name: name, registry: local.url) }
            manifest = try local.loadManifest(hash)
            try Workflow.apply(workflow, to: &manifest, name: name, message: request.spec.message ?? manifest.message)
            if let message = request.spec.message { manifest.setMessage(message) }
            parent = hash
        } else {
            var base: Manifest?
            if let from = request.from {
                parent = try remote.resolve(Revision(from))
                base = try remote.loadManifest(parent!)
            } else {
                parent = try local.latest(name)
            }
            (manifest, skipped, s3Hashing) = try request.spec.makeManifest(base: base, workflow: workflow, context: self,
                                                                           hashing: !request.checkOnly,
                                                                           progress: progress?("hashing"))
        }
        if request.checkOnly {
            return PublishResult(name: name, topHash: "", registry: remote.url, timestamp: nil, workflow: workflow?.id,
                                 stamped: workflow != nil, skipped: skipped)
        }

        let result = try pusher.push(name, manifest: manifest, parent: parent, destPrefix: destPrefix,
                                     copyMode: request.copyMode, force: request.force, dedupe: request.dedupe,
                                     journalDirectory: config.paths.dataDirectory + "/journal", useS3Checksums: useS3Checksums,
                                     progress: progress?("uploading"))
        return PublishResult(name: name, topHash: result.topHash, registry: remote.url, timestamp: result.timestamp,
                             workflow: workflow?.id, stamped: workflow != nil, skipped: skipped,
                             s3Hashing: s3Hashing + result.s3Hashing,
                             catalogURL: catalogPackageURL(bucket: pusher.bucket, name: name, topHash: result.topHash))
    }
}
