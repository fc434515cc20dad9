// Uploads whose data arrives as a stream rather than sits in a file (a bundle being unbundled): the same single
// PUTs and chunk-sized multipart uploads with SHA-256 checksums as file uploads, parts read in stream order and
// sent several at a time.
import Foundation
import QuiltSupport
import QuiltFormat
import QuiltAWS
import QuiltHTTP

extension S3Transfers {
    /// Puts `bytes` (less than 8 MiB) at `bucket/key` with its SHA-256 checksum, unless the destination already
    /// holds them (same size, and a checksum that gives `expected`), as quilt3 checks before it uploads.
    public func upload(bytes: [UInt8], bucket: String, key: String, expected: ObjectHash?) throws -> TransferResult {
        let size = bytes.count
        let digest = SHA256Hasher.digest(bytes)
        let value = Self.singlePartValue(digest: digest, size: size)
        if size >= Self.reuseCheckThreshold, expected?.hashType == .sha2256Chunked || expected == nil,
           let head = try client.headObject(bucket: bucket, key: key), head.size == size,
           let checksum = head.checksumSHA256, Self.quiltHash(fromS3Checksum: checksum, size: size) == value {
            return TransferResult(physicalKey: Self.resultKey(bucket: bucket, key: key, versionId: head.versionId),
                                  hash: ObjectHash(.sha2256Chunked, value: value), size: size, reused: true)
        }
        let result = try client.putObject(bucket: bucket, key: key, body: .bytes(bytes), bodySHA256: digest,
                                          options: S3PutOptions(checksumSHA256: true))
        if let theirs = result.checksumSHA256, theirs != Base64.encode(digest) {
            throw TransferError.checksumMismatch(location: Self.location(bucket, key), ours: Base64.encode(digest), theirs: theirs)
        }
        return TransferResult(physicalKey: Self.resultKey(bucket: bucket, key: key, versionId: result.versionId),
                              hash: ObjectHash(.sha2256Chunked, value: value), size: size, reused: false)
    }

    /// S3's largest object (5 TiB): a bigger size cannot be uploaded, so none is started.
    public static let maxObjectSize = 5 << 40

    /// A multipart upload of `size` bytes that `read` hands over in order, into the buffer it is given (it
    /// returns how many bytes it put there, and throws rather than return 0 before the end). Parts are the
    /// chunked hash's chunks, so S3's composite checksum is the package hash; at most `maxParts` parts are in
    /// memory at once, each grown only as its bytes arrive (never allocated from `size`, which a bundle's header
    /// may claim falsely). A failing `read` (a bundle object whose hash is wrong, or that ends early) aborts the
    /// upload: nothing is completed.
    public func upload(streamOf size: Int, bucket: String, key: String, maxParts: Int = 4,
                       read: @escaping @Sendable (UnsafeMutableRawBufferPointer) throws -> Int) throws -> TransferResult {
        guard size <= Self.maxObjectSize else {
            throw TransferError.tooLarge(location: Self.location(bucket, key), size: size, limit: Self.maxObjectSize)
        }
        let chunk = ChunkedHash.chunkSize(forSize: size)
        let count = ChunkedHash.partCount(forSize: size)
        let upload = try S3MultipartUpload.start(client: client, bucket: bucket, key: key, options: S3PutOptions(checksumSHA256: true))
        let turns = OrderedTurns()
        let digests = Locked<[Int: [UInt8]]>([:])
        let client = self.client
        let result = try upload.run(partCount: count, concurrency: min(concurrency, maxParts)) { index in
            let length = min(chunk, size - index * chunk)
            var bytes: [UInt8] = []
            bytes.reserveCapacity(min(length, Self.streamBlock))
            try turns.inOrder(index) {
                let block = UnsafeMutableRawBufferPointer.allocate(byteCount: min(length, Self.streamBlock), alignment: 16)
                defer { block.deallocate() }
                while bytes.count < length {
                    let n = try read(UnsafeMutableRawBufferPointer(rebasing: block[0..<min(block.count, length - bytes.count)]))
                    bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: block[0..<n]))
                }
            }
            let digest = SHA256Hasher.digest(bytes)
            let part = try client.uploadPart(bucket: bucket, key: key, uploadId: upload.uploadId, partNumber: index + 1,
                                             body: .bytes(bytes), partSHA256: digest)
            digests.withLock { $0[index] = digest }
            return part
        }
        return try Self.multipartResult(result, partDigests: digests.value, count: count, size: size, bucket: bucket, key: key)
    }
}

extension S3Transfers {
    /// The reads a streamed part is filled by.
    static let streamBlock = 1 << 20
}

/// Lets jobs that run in parallel take their turns at a shared stream in index order. Jobs are started in index
/// order (TransferPool hands them out so), so the job whose turn it is is always running. After a failure in a
/// turn, the jobs still waiting give up instead of reading from the wrong place.
final class OrderedTurns: @unchecked Sendable {
    // Unchecked: `next` and `failure` are only touched with `condition` locked.
    private let condition = NSCondition()
    private var next = 0
    private var failure: (any Error)?

    /// Runs `body` when every lower index has had its turn. Waiting jobs rethrow a failed turn's error, so
    /// whichever job reports first, the error is the one that happened.
    func inOrder(_ index: Int, _ body: () throws -> Void) throws {
        condition.lock()
        while next != index && failure == nil { condition.wait() }
        let earlier = failure
        condition.unlock()
        if let earlier { throw earlier }
        do {
            try body()
        } catch {
            condition.lock()
            failure = error
            condition.broadcast()
            condition.unlock()
            throw error
        }
        condition.lock()
        next += 1
        condition.broadcast()
        condition.unlock()
    }
}
