// What a new revision is made of, as `build` and `push` take it from their arguments: a directory at the root,
// single files or directories at logical keys, keys removed from the starting revision, metadata and a message;
// and `quilt build` itself, on the one build path (RevisionBuild).
import QuiltSupport
import QuiltFormat
import QuiltStorage
import QuiltAWS

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
    /// `--entry-meta LK=JSON`: each entry's `user_meta`, as quilt3's `pkg.set(lk, path, meta=…)` sets it on an
    /// entry added, or `pkg[lk].set_meta(…)` on one of the starting revision; the last one given for a key wins.
    public var entryMeta: [(key: String, meta: JSONValue)] = []

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
    public var changesContent: Bool {
        directory != nil || !sets.isEmpty || !removals.isEmpty || meta != nil || !entryMeta.isEmpty
    }

    /// When the data of the entries added is read to be hashed.
    enum Hashing {
        /// As they are added, a batch at a time (a build: each file is read once, there).
        case asAdded
        /// Not before the revision is written: the sizes are known, the hashes found on the way to the writer (a
        /// build whose workflow must see every entry before anything is read) or by the upload (a push).
        case later
    }

    /// The revision this spec describes on top of `base`, as a `RevisionBuild`: removals checked against the base
    /// first (a removal of nothing is refused before any file is read, as quilt3's `delete` refuses it), then
    /// every directory and file added to a spool, hashed as `hashing` says. Directory and `--set` paths may be
    /// `s3://` URLs: the objects are referenced where they are, their hashes taken from S3's SHA-256 checksums
    /// where those determine the value, else from their bytes. Returns the files left out for their names (with
    /// `skipUndecodableNames`) and how S3 objects were hashed, and the package metadata the revision will have,
    /// which `beforeAdding` is given before any file is walked (a workflow's checks, before anything is read).
    func compose(base: (registry: Registry, topHash: String)?, context: QuiltContext, hashing: Hashing,
                 progress: ProgressHandler?,
                 beforeAdding: (_ userMeta: JSONValue?) throws -> Void = { _ in }) throws
        -> (build: RevisionBuild, userMeta: JSONValue?, skipped: [[UInt8]], s3Hashing: S3HashStats) {
        try PackageName.validate(name)
        for key in removals {
            var trimmed = key
            while trimmed.hasSuffix("/") { trimmed.removeLast() }
            if trimmed.isEmpty { throw BuildError.noSuchEntry(key) }
        }
        if !removals.isEmpty, base != nil {
            try RevisionBuild(base: base, removals: removals, additions: context.entrySpool()).check()
        } else if let first = removals.first {
            throw BuildError.noSuchEntry(first)
        }
        // What the directory and the sets do to the package's and directories' metadata, known before any walk.
        var packageMeta: JSONValue?
        var directoryEdits: [(key: String, meta: JSONValue)] = []
        if directory != nil {
            packageMeta = meta ?? .null
        } else if let meta {
            packageMeta = meta
        }
        var setPrefixes: [String?] = []
        for (key, path) in sets {
            guard path.hasPrefix("s3://") ? path.hasSuffix("/") : FileSystem.isDirectory(path) else {
                setPrefixes.append(nil)
                continue
            }
            // quilt3's `set_dir(lkey, path)`: the directory's metadata is set (to none) even when it had some.
            var prefix = key
            while prefix.hasPrefix("/") { prefix.removeFirst() }
            while prefix.hasSuffix("/") { prefix.removeLast() }
            if prefix.isEmpty || prefix == "." {
                packageMeta = .null
                prefix = ""
            } else {
                try LogicalKey.validate(prefix)
                directoryEdits.append((prefix + "/", .null))
            }
            setPrefixes.append(prefix)
        }
        let userMeta = try packageMeta ?? base.flatMap { try $0.registry.manifestHeader($0.topHash)["user_meta"] }
        try beforeAdding(userMeta)

        var entryMetaByKey: [[UInt8]: JSONValue] = [:]
        for (key, meta) in entryMeta {
            try LogicalKey.validate(key)
            entryMetaByKey[Array(key.utf8)] = meta
        }
        var additions = Additions(spool: context.entrySpool(duplicates: .lastWins), context: context, hashing: hashing,
                                  skipUndecodable: skipUndecodableNames, progress: progress, entryMeta: entryMetaByKey)
        if let directory {
            if directory.hasPrefix("s3://") {
                try additions.addS3Directory(url: directory, below: "")
            } else {
                try additions.addDirectory(path: directory, below: "")
            }
        }
        for ((key, path), prefix) in zip(sets, setPrefixes) {
            switch (prefix, path.hasPrefix("s3://")) {
            case (nil, true): try additions.addS3Object(url: path, key: key)
            case (nil, false): try additions.addFile(path: path, key: key)
            case (let prefix?, true): try additions.addS3Directory(url: path, below: prefix)
            case (let prefix?, false): try additions.addDirectory(path: path, below: prefix)
            }
        }
        try additions.finish()
        // Metadata for keys no addition had is for entries of the base, set as they stream by; a key that names
        // none of them is refused now, before anything is uploaded or written.
        let baseEntryMeta = entryMetaByKey.filter { !additions.entryMetaApplied.contains($0.key) }
        let build = RevisionBuild(base: base, removals: removals, additions: additions.spool, packageMeta: packageMeta,
                                  directoryEdits: directoryEdits, entryMeta: baseEntryMeta)
        if let key = baseEntryMeta.keys.min(by: { $0.lexicographicallyPrecedes($1) }), base == nil {
            throw BuildError.entryMetaNamesNoEntry(String(decoding: key, as: UTF8.self))
        }
        if !baseEntryMeta.isEmpty { try build.check() }
        return (build, userMeta, additions.skipped, additions.s3Hashing)
    }
}

/// Entries being added to a build's spool: local files and S3 objects, their hashes found a batch at a time (or
/// left for later), validated as they come.
struct Additions {
    let spool: EntrySpool
    let context: QuiltContext
    let hashing: RevisionSpec.Hashing
    let skipUndecodable: Bool
    let progress: ProgressHandler?
    /// `user_meta` to set on the entries added at these keys.
    let entryMeta: [[UInt8]: JSONValue]
    /// The keys of `entryMeta` an added entry had.
    private(set) var entryMetaApplied: Set<[UInt8]> = []
    /// Files left out because their names are not UTF-8 (with `skipUndecodable`), as paths.
    private(set) var skipped: [[UInt8]] = []
    private(set) var s3Hashing = S3HashStats()
    private var batch: [ManifestEntry] = []
    /// Each batch entry's local path (nil for an S3 object): local files are hashed by path, with no URL parsed.
    private var batchPaths: [String?] = []
    private var found = 0
    private var done = (files: 0, bytes: 0)

    /// Entries hashed per batch: enough to keep every core busy on small files.
    static let batchSize = 8192

    init(spool: EntrySpool, context: QuiltContext, hashing: RevisionSpec.Hashing, skipUndecodable: Bool,
         progress: ProgressHandler?, entryMeta: [[UInt8]: JSONValue] = [:]) {
        self.entryMeta = entryMeta
        self.spool = spool
        self.context = context
        self.hashing = hashing
        self.skipUndecodable = skipUndecodable
        self.progress = progress
    }

    private static func key(_ prefix: String, _ relative: String) -> String {
        prefix.isEmpty ? relative : prefix + "/" + relative
    }

    /// quilt3's `set_dir(prefix, path)`: every regular file below `path` (symbolic links to files followed, links
    /// to directories not descended, `.quiltignore` applied) at `prefix/<relative path>`. The walk hands over files
    /// as it finds them, so memory holds a batch, not the tree's listing. A name that is not UTF-8 is refused
    /// (after the walk, which goes on only to count the others), or left out with `skipUndecodable`.
    mutating func addDirectory(path: String, below prefix: String) throws {
        var undecodable: [[UInt8]] = []
        try DirectoryScanner.walk(path, undecodable: { undecodable.append($0) }) { file in
            // Once a name is known to be refused, the rest is only walked, to count the others in the message.
            if !skipUndecodable && !undecodable.isEmpty { return }
            let key = Self.key(prefix, file.relativePath)
            try LogicalKey.validate(key)
            let realPath = file.realPath  // made on request: once
            try add(ManifestEntry(logicalKey: key, physicalKey: PhysicalKey.local(path: realPath).url, size: file.size, hash: nil),
                    path: realPath)
        }
        if !skipUndecodable, let first = undecodable.first {
            throw BuildError.undecodableName(path: first, others: undecodable.count - 1)
        }
        skipped += undecodable
    }

    /// quilt3's `set(key, path)` of a local file (its size read now).
    mutating func addFile(path: String, key: String) throws {
        let real = try FileSystem.realPath(path)
        guard case .regular(let size)? = FileSystem.kind(ofPath: real) else {
            throw FileSystemError.notARegularFile(path: path)
        }
        try LogicalKey.validate(key)
        try add(ManifestEntry(logicalKey: key, physicalKey: PhysicalKey.local(path: real).url, size: size, hash: nil), path: real)
    }

    /// quilt3's `set(key, "s3://…")`: the object as it is now (its current version unless the URL names one), its
    /// size and version from a HEAD.
    mutating func addS3Object(url: String, key: String) throws {
        guard case .s3(let bucket, let objectKey, let versionId) = try PhysicalKey(url: url) else {
            throw BuildError.unsupportedPhysicalKey(url)
        }
        guard let head = try context.s3Client().headObject(bucket: bucket, key: objectKey, versionId: versionId) else {
            throw StorageError.notFound(location: url)
        }
        try LogicalKey.validate(key)
        let physical = PhysicalKey.s3(bucket: bucket, key: objectKey, versionId: versionId ?? head.versionId)
        try add(ManifestEntry(logicalKey: key, physicalKey: physical.url, size: head.size, hash: nil))
    }

    /// quilt3's `set_dir(prefix, "s3://bucket/prefix/")`: the latest version of every object below the URL's
    /// prefix (keys ending in `/` skipped).
    mutating func addS3Directory(url: String, below root: String) throws {
        guard case .s3(let bucket, var prefix, let versionId) = try PhysicalKey(url: url) else {
            throw BuildError.unsupportedPhysicalKey(url)
        }
        guard versionId == nil else {
            throw ManifestError.invalidPhysicalKey(url, reason: "a prefix of objects has no version: leave out ?versionId=")
        }
        if !prefix.isEmpty && !prefix.hasSuffix("/") { prefix += "/" }
        for object in try context.s3Client().listAllObjectVersions(bucket: bucket, prefix: prefix)
        where object.isLatest && !object.isDeleteMarker && !object.key.hasSuffix("/") {
            let relative = String(decoding: object.key.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
            let key = Self.key(root, relative)
            try LogicalKey.validate(key)
            let physical = PhysicalKey.s3(bucket: bucket, key: object.key, versionId: object.versionId)
            try add(ManifestEntry(logicalKey: key, physicalKey: physical.url, size: object.size, hash: nil))
        }
    }

    private mutating func add(_ entry: ManifestEntry, path: String? = nil) throws {
        var entry = entry
        if !entryMeta.isEmpty {
            let key = Array(entry.logicalKey.utf8)
            if let meta = entryMeta[key] {
                entry.userMeta = meta
                entryMetaApplied.insert(key)
            }
        }
        found += 1
        guard hashing == .asAdded else { return try spool.add(entry) }
        batch.append(entry)
        batchPaths.append(path)
        if batch.count >= Self.batchSize { try hashBatch() }
    }

    /// Hashes the batch held (local files on all cores; S3 objects from their checksums or bytes) into the spool.
    private mutating func hashBatch() throws {
        guard !batch.isEmpty else { return }
        var batchProgress: ProgressHandler?
        if let progress {
            let before = done, total = found
            batchProgress = { p in
                progress(Progress(filesDone: before.files + p.filesDone, filesTotal: total,
                                  bytesDone: before.bytes + p.bytesDone, bytesTotal: 0))
            }
        }
        let local = batch.indices.filter { batchPaths[$0] != nil }
        let results = try EntryHasher.hashFiles(local.map { batchPaths[$0]! }, chunkDigestsTo: context.objectCache,
                                                 progress: batchProgress)
        for (n, i) in local.enumerated() {
            batch[i].hash = results[n].hash
            batch[i].size = results[n].size
        }
        if local.count < batch.count {
            s3Hashing = s3Hashing + (try EntryHasher.hashMissing(&batch, remote: context.transfers(),
                                                                 useS3Checksums: context.useS3Checksums))
        }
        // Summed with checks, as the readers sum them: S3 objects' sizes come from listings, not from this machine.
        let bytes = try batch.totalSize()
        for entry in batch { try spool.add(entry) }
        let (sum, overflow) = done.bytes.addingReportingOverflow(bytes)
        if overflow { throw ManifestError.sizeOverflow(logicalKey: batch.last?.logicalKey ?? "") }
        done.bytes = sum
        done.files += batch.count
        batch.removeAll(keepingCapacity: true)
        batchPaths.removeAll(keepingCapacity: true)
    }

    /// Hashes what is still held and ends the spool's adding.
    mutating func finish() throws {
        try hashBatch()
        try spool.finish()
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
        // A Quilt+ URI as --from names the registry too (another one than --registry is a usage error).
        let fromRevision = try from.map { try Revision($0) }
        try fromRevision?.requireNoPath()
        let registry = try fromRevision.map { try self.registry(registryURL, for: $0) } ?? self.registry(registryURL)
        try PackageName.validate(spec.name)
        let workflow = try workflow(spec.workflow, in: registry)
        let base = try fromRevision.map { (registry: registry, topHash: try registry.resolve($0)) }
        // quilt3 checks before it hashes, so a refusal costs no reading: the package's metadata, name and message
        // before anything is added; a workflow that must see every entry gets them with their sizes, unhashed.
        let seesEntries = workflow?.entriesSchema != nil
        let (build, userMeta, skipped, s3Hashing) = try spec.compose(base: base, context: self, hashing: seesEntries ? .later : .asAdded,
                                                           progress: progress?("hashing")) { userMeta in
            guard let workflow, !seesEntries else { return }
            try workflow.check(name: spec.name, userMeta: userMeta, entries: { .array([]) }, message: spec.message)
        }
        if let workflow, seesEntries {
            let entries = try build.entriesForValidation()
            try workflow.check(name: spec.name, userMeta: userMeta, entries: { entries }, message: spec.message)
        }
        let completion = seesEntries ? LineCompletion.missingHashes { [self] entries in
            try EntryHasher.hashMissing(&entries, remote: entries.contains { $0.physicalKey.hasPrefix("s3://") } ? transfers() : nil,
                                        useS3Checksums: useS3Checksums, chunkDigestsTo: objectCache)
        } : nil
        let written = try build.write(with: registry.writer, finishHeader: { header in
            Workflow.stamp(workflow, on: &header)
            header["message"] = spec.message.map { .string($0) } ?? .null
        }, completion: completion, to: checkOnly ? .nothing : .staged(registry.storage))
        var result = PublishResult(name: spec.name, topHash: written.topHash, registry: registry.url, timestamp: nil,
                                   workflow: workflow?.id, stamped: workflow != nil, skipped: skipped, s3Hashing: s3Hashing)
        guard let staged = written.staged else { return result }
        try staged.commit(as: Registry.manifestKey(written.topHash))
        result.timestamp = try registry.updateRef(spec.name, to: written.topHash)
        return result
    }
}
