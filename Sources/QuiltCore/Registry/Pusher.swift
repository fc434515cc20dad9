// quilt3's push: copy the data a revision needs into the registry bucket, then publish the revision there with
// the conflict check, in the order objects → manifest → timestamp pointer → latest.

/// Which entries a push copies into the registry bucket.
public enum CopyMode: String, Sendable, CaseIterable {
    /// quilt3 ≥ 7: local files, and S3 objects outside the registry bucket.
    case outsideRegistry = "default"
    /// Every entry (quilt3 ≤ 6.3.1), except one whose destination is its source.
    case all
    /// Local files only; S3 objects keep their keys.
    case local
    /// Nothing: every entry must already be in S3 (manifest-only publishing).
    case none
}

public enum PushError: QuiltError {
    case notABucket(String)
    case destinationOutsideRegistry(dest: String, bucket: String)
    case localFileNotCopied(String)

    public var kind: FailureKind { .usage }
    public var message: String {
        switch self {
        case .notABucket(let url): return "a push registry must be an S3 bucket \(quoted(url))"
        case .destinationOutsideRegistry(let dest, let bucket):
            return "--dest must be in the registry bucket \(quoted(bucket)), not \(quoted(dest))"
        case .localFileNotCopied(let key): return "with --copy none, local file entries cannot be published \(quoted(key))"
        }
    }
}

public struct PushResult: Sendable {
    public var topHash: String
    /// The timestamp pointer written; nil when `dedupe` found the revision already there.
    public var timestamp: String?
    public var copied: Int
    public var reused: Int
}

public struct Pusher: Sendable {
    public let registry: Registry
    public let bucket: String
    public let transfers: S3Transfers

    /// `registry` must be an S3 registry at a bucket's root, as quilt3 requires.
    public init(registry: Registry, transfers: S3Transfers) throws {
        guard let storage = registry.storage as? S3Storage, storage.prefix.isEmpty else {
            throw PushError.notABucket(registry.url)
        }
        self.registry = registry
        self.bucket = storage.bucket
        self.transfers = transfers
    }

    /// Publishes `manifest` as `name`. `parent` is the revision it was made from (what quilt3 calls the origin):
    /// unless `force`, the remote `latest` must be absent or equal to it. `destPrefix` is where data goes
    /// (default `<ns>/<name>`).
    /// With a `journalDirectory`, uploads are journalled there so that running the same push again after an
    /// interruption sends only what is missing; the journal is removed once the revision is published.
    public func push(_ name: String, manifest input: Manifest, parent: String?, destPrefix: String? = nil,
                     copyMode: CopyMode = .outsideRegistry, force: Bool = false, dedupe: Bool = false,
                     journalDirectory: String? = nil, progress: ProgressHandler? = nil) throws -> PushResult {
        try PackageName.validate(name)
        try registry.refuseWorkflows()
        var manifest = input
        try manifest.normalize()
        let remoteLatest = try registry.latest(name)
        try checkConflict(name, remoteLatest: remoteLatest, parent: parent, force: force)
        // Copied entries get sha2-256-chunked hashes; when every entry already has one, the top hash is known
        // before anything is sent, and a push that would change nothing sends nothing.
        if dedupe, let remoteLatest, manifest.entries.allSatisfy({ $0.hash?.hashType == .sha2256Chunked && $0.size >= 0 }),
           try ManifestWriter().topHash(of: &manifest) == remoteLatest {
            return PushResult(topHash: remoteLatest, timestamp: nil, copied: 0, reused: 0)
        }

        var prefix = destPrefix ?? name
        while prefix.hasSuffix("/") { prefix.removeLast() }
        var plan: [(index: Int, key: String)] = []
        for (i, entry) in manifest.entries.enumerated() {
            let source = try PhysicalKey(url: entry.physicalKey)
            let destKey = prefix.isEmpty ? entry.logicalKey : prefix + "/" + entry.logicalKey
            if case .s3(let b, let k, _) = source, b == bucket, k == destKey { continue }
            switch (copyMode, source) {
            case (.none, .local): throw PushError.localFileNotCopied(entry.logicalKey)
            case (.none, _), (.local, .s3): continue
            case (.outsideRegistry, .s3(let b, _, _)) where b == bucket: continue
            default: plan.append((i, destKey))
            }
        }

        let journal = try journalDirectory.map { try PushJournal(directory: $0, bucket: bucket, name: name) }
        // One listing of the destination instead of a HEAD per file (quilt3 sends one per file of 1 KiB or more).
        let existing = plan.isEmpty ? nil : ExistingObjects.list(client: transfers.client, bucket: bucket, prefix: prefix + "/")
        let results = try copy(plan, entries: manifest.entries, journal: journal, existing: existing, progress: progress)
        if let journal { transfers.abortAbandoned(journal) }
        for (n, item) in plan.enumerated() {
            manifest.entries[item.index].physicalKey = results[n].physicalKey.url
            manifest.entries[item.index].hash = results[n].hash
        }
        try EntryHasher.hashMissing(&manifest.entries, remote: transfers)

        let topHash = try ManifestWriter().topHash(of: &manifest)
        let reused = results.filter(\.reused).count
        if dedupe && topHash == remoteLatest {
            journal?.remove()
            return PushResult(topHash: topHash, timestamp: nil, copied: results.count - reused, reused: reused)
        }
        // The remote may have moved while the data was copied: check again, then move latest only if it still
        // holds what was checked.
        let latestNow = try registry.latest(name)
        try checkConflict(name, remoteLatest: latestNow, parent: parent, force: force)
        try registry.storeManifest(&manifest)
        let expectation: RefExpectation = force ? .any : (latestNow.map { .hash($0) } ?? .absent)
        let timestamp = try registry.updateRef(name, to: topHash, expecting: expectation)
        journal?.remove()
        return PushResult(topHash: topHash, timestamp: timestamp, copied: results.count - reused, reused: reused)
    }

    private func checkConflict(_ name: String, remoteLatest: String?, parent: String?, force: Bool) throws {
        guard !force, let remoteLatest, remoteLatest != parent else { return }
        throw RegistryError.pushConflict(name: name, remoteLatest: remoteLatest)
    }

    /// Small objects many at a time; a big one at a time, its parts in parallel (so threads stay bounded).
    private func copy(_ plan: [(index: Int, key: String)], entries: [ManifestEntry], journal: PushJournal?,
                      existing: ExistingObjects?, progress: ProgressHandler?) throws -> [TransferResult] {
        let results = Locked<[Int: TransferResult]>([:])
        let done = Locked<(files: Int, bytes: Int)>((0, 0))
        let total = plan.reduce(0) { $0 + max(entries[$1.index].size, 0) }
        let one: @Sendable (Int) throws -> Void = { n in
            let entry = entries[plan[n].index]
            let result: TransferResult
            switch try PhysicalKey(url: entry.physicalKey) {
            case .local(let path):
                result = try transfers.upload(path: path, bucket: bucket, key: plan[n].key, journal: journal, existing: existing)
            case .s3(let b, let k, let v):
                let source = S3ObjectReference(bucket: b, key: k, versionId: v)
                var size = entry.size
                if size < 0 {
                    guard let head = try transfers.client.headObject(bucket: b, key: k, versionId: v) else {
                        throw StorageError.notFound(location: entry.physicalKey)
                    }
                    size = head.size
                }
                result = try transfers.copy(from: source, size: size, knownHash: entry.hash, bucket: bucket, key: plan[n].key)
            }
            results.withLock { $0[n] = result }
            if let progress {
                let state = done.withLock { s -> (files: Int, bytes: Int) in
                    s.files += 1
                    s.bytes += max(entry.size, 0)
                    return s
                }
                progress(Progress(filesDone: state.files, filesTotal: plan.count, bytesDone: state.bytes, bytesTotal: total))
            }
        }
        let isBig = plan.map { entries[$0.index].size >= S3Transfers.multipartThreshold }
        let small = plan.indices.filter { !isBig[$0] }
        try TransferPool.run(count: small.count, maxConcurrency: transfers.concurrency) { try one(small[$0]) }
        for n in plan.indices where isBig[n] { try one(n) }
        let all = results.value
        return plan.indices.map { all[$0]! }
    }
}
