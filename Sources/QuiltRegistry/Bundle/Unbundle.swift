// `quilt bundle verify` and `quilt bundle unbundle`: a bundle read once, every object checked before it is kept,
// and for unbundle the revision published where its objects landed (an S3 registry's usual data layout, or the
// content-addressed object store of a local registry).
import QuiltSupport
import QuiltFormat
import QuiltStorage
import QuiltAWS

/// What `quilt bundle unbundle` published.
public struct UnbundleResult: Sendable {
    public var name: String
    public var topHash: String
    public var registry: String
    public var timestamp: String?
    public var objects: Int
    public var bytes: Int
    /// Objects already at their destination with the same content, not sent again (S3).
    public var reused: Int
}

extension QuiltContext {
    /// Opens a bundle: its header and manifest read and checked, the entries in a spool of this context's memory
    /// budget (its lines up to the reader's bound: the registry's own record limit applies when it is written).
    func openBundle(_ input: BundleInput) throws -> BundleReader {
        let spool = EntrySpool(memoryBudget: manifestMemoryBudget, temporaryDirectory: temporaryDirectory,
                               maxRecordSize: BundleReader.maxManifestLine(recordLimit: manifestMaxRecordSize))
        return try BundleReader(input, spool: spool) { header, directories, spool in
            try RevisionBuild(base: nil, additions: spool, directoryEdits: directories)
                .write(with: ManifestWriter(maxRecordSize: .max), finishHeader: { $0 = header }, to: .nothing).topHash
        }
    }

    /// Reads the whole bundle and checks it: the header, the manifest's top hash and logical keys, the hash and
    /// size of every object, that no object is missing or extra, and the end of the stream.
    public func verifyBundle(_ input: BundleInput, progress: ProgressHandler? = nil) throws -> BundleSummary {
        let reader = try openBundle(input)
        var done = 0, count = 0
        while let object = try reader.nextObject() {
            try reader.finishObject()
            done += object.size
            count += 1
            progress?(Progress(filesDone: count, filesTotal: reader.header.objects, bytesDone: done, bytesTotal: reader.header.bytes))
        }
        return BundleSummary(header: reader.header, compressedBytes: reader.compressedBytes, storedObjects: nil)
    }

    /// Publishes the bundled revision in `registryURL` as `name` (default: the bundle's name), its objects checked
    /// as they arrive. On S3 (a bucket's root) objects go to `<ns>/<name>/<logical key>` as a push puts them;
    /// in a local registry to `<registry>/.quilt/objects/<hash type>/<hex>`, where revisions never share a file
    /// that another one could overwrite. Entries point at their new copies; the top hash does not change. The
    /// manifest goes through the one build path (the bundle's entries, spooled as they were read, with their new
    /// physical keys), and it and the pointers are written only after every object has arrived and been checked.
    public func unbundle(_ input: BundleInput, registry registryURL: String?, name: String? = nil,
                         progress: ProgressHandler? = nil) throws -> UnbundleResult {
        let registry = try registry(registryURL)
        if let name { try PackageName.validate(name) }
        // (Refused before the bundle is read: a registry with a prefix has no place for a push's layout.)
        if case .bucket(_, let prefix) = registry.storage.location, !prefix.isEmpty { throw PushError.notABucket(registry.url) }
        let reader = try openBundle(input)
        let name = name ?? reader.header.name
        try PackageName.validate(name)
        let completion: LineCompletion
        let reused: Int
        switch registry.storage.location {
        case .directory(let root):
            let base = try unbundleLocally(reader, root: root, progress: progress)
            completion = .everyEntry { entries in
                for i in entries.indices {
                    guard let hash = entries[i].hash else { throw BundleError.entryWithoutHash(entries[i].logicalKey) }
                    entries[i].physicalKey = PhysicalKey.local(path: base + (try BundleFormat.objectName(hash))).url
                }
            }
            reused = 0
        case .bucket(let bucket, _):
            (completion, reused) = try unbundleToS3(reader, bucket: bucket, name: name, progress: progress)
        }
        let build = RevisionBuild(base: nil, additions: reader.entries, directoryEdits: reader.directories)
        let manifestHeader = reader.manifestHeader
        let written = try build.write(with: registry.writer, finishHeader: { $0 = manifestHeader }, completion: completion,
                                      to: .staged(registry.storage))
        guard written.topHash == reader.header.topHash else {
            throw BundleError.topHashMismatch(header: reader.header.topHash, manifest: written.topHash)
        }
        try written.staged?.commit(as: Registry.manifestKey(written.topHash))
        let timestamp = try registry.updateRef(name, to: written.topHash)
        return UnbundleResult(name: name, topHash: written.topHash, registry: registry.url, timestamp: timestamp,
                              objects: reader.header.objects, bytes: reader.header.bytes, reused: reused)
    }

    /// Each object to `<root>/.quilt/objects/<type>/<hex>` (written whole, renamed into place once checked);
    /// returns the directory the member names are below. Small objects are written by other threads while the
    /// stream goes on (creating and renaming thousands of files costs more than inflating them); a big one is
    /// written as it is read.
    private func unbundleLocally(_ reader: BundleReader, root: String, progress: ProgressHandler?) throws -> String {
        try FileSystem.makeDirectories(root)
        let base = try FileSystem.realPath(root) + "/.quilt/"
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        let queue = TransferQueue(maxConcurrency: 2)
        var finished = false
        defer { if !finished { queue.abandon() } }
        var done = 0, count = 0
        while let object = try reader.nextObject() {
            let path = base + object.member
            if object.size <= buffer.count {
                var filled = 0
                while filled < object.size {
                    filled += try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<object.size]))
                }
                try reader.finishObject()
                let bytes = Array(UnsafeRawBufferPointer(rebasing: buffer[0..<object.size]))
                try queue.submit { try FileSystem.writeAtomically(bytes, to: path) }
            } else {
                let writer = try AtomicFileWriter(destination: path)
                while true {
                    let n = try reader.read(into: buffer)
                    if n == 0 { break }
                    try writer.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                }
                try reader.finishObject()
                try writer.commit()
            }
            done += object.size
            count += 1
            progress?(Progress(filesDone: count, filesTotal: reader.header.objects, bytesDone: done, bytesTotal: reader.header.bytes))
        }
        finished = true
        try queue.finish()
        return base
    }

    /// Each object to `<name>/<logical key>` of its first entry, as it arrives; small objects read whole and sent
    /// several at a time while the stream goes on, a big one sent as it is read. Returns the completion that
    /// gives each entry its physical key when the manifest is written: the upload of its object for the entry
    /// it was uploaded under, a server-side copy of it for the others. Only each object's upload is held
    /// (by member name), never the entries.
    private func unbundleToS3(_ reader: BundleReader, bucket: String, name: String,
                              progress: ProgressHandler?) throws -> (LineCompletion, Int) {
        let transfers = try transfers()
        let copier = EntryCopier(transfers: transfers, bucket: bucket, prefix: name)
        let uploads = Locked<[String: PhysicalKey]>([:])
        let reused = Locked(0)
        let queue = TransferQueue(maxConcurrency: transferConcurrency)
        var finished = false
        defer { if !finished { queue.abandon() } }
        let place: @Sendable (BundleObject, TransferResult) -> Void = { object, result in
            uploads.withLock { $0[object.member] = result.physicalKey }
            if result.reused { reused.withLock { $0 += 1 } }
        }
        var done = 0, count = 0
        while let object = try reader.nextObject() {
            let key = copier.destinationKey(object.keys[0])
            if object.size < S3Transfers.multipartThreshold {
                var bytes = [UInt8](repeating: 0, count: object.size)
                try bytes.withUnsafeMutableBytes { raw in
                    var filled = 0
                    while filled < raw.count { filled += try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...])) }
                }
                try reader.finishObject()
                let data = bytes
                try queue.submit {
                    place(object, try transfers.upload(bytes: data, bucket: bucket, key: key, expected: object.hash))
                }
            } else {
                // Nothing is started for an object S3 cannot hold (a hostile size): there is no upload to leave open.
                guard object.size <= S3Transfers.maxObjectSize else {
                    throw BundleError.tooLargeForS3(member: object.member, keys: reader.keys(object), size: object.size)
                }
                // The reader is not shared across threads: each part's read is one turn, in order.
                let stream = UncheckedReader(reader)
                let result = try transfers.upload(streamOf: object.size, bucket: bucket, key: key) { buffer in
                    let n = try stream.reader.read(into: buffer)
                    guard n > 0 else { throw BundleError.truncated(member: object.member, keys: stream.reader.keys(object)) }
                    return n
                }
                try reader.finishObject()
                place(object, result)
            }
            done += object.size
            count += 1
            progress?(Progress(filesDone: count, filesTotal: reader.header.objects, bytesDone: done, bytesTotal: reader.header.bytes))
        }
        finished = true
        try queue.finish()
        let placed = uploads.value
        let concurrency = transferConcurrency
        let completion = LineCompletion.everyEntry { entries in
            // The entries not uploaded under their own key are copies of their object's upload, made a batch at
            // a time, several at once.
            var copies: [(index: Int, source: S3ObjectReference, object: BundleObject)] = []
            for i in entries.indices {
                guard let hash = entries[i].hash else { throw BundleError.entryWithoutHash(entries[i].logicalKey) }
                let member = try BundleFormat.objectName(hash)
                guard let object = reader.object(named: member), let upload = placed[member],
                      case .s3(let b, let k, let v) = upload else {
                    throw BundleError.missingObjects(count: 1, firstKey: entries[i].logicalKey)
                }
                if entries[i].logicalKey.isIdentical(to: object.keys[0]) {
                    entries[i].physicalKey = upload.url
                } else {
                    copies.append((i, S3ObjectReference(bucket: b, key: k, versionId: v), object))
                }
            }
            let keys = entries.map(\.logicalKey)
            let copied = Locked<[Int: String]>([:])
            let jobs = copies
            try TransferPool.run(count: jobs.count, maxConcurrency: concurrency) { n in
                let (i, source, object) = jobs[n]
                let copy = try transfers.copy(from: source, size: object.size, knownHash: object.hash, bucket: bucket,
                                              key: copier.destinationKey(keys[i]))
                copied.withLock { $0[i] = copy.physicalKey.url }
            }
            for (i, url) in copied.value { entries[i].physicalKey = url }
        }
        return (completion, reused.value)
    }
}

/// Hands the bundle reader to the upload's part jobs, which take turns at it one at a time (OrderedTurns), and to
/// the completion of the manifest's lines, which only looks objects up.
private struct UncheckedReader: @unchecked Sendable {
    let reader: BundleReader
    init(_ reader: BundleReader) { self.reader = reader }
}
