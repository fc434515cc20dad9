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
    /// Reads the whole bundle and checks it: the header, the manifest's top hash, the hash and size of every
    /// object, that no object is missing or extra, and the end of the stream.
    public func verifyBundle(_ input: BundleInput, progress: ProgressHandler? = nil) throws -> BundleSummary {
        let reader = try BundleReader(input, writer: manifestWriter)
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
    /// manifest and pointers are written only after every object has arrived and been checked.
    public func unbundle(_ input: BundleInput, registry registryURL: String?, name: String? = nil,
                         progress: ProgressHandler? = nil) throws -> UnbundleResult {
        let registry = try registry(registryURL)
        let reader = try BundleReader(input, writer: manifestWriter)
        let name = name ?? reader.header.name
        try PackageName.validate(name)
        var manifest = reader.manifest
        let keys: [Int: String]
        let reused: Int
        switch registry.storage.location {
        case .directory(let root):
            keys = try unbundleLocally(reader, root: root, progress: progress)
            reused = 0
        case .bucket(let bucket, let prefix):
            guard prefix.isEmpty else { throw PushError.notABucket(registry.url) }
            (keys, reused) = try unbundleToS3(reader, bucket: bucket, name: name, progress: progress)
        }
        for (i, key) in keys { manifest.entries[i].physicalKey = key }
        let topHash = try registry.storeManifest(&manifest)
        guard topHash == reader.header.topHash else {
            throw BundleError.topHashMismatch(header: reader.header.topHash, manifest: topHash)
        }
        let timestamp = try registry.updateRef(name, to: topHash)
        return UnbundleResult(name: name, topHash: topHash, registry: registry.url, timestamp: timestamp,
                              objects: reader.header.objects, bytes: reader.header.bytes, reused: reused)
    }

    /// Each object to `<root>/.quilt/objects/<type>/<hex>` (written whole, renamed into place once checked);
    /// returns each entry's new physical key. Small objects are written by other threads while the stream goes on
    /// (creating and renaming thousands of files costs more than inflating them); a big one is written as it is read.
    private func unbundleLocally(_ reader: BundleReader, root: String, progress: ProgressHandler?) throws -> [Int: String] {
        try FileSystem.makeDirectories(root)
        let base = try FileSystem.realPath(root) + "/.quilt/"
        var keys: [Int: String] = [:]
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
            let url = PhysicalKey.local(path: path).url
            for i in object.entries { keys[i] = url }
            done += object.size
            count += 1
            progress?(Progress(filesDone: count, filesTotal: reader.header.objects, bytesDone: done, bytesTotal: reader.header.bytes))
        }
        finished = true
        try queue.finish()
        return keys
    }

    /// Each object to `<name>/<logical key>` of its first entry; entries sharing it get server-side copies. Small
    /// objects are read whole and sent several at a time while the stream goes on; a big one is sent as it is read.
    private func unbundleToS3(_ reader: BundleReader, bucket: String, name: String,
                              progress: ProgressHandler?) throws -> ([Int: String], Int) {
        let transfers = try transfers()
        let copier = EntryCopier(transfers: transfers, bucket: bucket, prefix: name)
        let entries = reader.manifest.entries
        let keys = Locked<[Int: String]>([:])
        let reused = Locked(0)
        let queue = TransferQueue(maxConcurrency: transferConcurrency)
        var finished = false
        defer { if !finished { queue.abandon() } }
        // The other entries of an object get copies of the first one's upload.
        let place: @Sendable (BundleObject, TransferResult) throws -> Void = { object, result in
            keys.withLock { $0[object.entries[0]] = result.physicalKey.url }
            if result.reused { reused.withLock { $0 += 1 } }
            guard case .s3(let b, let k, let v) = result.physicalKey else { return }
            for i in object.entries.dropFirst() {
                let copy = try transfers.copy(from: S3ObjectReference(bucket: b, key: k, versionId: v), size: object.size,
                                              knownHash: object.hash, bucket: bucket, key: copier.destinationKey(entries[i].logicalKey))
                keys.withLock { $0[i] = copy.physicalKey.url }
            }
        }
        var done = 0, count = 0
        while let object = try reader.nextObject() {
            let key = copier.destinationKey(entries[object.entries[0]].logicalKey)
            if object.size < S3Transfers.multipartThreshold {
                var bytes = [UInt8](repeating: 0, count: object.size)
                try bytes.withUnsafeMutableBytes { raw in
                    var filled = 0
                    while filled < raw.count { filled += try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...])) }
                }
                try reader.finishObject()
                let data = bytes
                try queue.submit {
                    try place(object, transfers.upload(bytes: data, bucket: bucket, key: key, expected: object.hash))
                }
            } else {
                // The reader is not shared across threads: each part's read is one turn, in order.
                let stream = UncheckedReader(reader)
                let result = try transfers.upload(streamOf: object.size, bucket: bucket, key: key) { buffer in
                    var filled = 0
                    while filled < buffer.count {
                        let n = try stream.reader.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
                        guard n > 0 else { throw BundleError.truncated(member: object.member, keys: stream.reader.keys(object)) }
                        filled += n
                    }
                }
                try reader.finishObject()
                try queue.submit { try place(object, result) }
            }
            done += object.size
            count += 1
            progress?(Progress(filesDone: count, filesTotal: reader.header.objects, bytesDone: done, bytesTotal: reader.header.bytes))
        }
        finished = true
        try queue.finish()
        return (keys.value, reused.value)
    }
}

/// Hands the bundle reader to the upload's part jobs, which take turns at it one at a time (OrderedTurns).
private struct UncheckedReader: @unchecked Sendable {
    let reader: BundleReader
    init(_ reader: BundleReader) { self.reader = reader }
}
