// The one multipart-upload loop: create (or resume) an upload, send the parts still missing on a bounded set of
// threads, complete it in part order, and abort it when anything fails (unless the caller keeps it to resume).
// S3Storage's large puts, package uploads and server-side copies all go through it.
import QuiltSupport
import QuiltStorage

/// One multipart upload of one object.
public struct S3MultipartUpload: Sendable {
    public let client: S3Client
    public let bucket: String
    public let key: String
    public let uploadId: String

    /// Starts a new upload (CreateMultipartUpload).
    public static func start(client: S3Client, bucket: String, key: String, options: S3PutOptions) throws -> S3MultipartUpload {
        let uploadId = try client.createMultipartUpload(bucket: bucket, key: key, options: options)
        return S3MultipartUpload(client: client, bucket: bucket, key: key, uploadId: uploadId)
    }

    /// An upload an earlier run started, to be resumed.
    public init(client: S3Client, bucket: String, key: String, uploadId: String) {
        self.client = client
        self.bucket = bucket
        self.key = key
        self.uploadId = uploadId
    }

    /// Sends parts `0..<partCount` except those in `alreadySent` (index → part), calling `sendPart(index)` on
    /// up to `concurrency` threads, then, unless `beforeCompleting` throws, completes the upload with every part
    /// in order under `condition`. On failure the upload is aborted, unless `keepOnFailure` (a journalled upload
    /// that a rerun resumes).
    @discardableResult
    public func run(partCount: Int, concurrency: Int, alreadySent: [Int: S3UploadedPart] = [:],
                    condition: WriteCondition = .always, keepOnFailure: Bool = false,
                    beforeCompleting: () throws -> Void = {},
                    sendPart: @escaping @Sendable (Int) throws -> S3UploadedPart) throws -> S3PutResult {
        do {
            let parts = Locked(alreadySent)
            let missing = (0..<partCount).filter { alreadySent[$0] == nil }
            try TransferPool.run(count: missing.count, maxConcurrency: concurrency) { m in
                let part = try sendPart(missing[m])
                parts.withLock { $0[missing[m]] = part }
            }
            let sent = parts.value
            try beforeCompleting()
            return try client.completeMultipartUpload(
                bucket: bucket, key: key, uploadId: uploadId, parts: (0..<partCount).map { sent[$0]! }, condition: condition)
        } catch {
            if !keepOnFailure { abort() }
            throw error
        }
    }

    /// AbortMultipartUpload, best effort: an upload left behind costs storage, not correctness.
    public func abort() {
        try? client.abortMultipartUpload(bucket: bucket, key: key, uploadId: uploadId)
    }
}
