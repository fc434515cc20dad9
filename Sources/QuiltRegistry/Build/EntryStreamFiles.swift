// Entry streams kept in files, local or on S3: the outputs of a sharded job, read back by quilt-write-manifest.
import QuiltSupport
import QuiltFormat
import QuiltStorage
import QuiltAWS

extension QuiltContext {
    /// Reads `location` (a path, `file://` URL or `s3://bucket/key`) in blocks, handing each to `feed`; at most one
    /// block (1 MiB locally, 8 MiB from S3) is held at a time.
    public func readEntryStreamFile(_ location: String, _ feed: (UnsafeRawBufferPointer) throws -> Void) throws {
        switch try Self.streamLocation(location) {
        case .local(let path):
            let file = try InputFile(path: path)
            let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
            defer { block.deallocate() }
            var offset = 0
            while offset < file.size {
                let n = try file.read(into: block, at: offset)
                if n == 0 { break }
                try feed(UnsafeRawBufferPointer(rebasing: block[0..<n]))
                offset += n
            }
        case .s3(let bucket, let key, let versionId):
            let client = try s3Client()
            guard let head = try client.headObject(bucket: bucket, key: key, versionId: versionId) else {
                throw StorageError.notFound(location: location)
            }
            // Ranged reads of one version: a stream replaced while it is read cannot mix two writers' lines.
            let version = versionId ?? head.versionId
            var offset = 0
            while offset < head.size {
                let range = offset..<min(head.size, offset + S3Transfers.multipartThreshold)
                let body = try client.getObject(bucket: bucket, key: key, versionId: version, range: range).body
                guard body.count == range.count else {
                    throw TransferError.sizeChanged(location: location, expected: head.size, actual: offset + body.count)
                }
                try body.withUnsafeBytes { try feed($0) }
                offset += body.count
            }
        }
    }

    static func streamLocation(_ text: String) throws -> PhysicalKey {
        if text.hasPrefix("s3://") || text.hasPrefix("file://") { return try PhysicalKey(url: text) }
        return .local(path: FileSystem.absolute(text))
    }
}
