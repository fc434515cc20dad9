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

    /// Starts a new upload (CreateMultipartUpload). When a lost answer made the client ask again, the first
    /// request may have started an upload too, which nothing would ever complete or abort (it costs storage
    /// until a lifecycle rule ends it): those are aborted here.
    public static func start(client: S3Client, bucket: String, key: String, options: S3PutOptions) throws -> S3MultipartUpload {
        let (uploadId, lostAnswers) = try client.startMultipartUpload(bucket: bucket, key: key, options: options)
        if lostAnswers > 0 { abortOrphans(client: client, bucket: bucket, key: key, keeping: uploadId) }
        return S3MultipartUpload(client: client, bucket: bucket, key: key, uploadId: uploadId)
    }

    /// Aborts the uploads of exactly `key` other than `keeping` that have no part yet: an orphan of a lost
    /// answer never got one. (S3 does not say who started an upload, nor, on every server, when: an upload
    /// another writer of this very key started a moment ago and has not yet sent a part to would be taken too,
    /// and that writer fails and is rerun; a resumable upload, which has parts, never is.) Best effort: a
    /// failure to list or abort leaves the orphan to the bucket's lifecycle rule, as before.
    static func abortOrphans(client: S3Client, bucket: String, key: String, keeping: String) {
        guard let uploads = try? client.listMultipartUploads(bucket: bucket, prefix: key) else { return }
        for upload in uploads where upload.key == key && upload.uploadId != keeping {
            guard let parts = try? client.listParts(bucket: bucket, key: key, uploadId: upload.uploadId), parts.isEmpty else { continue }
            try? client.abortMultipartUpload(bucket: bucket, key: key, uploadId: upload.uploadId)
        }
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
