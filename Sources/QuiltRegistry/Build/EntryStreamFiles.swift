// Entry streams kept in files, local or on S3: the outputs of a sharded job, read back by quilt-write-manifest.
import QuiltSupport
import QuiltFormat
import QuiltStorage
import QuiltAWS

extension QuiltContext {
    /// Reads `location` (a path, `file://` URL or `s3://bucket/key`, with `?versionId=`) in blocks, handing each to
    /// `feed`: the storage readers' pieces (1 MiB here, 8 MiB ranged GETs of one version from S3), one at a time.
    public func readEntryStreamFile(_ location: String, _ feed: (UnsafeRawBufferPointer) throws -> Void) throws {
        let reader: any ObjectReader
        switch try Self.streamLocation(location) {
        case .local(let path):
            reader = LocalObjectReader(file: try InputFile(path: path))
        case .s3(let bucket, let key, let versionId):
            reader = try S3ObjectReader(client: try s3Client(), bucket: bucket, key: key, versionId: versionId)
        }
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { block.deallocate() }
        while true {
            let n = try reader.read(into: block)
            if n == 0 { return }
            try feed(UnsafeRawBufferPointer(rebasing: block[0..<n]))
        }
    }

    static func streamLocation(_ text: String) throws -> PhysicalKey {
        if text.hasPrefix("s3://") || text.hasPrefix("file://") { return try PhysicalKey(url: text) }
        return .local(path: FileSystem.absolute(text))
    }
}
