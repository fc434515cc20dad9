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
        // As tar and gzip do, the bundle goes into a directory that exists: none is made (and left behind when
        // the bundle fails), and a wrong path fails before any work.
        if case .path(let path) = output, FileSystem.kind(ofPath: FileSystem.parent(of: FileSystem.absolute(path))) != .directory {
            throw FileSystemError.cannotWrite(path: path, reason: "its directory \(quoted(FileSystem.parent(of: FileSystem.absolute(path)))) does not exist")
        }
        let rev = try Revision(revision, allowBareHash: false)
        try rev.requireNoPath()
        let registry = try registry(registryURL, for: rev)
        guard let name = rev.name else { throw RegistryError.invalidRevision(revision, reason: "needs a package name") }
        let topHash = try registry.resolve(rev)
        // A first pass counts the entries and their distinct objects for the header (and checks the manifest);
        // the manifest goes in as stored; a second pass puts each object in the first time an entry needs it, so
        // only the set of objects' names is held, never the entries.
        var pending = Set<String>()
        var entries = 0, total = 0
        let canonical = try registry.readManifest(topHash, order: .stored) { manifest in
            while let entry = try manifest.next() {
                guard let hash = entry.hash else { throw BundleError.entryWithoutHash(entry.logicalKey) }
                // What verify and unbundle would refuse is not bundled.
                try LogicalKey.validate(entry.logicalKey)
                entries += 1
                if pending.insert(try BundleFormat.objectName(hash)).inserted {
                    let (sum, overflow) = total.addingReportingOverflow(entry.size)
                    if overflow { throw ManifestError.sizeOverflow(logicalKey: entry.logicalKey) }
                    total = sum
                }
            }
            return manifest.storedInCanonicalLayout
        }
        let header = BundleHeader(name: name, topHash: topHash, entries: entries, objects: pending.count, bytes: total)
        guard let manifestSize = try registry.storage.head(Registry.manifestKey(topHash))?.size else {
            throw RegistryError.noSuchManifest(topHash)
        }

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
        try tar.beginMember(name: BundleFormat.manifestName, size: manifestSize)
        try registry.readManifestBytes(topHash) { try gzip.write($0) }
        try tar.endMember(size: manifestSize)

        let reader = BlobBlocks(context: self)
        var stored = 0, done = 0, n = 0
        // (Straight to a sorted copy if the first pass found the file out of tree order: the bundle is written as
        // the entries come, so the read must not start again.)
        try registry.readManifest(topHash, canonicalLayout: canonical) { manifest in
            while let entry = try manifest.next() {
                // (An entry without a hash was refused by the first pass.)
                guard let hash = entry.hash, pending.remove(try BundleFormat.objectName(hash)) != nil else { continue }
                guard let type = hash.hashType else { throw BundleError.unsupportedHashType(hash.type) }
                try tar.beginMember(name: try BundleFormat.objectName(hash), size: entry.size)
                let hasher = StreamingHasher(type: type, expectedSize: entry.size)
                var first = true
                try reader.forEachBlock(of: entry, size: entry.size) { block in
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
                    progress?(Progress(filesDone: n, filesTotal: header.objects, bytesDone: done, bytesTotal: total))
                }
                let found = hasher.finalize()
                guard found.value == hash.value else {
                    throw BundleError.sourceChanged(key: entry.logicalKey, reason: "hash \(found.value), manifest \(hash.value)")
                }
                try gzip.setLevel(level)
                try tar.endMember(size: entry.size)
                n += 1
            }
        }
        try tar.finish()
        try gzip.finish()
        try file?.commit()
        progress?(Progress(filesDone: header.objects, filesTotal: header.objects, bytesDone: done, bytesTotal: total))
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
