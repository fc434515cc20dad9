// S3 as a source of bytes for installs and fetches.
import QuiltSupport
import QuiltFormat
import QuiltAWS

/// S3 as a source of bytes for installs and fetches.
public struct S3BlobSource: BlobSource {
    public let transfers: S3Transfers

    public init(transfers: S3Transfers) { self.transfers = transfers }

    public func fetch(_ key: PhysicalKey, size: Int, into writer: AtomicFileWriter) throws -> ObjectHash? {
        guard case .s3(let bucket, let objectKey, let versionId) = key else {
            return try LocalBlobSource().fetch(key, size: size, into: writer)
        }
        let source = S3ObjectReference(bucket: bucket, key: objectKey, versionId: versionId)
        try writer.withDescriptor { try transfers.download(source, size: size, into: $0) }
        return nil
    }

    public func fetchBytes(_ key: PhysicalKey, size: Int) throws -> [UInt8]? {
        // An empty object is fetched into its file: a range of an empty object is not satisfiable.
        guard case .s3(let bucket, let objectKey, let versionId) = key, size > 0, size <= S3Transfers.inMemoryLimit else { return nil }
        return try transfers.downloadBytes(S3ObjectReference(bucket: bucket, key: objectKey, versionId: versionId), size: size)
    }
}
