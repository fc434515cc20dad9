// Putting entries' data into a bucket: the one place that decides, entry by entry, whether its data moves (the
// copy rule) and how: upload a local file, copy an S3 object server-side, or reuse what is already there. Push
// and quilt-upload-blob both go through it.
import QuiltSupport
import QuiltFormat
import QuiltStorage
import QuiltAWS

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

/// Copies entries' data to `s3://bucket/prefix/<logical key>`.
public struct EntryCopier: Sendable {
    public let transfers: S3Transfers
    public let bucket: String
    /// Without a trailing `/`; empty for the bucket root.
    public let prefix: String
    /// The destination's listing, made once (on the first copy that needs it) for every batch a push copies.
    private let listing = Locked<ExistingObjects??>(nil)

    public init(transfers: S3Transfers, bucket: String, prefix: String) {
        self.transfers = transfers
        self.bucket = bucket
        var prefix = prefix
        while prefix.hasSuffix("/") { prefix.removeLast() }
        self.prefix = prefix
    }

    /// Where the data of `logicalKey` goes.
    public func destinationKey(_ logicalKey: String) -> String {
        prefix.isEmpty ? logicalKey : prefix + "/" + logicalKey
    }

    /// The entries `copyMode` moves, with their destination keys. An entry already at its destination stays.
    public func plan(_ entries: [ManifestEntry], copyMode: CopyMode) throws -> [(index: Int, key: String)] {
        var plan: [(index: Int, key: String)] = []
        let trace = transfers.trace
        for (i, entry) in entries.enumerated() {
            let source = try PhysicalKey(url: entry.physicalKey)
            let destKey = destinationKey(entry.logicalKey)
            if case .s3(let b, let k, _) = source, b == bucket, k == destKey {
                trace?("keep \(entry.logicalKey) at \(entry.physicalKey): already at its destination")
                continue
            }
            switch (copyMode, source) {
            case (.none, .local): throw PushError.localFileNotCopied(entry.logicalKey)
            case (.none, _), (.local, .s3):
                trace?("keep \(entry.logicalKey) at \(entry.physicalKey) (--copy \(copyMode.rawValue))")
                continue
            case (.outsideRegistry, .s3(let b, _, _)) where b == bucket:
                trace?("keep \(entry.logicalKey) at \(entry.physicalKey): already in the registry bucket")
                continue
            default: plan.append((i, destKey))
            }
        }
        return plan
    }

    /// Copies what `copyMode` says must move and records in each moved entry its new physical key, and the hash
    /// and size of the bytes actually sent. With a `journal`, a rerun after an interruption sends only what is
    /// missing. Entries left in place keep their keys (their missing hashes are the caller's to compute).
    @discardableResult
    public func copy(_ entries: inout [ManifestEntry], copyMode: CopyMode, journal: PushJournal? = nil,
                     progress: ProgressHandler? = nil) throws -> (copied: Int, reused: Int) {
        let plan = try plan(entries, copyMode: copyMode)
        guard !plan.isEmpty else { return (0, 0) }
        // One listing of the destination instead of a HEAD per file (quilt3 sends one per file of 1 KiB or more).
        let existing = listing.withLock { listed -> ExistingObjects? in
            if let listed { return listed }
            let made = prefix.isEmpty ? nil : ExistingObjects.list(client: transfers.client, bucket: bucket, prefix: prefix + "/")
            listed = .some(made)
            return made
        }
        let results = try transfer(plan, entries: entries, journal: journal, existing: existing, progress: progress)
        for (n, item) in plan.enumerated() {
            entries[item.index].physicalKey = results[n].physicalKey.url
            entries[item.index].hash = results[n].hash
            entries[item.index].size = results[n].size
        }
        let reused = results.filter(\.reused).count
        return (results.count - reused, reused)
    }

    /// Uploads one local file to exactly `key` and returns its entry (logical key: the key's last segment).
    public func uploadFile(_ path: String, key: String) throws -> ManifestEntry {
        let result = try transfers.upload(path: path, bucket: bucket, key: key)
        return ManifestEntry(logicalKey: FileSystem.baseName(of: key), physicalKey: result.physicalKey.url,
                             size: result.size, hash: result.hash)
    }

    /// Small objects many at a time; a big one at a time, its parts in parallel (so threads stay bounded).
    private func transfer(_ plan: [(index: Int, key: String)], entries: [ManifestEntry], journal: PushJournal?,
                          existing: ExistingObjects?, progress: ProgressHandler?) throws -> [TransferResult] {
        let results = Locked<[Int: TransferResult]>([:])
        let done = Locked<(files: Int, bytes: Int)>((0, 0))
        let total = try plan.map { entries[$0.index] }.totalSize()
        let transfers = self.transfers, bucket = self.bucket
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
            if let trace = transfers.trace {
                let how: String
                switch (result.reused, entry.physicalKey.hasPrefix("s3://")) {
                case (true, _): how = "reuse"
                case (false, true): how = "copy"
                case (false, false): how = "upload"
                }
                trace("\(how) \(entry.logicalKey): \(entry.physicalKey) -> \(result.physicalKey.url)")
            }
            if let progress {
                let state = done.withLock { s -> (files: Int, bytes: Int) in
                    s.files += 1
                    s.bytes += max(result.size, 0)
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
