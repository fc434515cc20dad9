// quilt3's push: copy the data a revision needs into the registry bucket, then publish the revision there with
// the conflict check, in the order objects → manifest → timestamp pointer → latest.
import QuiltSupport
import QuiltFormat
import QuiltStorage

/// Why a push cannot start. The messages name no option: the command layer words the ones a user typed.
public enum PushError: QuiltError {
    case notABucket(String)
    /// The destination given for the data is not in the registry's bucket.
    case destinationOutsideRegistry(dest: String, bucket: String)
    /// A local file's entry, and copying local files was turned off.
    case localFileNotCopied(String)
    /// No registry given and no `default_remote_registry`.
    case noRegistry
    /// Data can go only to `s3://bucket[/prefix]` (or, for one file, `s3://bucket/key`).
    case badDestination(String)
    /// Publishing a name as it is, but the local registry has no such package.
    case notInLocalRegistry(name: String, registry: String)
    /// `--from-registry` names where `--from` is read; without `--from` it means nothing.
    case fromRegistryWithoutFrom

    public var kind: FailureKind {
        switch self {
        case .notInLocalRegistry: return .operationFailed
        default: return .usage
        }
    }
    public var message: String {
        switch self {
        case .badDestination(let url): return "destination must be s3://bucket[/prefix] without a versionId, not \(quoted(url))"
        case .noRegistry: return "no registry given and no default_remote_registry configured"
        case .notInLocalRegistry(let name, let registry):
            return "no such package \(quoted(name)) in the local registry \(quoted(registry))"
        case .notABucket(let url): return "a push registry must be an S3 bucket \(quoted(url))"
        case .destinationOutsideRegistry(let dest, let bucket):
            return "the destination must be in the registry bucket \(quoted(bucket)), not \(quoted(dest))"
        case .localFileNotCopied(let key): return "local file entries cannot be published without copying them \(quoted(key))"
        case .fromRegistryWithoutFrom: return "a registry to read from was given without the revision to read there"
        }
    }
    public var hint: String? {
        switch self {
        case .notInLocalRegistry: return "a push of a name alone publishes a locally built revision"
        case .notABucket(let url):
            // quilt3 publishes only at a bucket's root; a prefix is where the data goes.
            if case .s3(let bucket, let prefix)? = try? RegistryLocation(url), !prefix.isEmpty {
                return "publish at s3://\(bucket) and put the data under s3://\(bucket)/\(prefix)"
            }
            return nil
        case .destinationOutsideRegistry(let dest, _):
            if case .s3(let bucket, _, _)? = try? PhysicalKey(url: dest) {
                return "to publish into that bucket, make it the registry: s3://\(bucket)"
            }
            return nil
        default:
            return nil
        }
    }
}

public struct PushResult: Sendable {
    public var topHash: String
    /// The timestamp pointer written; nil when `dedupe` found the revision already there.
    public var timestamp: String?
    public var copied: Int
    public var reused: Int
    /// Hashes of entries left in S3 that the push itself had to find.
    public var s3Hashing = S3HashStats()
}

public struct Pusher: Sendable {
    public let registry: Registry
    public let bucket: String
    public let transfers: S3Transfers

    /// `registry` must be an S3 registry at a bucket's root, as quilt3 requires.
    public init(registry: Registry, transfers: S3Transfers) throws {
        guard case .bucket(let bucket, "") = registry.storage.location else { throw PushError.notABucket(registry.url) }
        self.registry = registry
        self.bucket = bucket
        self.transfers = transfers
    }

    /// Publishes the revision `build` describes as `name`, in the order objects → manifest → timestamp pointer →
    /// latest; the revision has been checked by the registry's workflow, and `finishHeader` stamps it and sets its
    /// message. `expected` are the revisions the remote `latest` may hold (the one it was made from, what quilt3
    /// calls the origin; or what this machine last published or read there, and the local latest): unless
    /// `force`, the remote `latest` must be absent or one of them. `destPrefix` is where data goes (default
    /// `<ns>/<name>`).
    ///
    /// The revision streams in tree order from its base and its additions to the manifest, a batch of entries at
    /// a time: each batch's data is copied as the copy rule says (local files uploaded and hashed from the bytes
    /// sent, so each is read once; S3 objects hashed from their checksums where they can be, then copied or kept)
    /// before its lines are written. With a `journalDirectory`, uploads are journalled there so that running the
    /// same push again after an interruption sends only what is missing; the journal is removed once the revision
    /// is published.
    func push(_ name: String, build: RevisionBuild, finishHeader: (inout JSONObject) throws -> Void,
                     expected: [KnownRevision], destPrefix: String? = nil, copyMode: CopyMode = .outsideRegistry,
                     force: Bool = false, dedupe: Bool = false, journalDirectory: String? = nil,
                     useS3Checksums: Bool = true, progress: ProgressHandler? = nil) throws -> PushResult {
        try PackageName.validate(name)
        let remoteLatest = try registry.latest(name)
        // Copied entries get sha2-256-chunked hashes; when every entry already has one, the top hash is known
        // before anything is sent, and a push that would change nothing sends nothing. That is no conflict,
        // whoever published it: nothing is overwritten.
        if dedupe, let remoteLatest, try knownTopHash(build, finishHeader: finishHeader) == remoteLatest {
            transfers.trace?("dedupe: \(remoteLatest) is already the remote latest; nothing sent")
            return PushResult(topHash: remoteLatest, timestamp: nil, copied: 0, reused: 0)
        }
        try checkConflict(name, remoteLatest: remoteLatest, expected: expected, force: force)

        let copier = EntryCopier(transfers: transfers, bucket: bucket, prefix: destPrefix ?? name)
        let journal = try journalDirectory.map { try PushJournal(directory: $0, bucket: bucket, name: name) }
        let tally = Locked((copied: 0, reused: 0, s3Hashing: S3HashStats()))
        let counted = Locked(BatchProgress(progress))
        let transfers = self.transfers
        let completion = LineCompletion.everyEntry { entries in
            // S3 objects' hashes from their checksums first, so a copy need not read them; local files are hashed
            // by their upload.
            let before = try EntryHasher.hashMissing(&entries, remote: transfers, useS3Checksums: useS3Checksums, localFiles: false)
            let handler = counted.withLock { $0.handler(total: entries.count) }
            let counts = try copier.copy(&entries, copyMode: copyMode, journal: journal, progress: handler)
            let after = try EntryHasher.hashMissing(&entries, remote: transfers, useS3Checksums: useS3Checksums)
            let bytes = try entries.totalSize()
            counted.withLock { $0.finishBatch(files: entries.count, bytes: bytes) }
            tally.withLock {
                $0.copied += counts.copied
                $0.reused += counts.reused
                $0.s3Hashing = $0.s3Hashing + before + after
            }
        }
        let written = try build.write(with: registry.writer, finishHeader: finishHeader, completion: completion,
                                      to: .staged(registry.storage))
        if let journal { transfers.abortAbandoned(journal) }
        let topHash = written.topHash
        let counts = tally.value
        if dedupe && topHash == remoteLatest {
            transfers.trace?("dedupe: \(topHash) is already the remote latest; nothing written")
            journal?.remove()
            return PushResult(topHash: topHash, timestamp: nil, copied: counts.copied, reused: counts.reused, s3Hashing: counts.s3Hashing)
        }
        // The remote may have moved while the data was copied: check again, then move latest only if it still
        // holds what was checked.
        let latestNow = try registry.latest(name)
        try checkConflict(name, remoteLatest: latestNow, expected: expected, force: force)
        try written.staged?.commit(as: Registry.manifestKey(topHash))
        let expectation: RefExpectation = force ? .any : (latestNow.map { .hash($0) } ?? .absent)
        let timestamp = try registry.updateRef(name, to: topHash, expecting: expectation)
        journal?.remove()
        return PushResult(topHash: topHash, timestamp: timestamp, copied: counts.copied, reused: counts.reused,
                          s3Hashing: counts.s3Hashing)
    }

    /// The top hash of `build` when every entry already has a sha2-256-chunked hash and a size (so copying it
    /// cannot change it); nil otherwise. Nothing is sent or written.
    private func knownTopHash(_ build: RevisionBuild, finishHeader: (inout JSONObject) throws -> Void) throws -> String? {
        struct NotKnown: Error {}
        let completion = LineCompletion.everyEntry { entries in
            guard entries.allSatisfy({ $0.hash?.hashType == .sha2256Chunked && $0.size >= 0 }) else { throw NotKnown() }
        }
        do {
            return try build.write(with: registry.writer, finishHeader: finishHeader, completion: completion, to: .nothing).topHash
        } catch is NotKnown {
            return nil
        }
    }

    private func checkConflict(_ name: String, remoteLatest: String?, expected: [KnownRevision], force: Bool) throws {
        try Self.checkConflict(name, in: registry.url, remoteLatest: remoteLatest, expected: expected, force: force,
                               by: "push", trace: transfers.trace)
    }

    /// The conflict check of push and rollback: unless `force`, a `latest` that exists must be one of `expected`.
    static func checkConflict(_ name: String, in registryURL: String, remoteLatest: String?, expected: [KnownRevision],
                              force: Bool, by operation: String, trace: TraceHandler?) throws {
        let expecting = expected.isEmpty ? "none" : expected.map { "\($0.hash) (\($0.source))" }.joined(separator: " or ")
        trace?("conflict check: remote latest of \(name) is \(remoteLatest ?? "none"), \(operation) expects "
               + expecting + (force ? " (--force: not checked)" : ""))
        guard !force, let remoteLatest, !expected.contains(where: { $0.hash == remoteLatest }) else { return }
        throw RegistryError.pushConflict(name: name, remoteLatest: remoteLatest, registry: registryURL,
                                         expected: expected.first?.hash)
    }
}

/// A revision a push (or rollback) may find as the remote `latest`, and why it knows it.
public struct KnownRevision: Sendable, Equatable {
    public var hash: String
    /// In words, for traces: "--from", "last published or read here", "the local latest".
    public var source: String

    public init(_ hash: String, source: String) {
        self.hash = hash
        self.source = source
    }
}
