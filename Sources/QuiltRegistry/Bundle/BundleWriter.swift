// `quilt bundle create`: one revision and all its data as one gzip-compressed tar, streamed from the sources to the
// output (no temporary copy of the data), every object checked against its hash on the way.
import QuiltSupport
import QuiltFormat
import QuiltStorage
import QuiltAWS
import QuiltArchive

/// Where a bundle is written: a file (created atomically: a failed run leaves nothing), or a stream.
public enum BundleOutput: Sendable {
    case path(String)
    case stream(@Sendable (UnsafeRawBufferPointer) throws -> Void)
}

extension QuiltContext {
    /// Bundles `revision` (it must name a package) of `registryURL`: the header, the manifest as stored, then each
    /// distinct object once, in manifest order. Objects that are already compressed (by their first bytes) are
    /// stored, the rest deflated at `level`. An object whose bytes do not hash to its entry's hash stops the bundle.
    public func createBundle(_ revision: String, registry registryURL: String?, to output: BundleOutput, level: Int,
                             progress: ProgressHandler? = nil) throws -> BundleSummary {
        let registry = try registry(registryURL)
        let rev = try Revision(revision, allowBareHash: false)
        guard let name = rev.name else { throw RegistryError.invalidRevision(revision, reason: "needs a package name") }
        let topHash = try registry.resolve(rev)
        let manifestBytes = try registry.manifestBytes(topHash)
        var manifest = try ManifestReader.read(manifestBytes)
        let actual = try registry.writer.topHash(of: &manifest)
        guard actual == topHash else { throw RegistryError.corruptManifest(topHash: topHash, actual: actual) }

        var objects: [BundleObject] = []
        var index: [String: Int] = [:]
        for (i, entry) in manifest.entries.enumerated() {
            guard let hash = entry.hash else { throw BundleError.entryWithoutHash(entry.logicalKey) }
            let member = try BundleFormat.objectName(hash)
            if let k = index[member] {
                objects[k].entries.append(i)
            } else {
                index[member] = objects.count
                objects.append(BundleObject(member: member, hash: hash, size: entry.size, entries: [i]))
            }
        }
        let total = objects.reduce(0) { $0 + $1.size }
        let header = BundleHeader(name: name, topHash: topHash, entries: manifest.entries.count, objects: objects.count, bytes: total)

        let file: AtomicFileWriter?
        let sink: (UnsafeRawBufferPointer) throws -> Void
        switch output {
        case .path(let path):
            let writer = try AtomicFileWriter(destination: FileSystem.absolute(path))
            file = writer
            sink = { try writer.write($0) }
        case .stream(let stream):
            file = nil
            sink = stream
        }
        let gzip = try GzipWriter(level: level, sink: sink)
        let tar = TarWriter { try gzip.write($0) }
        try tar.member(name: BundleFormat.headerName, bytes: header.encoded)
        try tar.member(name: BundleFormat.manifestName, bytes: manifestBytes)

        let reader = BlobBlocks(context: self)
        var stored = 0, done = 0
        for (n, object) in objects.enumerated() {
            let entry = manifest.entries[object.entries[0]]
            guard let type = object.hash.hashType else { throw BundleError.unsupportedHashType(object.hash.type) }
            try tar.beginMember(name: object.member, size: object.size)
            let hasher = StreamingHasher(type: type, expectedSize: object.size)
            var first = true
            try reader.forEachBlock(of: entry, size: object.size) { block in
                if first {
                    first = false
                    // Deflate gains nothing on compressed data and would cost most of the time: store it.
                    let compressed = CompressedData.isCompressed(UnsafeRawBufferPointer(rebasing: block.prefix(CompressedData.prefixLength)))
                    if compressed { stored += 1 }
                    try gzip.setLevel(compressed ? 0 : level)
                }
                hasher.update(block)
                try gzip.write(block)
                done += block.count
                progress?(Progress(filesDone: n, filesTotal: objects.count, bytesDone: done, bytesTotal: total))
            }
            let found = hasher.finalize()
            guard found.value == object.hash.value else {
                throw BundleError.sourceChanged(key: entry.logicalKey, reason: "hash \(found.value), manifest \(object.hash.value)")
            }
            try gzip.setLevel(level)
            try tar.endMember(size: object.size)
        }
        try tar.finish()
        try gzip.finish()
        try file?.commit()
        progress?(Progress(filesDone: objects.count, filesTotal: objects.count, bytesDone: done, bytesTotal: total))
        return BundleSummary(header: header, compressedBytes: gzip.bytesOut, storedObjects: stored)
    }
}

/// Entries' bytes in order, in blocks: local files in 1 MiB reads, S3 objects in ranged GETs of 8 MiB.
struct BlobBlocks {
    let context: QuiltContext
    static let localBlock = 1 << 20

    /// Hands `body` the entry's `size` bytes in order; a source of another size is an error.
    func forEachBlock(of entry: ManifestEntry, size: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        switch try PhysicalKey(url: entry.physicalKey) {
        case .local(let path):
            let file = try InputFile(path: path)
            guard file.size == size else {
                throw BundleError.sourceChanged(key: entry.logicalKey, reason: "\(file.size) bytes, manifest \(size)")
            }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: min(Self.localBlock, max(size, 1)), alignment: 64)
            defer { buffer.deallocate() }
            var offset = 0
            while offset < size {
                let want = min(buffer.count, size - offset)
                let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want])
                try file.readFully(into: slice, at: offset)
                try body(UnsafeRawBufferPointer(slice))
                offset += want
            }
        case .s3(let bucket, let key, let versionId):
            let client = try context.s3Client()
            var offset = 0
            while offset < size {
                let range = offset..<min(size, offset + S3Transfers.multipartThreshold)
                let got = try client.getObject(bucket: bucket, key: key, versionId: versionId, range: range).body
                guard got.count == range.count else {
                    throw BundleError.sourceChanged(key: entry.logicalKey, reason: "S3 object shorter than \(size) bytes")
                }
                try got.withUnsafeBytes { try body($0) }
                offset += got.count
            }
        }
    }
}
