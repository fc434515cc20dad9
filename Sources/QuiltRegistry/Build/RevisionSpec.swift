// What a new revision is made of, as `build` and `push` take it from their arguments: a directory at the root,
// single files or directories at logical keys, keys removed from the starting revision, metadata and a message.
import QuiltSupport
import QuiltFormat

public struct RevisionSpec: Sendable {
    /// The package name, ns/name.
    public var name: String
    /// A local directory or an `s3://` prefix that becomes the package root.
    public var directory: String?
    /// `(logical key, path or s3:// URL)` pairs added after the directory.
    public var sets: [(key: String, path: String)] = []
    /// Logical keys (or directory keys) removed from the starting revision.
    public var removals: [String] = []
    /// Package metadata (`user_meta`); nil leaves the starting revision's (or none).
    public var meta: JSONValue?
    public var message: String?
    /// `--workflow`: which of the registry's workflows checks and stamps the revision.
    public var workflow: WorkflowChoice
    /// Leave out files whose names are not valid UTF-8 (reported in the result) instead of refusing them.
    public var skipUndecodableNames = false

    public init(name: String, directory: String? = nil, sets: [(key: String, path: String)] = [], removals: [String] = [],
                meta: JSONValue? = nil, message: String? = nil, workflow: WorkflowChoice = .unspecified) {
        self.workflow = workflow
        self.name = name
        self.directory = directory
        self.sets = sets
        self.removals = removals
        self.meta = meta
        self.message = message
    }

    /// True when the spec adds, removes or changes anything (else `push` publishes the local latest as it is).
    public var changesContent: Bool { directory != nil || !sets.isEmpty || !removals.isEmpty || meta != nil }

    /// The manifest this spec describes on top of `base`, checked and stamped by `workflow` (nil: the registry has
    /// no workflows config), every hash computed; and the paths of the files left out for their names (with
    /// `skipUndecodableNames`). Directory and `--set` paths may be `s3://` URLs: the objects are referenced where
    /// they are and hashed from S3's SHA-256 checksums where those determine the value, else from their bytes
    /// (`s3Hashing` says which). With `hashing` false (a check that publishes nothing), hashes are computed only
    /// where a size is unknown.
    public func makeManifest(base: Manifest?, workflow: Workflow?, context: QuiltContext, hashing: Bool = true,
                             progress: ProgressHandler?) throws -> (manifest: Manifest, skipped: [[UInt8]], s3Hashing: S3HashStats) {
        var skipped: [[UInt8]] = []
        try PackageName.validate(name)
        var builder = PackageBuilder(base: base ?? Manifest())
        for key in removals { try builder.remove(key) }
        if let directory {
            if directory.hasPrefix("s3://") {
                try builder.setS3Directory(".", url: directory, meta: meta, client: context.s3Client())
            } else {
                skipped += try builder.setDirectory(".", path: directory, meta: meta, skipUndecodable: skipUndecodableNames)
            }
        } else if let meta {
            builder.setPackageMeta(meta)
        }
        for (key, path) in sets {
            if path.hasPrefix("s3://") {
                if path.hasSuffix("/") {
                    try builder.setS3Directory(key, url: path, meta: nil, client: context.s3Client())
                } else {
                    try builder.setS3Object(key, url: path, client: context.s3Client())
                }
            } else if FileSystem.isDirectory(path) {
                skipped += try builder.setDirectory(key, path: path, meta: nil, skipUndecodable: skipUndecodableNames)
            } else {
                try builder.setFile(key, path: path)
            }
        }
        // quilt3 checks before it hashes (a refusal costs no reading), so do that whenever every size is known.
        let sizesKnown = builder.manifest.entries.allSatisfy { $0.size >= 0 }
        if sizesKnown { try builder.applyWorkflow(workflow, name: name, message: message) }
        if sizesKnown && !hashing {
            builder.setMessage(message)
            return (builder.manifest, skipped, S3HashStats())
        }
        let needsS3 = builder.manifest.entries.contains { ($0.hash == nil || $0.size < 0) && $0.physicalKey.hasPrefix("s3://") }
        let stats = try builder.hashMissing(remote: needsS3 ? context.transfers() : nil, useS3Checksums: context.useS3Checksums,
                                            progress: progress)
        if !sizesKnown { try builder.applyWorkflow(workflow, name: name, message: message) }
        builder.setMessage(message)
        return (builder.manifest, skipped, stats)
    }
}

/// What a build or push published.
public struct PublishResult: Sendable {
    public var name: String
    public var topHash: String
    /// The registry's URL.
    public var registry: String
    /// The timestamp pointer written; nil when a deduplicated push found the revision already there, or when
    /// nothing was written (`--check`).
    public var timestamp: String?
    /// The id of the workflow that checked the revision (nil: none, or no workflows config).
    public var workflow: String?
    /// Whether the registry has a workflows config (and so the revision carries a stamp).
    public var stamped: Bool
    /// Files left out because their names are not valid UTF-8 (`RevisionSpec.skipUndecodableNames`), as paths.
    public var skipped: [[UInt8]] = []
    /// How S3 objects' hashes were found: from S3's checksums, or by downloading them.
    public var s3Hashing = S3HashStats()
    /// The revision's page in the configured catalog (pushes only, with `navigator_url` set).
    public var catalogURL: String?
}

/// Names the phases of a long operation and hands out a progress handler for each; the command layer draws
/// them (a new phase ends the previous one's line). The core never prints.
public typealias ProgressPhases = @Sendable (_ phase: String) -> ProgressHandler

extension QuiltContext {
    /// `quilt build`: the revision `spec` describes, starting from `from` (a revision in the same registry),
    /// checked by the registry's workflow, stored in `registryURL` (default: the local registry) with its name
    /// moved to it. No data is copied. With `checkOnly`, stores nothing and moves nothing (the top hash is still
    /// computed).
    public func build(_ spec: RevisionSpec, from: String?, registry registryURL: String?, checkOnly: Bool = false,
                      progress: ProgressPhases? = nil) throws -> PublishResult {
        let registry = try registry(registryURL)
        try PackageName.validate(spec.name)
        let workflow = try workflow(spec.workflow, in: registry)
        if from == nil && spec.isWholeLocalDirectory && workflow?.entriesSchema == nil {
            // A directory and nothing else: built in bounded memory, however many files.
            var skipped: [[UInt8]] = []
            let manifest = try spec.spooledManifest(workflow: workflow, spool: entrySpool(), skipped: &skipped,
                                                    progress: progress?("hashing"))
            var result = PublishResult(name: spec.name, topHash: "", registry: registry.url, timestamp: nil,
                                       workflow: workflow?.id, stamped: workflow != nil, skipped: skipped)
            result.topHash = checkOnly ? try registry.writer.topHash(of: manifest) : try registry.storeManifest(manifest)
            if !checkOnly { result.timestamp = try registry.updateRef(spec.name, to: result.topHash) }
            return result
        }
        let base = try from.map { try registry.loadManifest(registry.resolve(Revision($0))) }
        var (manifest, skipped, s3Hashing) = try spec.makeManifest(base: base, workflow: workflow, context: self,
                                                                   progress: progress?("hashing"))
        var result = PublishResult(name: spec.name, topHash: "", registry: registry.url, timestamp: nil,
                                   workflow: workflow?.id, stamped: workflow != nil, skipped: skipped, s3Hashing: s3Hashing)
        if checkOnly {
            result.topHash = try registry.writer.topHash(of: &manifest)
            return result
        }
        result.topHash = try registry.storeManifest(&manifest)
        result.timestamp = try registry.updateRef(spec.name, to: result.topHash)
        return result
    }
}
