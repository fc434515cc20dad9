// Moving data to, from and within S3 the way quilt3 does, with the package hash always computed here:
// single PUTs below 8 MiB, multipart uploads whose part size is the chunked-hash chunk size at and above it,
// server-side copies, parallel ranged downloads, and S3's checksums used only as a cross-check.
import QuiltSupport
import QuiltFormat
import QuiltAWS
import QuiltHTTP

public struct S3Transfers: Sendable {
    public let client: S3Client
    /// `QUILT_TRANSFER_MAX_CONCURRENCY`: requests in flight at once.
    public let concurrency: Int
    /// Where upload, copy and reuse decisions are traced (`QUILT_TRACE`).
    public let trace: TraceHandler?

    /// Below this, one PUT; at and above it, a multipart upload (quilt3's CHECKSUM_MULTIPART_THRESHOLD).
    public static let multipartThreshold = 8 * 1024 * 1024
    /// quilt3 checks the destination before uploading files of at least this size.
    public static let reuseCheckThreshold = 1024

    public init(client: S3Client, concurrency: Int = 10, trace: TraceHandler? = nil) {
        self.client = client
        self.concurrency = max(1, concurrency)
        self.trace = trace
    }

    static func location(_ bucket: String, _ key: String) -> String { "s3://\(bucket)/\(key)" }

    static func resultKey(bucket: String, key: String, versionId: String?) -> PhysicalKey {
        .s3(bucket: bucket, key: key, versionId: versionId)
    }

    // MARK: Upload

    /// Uploads a local file to `bucket/key`; the hash is computed from the bytes as they are sent. Size, hash and
    /// the bytes sent come from one read of one open file; a file that changed while it was read is read (and
    /// sent) again, and after a few attempts refused with `changedWhileRead`, so an object never gets an entry
    /// that does not describe it. With a `journal`, an upload finished by an earlier, interrupted run is reused
    /// (if its object version still exists), an open multipart upload is resumed, and what finishes now is recorded.
    public func upload(path: String, bucket: String, key: String, journal: PushJournal? = nil,
                       existing: ExistingObjects? = nil) throws -> TransferResult {
        try InputFile.readStably(path) { file in
            try upload(file: file, bucket: bucket, key: key, journal: journal, existing: existing)
        }
    }

    private func upload(file: InputFile, bucket: String, key: String, journal: PushJournal?,
                        existing: ExistingObjects?) throws -> TransferResult {
        let source = SourceIdentity(file)
        if let journal, let (done, match) = journal.completed(bucket: bucket, key: key, source: source),
           let head = try client.headObject(bucket: bucket, key: key, versionId: done.versionId), head.size == file.size {
            let reused = TransferResult(physicalKey: Self.resultKey(bucket: bucket, key: key, versionId: done.versionId),
                                        hash: done.hash, size: file.size, reused: true)
            if match == .same { return reused }
            // A record of an older journal (no inode or ctime): the bytes decide, and the record is renewed in full.
            if try FileHasher.hashUnchanged(file: file, type: .sha2256Chunked) == done.hash {
                try journal.recordCompleted(bucket: bucket, key: key, source: source, versionId: done.versionId, hash: done.hash)
                return reused
            }
        }
        let result = try uploadNow(file: file, bucket: bucket, key: key, journal: journal, source: source, existing: existing)
        // Only now is the identity known to be that of the bytes sent (uploadNow checked the file is unchanged).
        try journal?.recordCompleted(bucket: bucket, key: key, source: source, versionId: result.physicalKey.versionId,
                                     hash: result.hash)
        return result
    }

    private func uploadNow(file: InputFile, bucket: String, key: String, journal: PushJournal?,
                           source: SourceIdentity, existing: ExistingObjects?) throws -> TransferResult {
        let size = file.size
        // quilt3's reuse: if the destination already holds this content, keep its version instead of sending.
        if size >= Self.reuseCheckThreshold, existing?.mayHold(key, size: size) ?? true, let head = try client.headObject(bucket: bucket, key: key), head.size == size,
           let checksum = head.checksumSHA256 {
            let hash = try FileHasher.hashUnchanged(file: file, type: .sha2256Chunked)
            if Self.quiltHash(fromS3Checksum: checksum, size: size) == hash.value {
                return TransferResult(physicalKey: Self.resultKey(bucket: bucket, key: key, versionId: head.versionId),
                                      hash: hash, size: size, reused: true)
            }
        }
        if size < Self.multipartThreshold {
            let bytes = try file.readAll()
            try file.checkUnchanged()
            let digest = SHA256Hasher.digest(bytes)
            let result = try client.putObject(bucket: bucket, key: key, body: .bytes(bytes), bodySHA256: digest,
                                              options: S3PutOptions(checksumSHA256: true))
            let hash = ObjectHash(.sha2256Chunked, value: Self.singlePartValue(digest: digest, size: size))
            if let theirs = result.checksumSHA256, theirs != Base64.encode(digest) {
                throw TransferError.checksumMismatch(location: Self.location(bucket, key), ours: Base64.encode(digest), theirs: theirs)
            }
            return TransferResult(physicalKey: Self.resultKey(bucket: bucket, key: key, versionId: result.versionId),
                                  hash: hash, size: size, reused: false)
        }
        return try multipartUpload(file: file, bucket: bucket, key: key, journal: journal, source: source)
    }

    /// Parts of the chunk size, each read once into memory, hashed, and sent with its checksum; several at once.
    /// Parts an interrupted run finished (in the journal and still listed by S3) are read again, not sent again:
    /// a part whose bytes no longer match what was sent is sent anew. The upload completes only if the file did
    /// not change while its parts were read.
    private func multipartUpload(file: InputFile, bucket: String, key: String, journal: PushJournal?,
                                 source: SourceIdentity) throws -> TransferResult {
        let size = file.size
        let chunk = ChunkedHash.chunkSize(forSize: size)
        let count = ChunkedHash.partCount(forSize: size)
        var resumedParts: [Int: S3UploadedPart] = [:]
        var resumedDigests: [Int: [UInt8]] = [:]
        var resumed: String?
        if let journal, let open = journal.openUpload(bucket: bucket, key: key, source: source),
           let listed = try? client.listParts(bucket: bucket, key: key, uploadId: open.uploadId) {
            resumed = open.uploadId
            for part in listed {
                guard let known = open.parts[part.partNumber], known.etag == part.etag else { continue }
                resumedParts[part.partNumber - 1] = S3UploadedPart(partNumber: part.partNumber, etag: known.etag,
                                                                   checksumSHA256: known.checksum)
                resumedDigests[part.partNumber - 1] = known.digest
            }
        }
        let readPart: @Sendable (Int) throws -> [UInt8] = { index in
            let offset = index * chunk
            var bytes = [UInt8](repeating: 0, count: min(chunk, size - offset))
            try bytes.withUnsafeMutableBytes { try file.readFully(into: $0, at: offset) }
            return bytes
        }
        let stillSame = Locked<Set<Int>>([])
        let recorded = resumedDigests, indices = Array(resumedDigests.keys)
        try TransferPool.run(count: indices.count, maxConcurrency: concurrency) { n in
            if SHA256Hasher.digest(try readPart(indices[n])) == recorded[indices[n]] { stillSame.withLock { _ = $0.insert(indices[n]) } }
        }
        let verified = stillSame.value
        resumedParts = resumedParts.filter { verified.contains($0.key) }
        resumedDigests = resumedDigests.filter { verified.contains($0.key) }
        let upload: S3MultipartUpload
        if let resumed {
            upload = S3MultipartUpload(client: client, bucket: bucket, key: key, uploadId: resumed)
        } else {
            upload = try S3MultipartUpload.start(client: client, bucket: bucket, key: key, options: S3PutOptions(checksumSHA256: true))
            if let journal { try journal.recordStarted(bucket: bucket, key: key, source: source, uploadId: upload.uploadId) }
        }
        let digests = Locked(resumedDigests)
        let client = self.client
        let result: S3PutResult
        do {
            // With a journal the upload stays open on failure for the next run to resume; without one it is aborted.
            result = try upload.run(partCount: count, concurrency: concurrency, alreadySent: resumedParts,
                                    keepOnFailure: journal != nil, beforeCompleting: file.checkUnchanged) { index in
                let bytes = try readPart(index)
                let digest = SHA256Hasher.digest(bytes)
                let part = try client.uploadPart(bucket: bucket, key: key, uploadId: upload.uploadId, partNumber: index + 1,
                                                 body: .bytes(bytes), partSHA256: digest)
                try journal?.recordPart(bucket: bucket, key: key, uploadId: upload.uploadId, number: index + 1, etag: part.etag,
                                        checksum: part.checksumSHA256, digest: digest)
                digests.withLock { $0[index] = digest }
                return part
            }
        } catch FileSystemError.changedWhileRead(let path) {
            // Parts of two versions of the file: nothing to resume, ever.
            upload.abort()
            try journal?.recordAborted(bucket: bucket, key: key, uploadId: upload.uploadId)
            throw FileSystemError.changedWhileRead(path: path)
        }
        return try Self.multipartResult(result, partDigests: digests.value, count: count, size: size, bucket: bucket, key: key)
    }

    /// A completed multipart upload as a transfer result: the package hash from the parts' digests, checked against
    /// the composite SHA-256 checksum S3 sends back where it has one in quilt3's part layout.
    static func multipartResult(_ result: S3PutResult, partDigests: [Int: [UInt8]], count: Int, size: Int,
                                bucket: String, key: String) throws -> TransferResult {
        let value = ChunkedHash.combine(partDigests: (0..<count).map { partDigests[$0]! })
        if let theirs = result.checksumSHA256, let composite = quiltHash(fromS3Checksum: theirs, size: size), composite != value {
            throw TransferError.checksumMismatch(location: location(bucket, key), ours: value, theirs: theirs)
        }
        return TransferResult(physicalKey: resultKey(bucket: bucket, key: key, versionId: result.versionId),
                              hash: ObjectHash(.sha2256Chunked, value: value), size: size, reused: false)
    }

    /// Aborts the multipart uploads an earlier run left that this run did not take over.
    public func abortAbandoned(_ journal: PushJournal) {
        for upload in journal.abandonedUploads() {
            try? client.abortMultipartUpload(bucket: upload.bucket, key: upload.key, uploadId: upload.uploadId)
            try? journal.recordAborted(bucket: upload.bucket, key: upload.key, uploadId: upload.uploadId)
        }
    }

    // MARK: Copy

    /// Server-side copy of `source` (of `size` bytes) to `bucket/key`. The hash is `knownHash` when it is already
    /// sha2-256-chunked, else computed by reading the source.
    public func copy(from source: S3ObjectReference, size: Int, knownHash: ObjectHash?, bucket: String, key: String) throws -> TransferResult {
        let hash = try knownHash.flatMap { $0.hashType == .sha2256Chunked ? $0 : nil } ?? hashObject(source, size: size)
        let versionId: String?
        if size < Self.multipartThreshold {
            versionId = try client.copyObject(from: source, toBucket: bucket, key: key, options: S3PutOptions(checksumSHA256: true)).versionId
        } else {
            let chunk = ChunkedHash.chunkSize(forSize: size)
            let upload = try S3MultipartUpload.start(client: client, bucket: bucket, key: key, options: S3PutOptions(checksumSHA256: true))
            let client = self.client
            versionId = try upload.run(partCount: ChunkedHash.partCount(forSize: size), concurrency: concurrency) { index in
                let start = index * chunk
                return try client.uploadPartCopy(from: source, range: start..<min(size, start + chunk), bucket: bucket,
                                                 key: key, uploadId: upload.uploadId, partNumber: index + 1)
            }.versionId
        }
        return TransferResult(physicalKey: Self.resultKey(bucket: bucket, key: key, versionId: versionId), hash: hash, size: size,
                              reused: false)
    }

    // MARK: Read

    /// The sha2-256-chunked hash of an S3 object, from its bytes (ranged GETs of the chunk size, in parallel).
    public func hashObject(_ source: S3ObjectReference, size: Int) throws -> ObjectHash {
        guard size > 0 else { return ObjectHash(.sha2256Chunked, value: ChunkedHash.combine(partDigests: [])) }
        let chunk = ChunkedHash.chunkSize(forSize: size)
        let count = ChunkedHash.partCount(forSize: size)
        let digests = Locked<[Int: [UInt8]]>([:])
        try TransferPool.run(count: count, maxConcurrency: concurrency) { index in
            let start = index * chunk
            let range = start..<min(size, start + chunk)
            let body = try getRange(source, range, size: size).body
            digests.withLock { $0[index] = SHA256Hasher.digest(body) }
        }
        let done = digests.value
        return ObjectHash(.sha2256Chunked, value: ChunkedHash.combine(partDigests: (0..<count).map { done[$0]! }))
    }

    /// What S3's checksums say about an object's hash.
    public enum ChecksumLookup: Sendable, Equatable {
        /// They determine it.
        case hash(ObjectHash)
        /// They do not (no SHA-256 checksum, another size, a multipart object whose parts are not the chunked
        /// hash's layout or are not listed): read the object.
        case undetermined
        /// GetObjectAttributes failed (a store without it, a policy without `s3:GetObjectAttributes`): read the
        /// object, and do not ask for the others.
        case unavailable
    }

    /// The sha2-256-chunked hash of an S3 object from S3's own SHA-256 checksums, without reading a byte of it.
    public func hashFromChecksums(_ source: S3ObjectReference, size: Int) -> ChecksumLookup {
        guard case .success(let attributes) = checksumAttributes(source) else { return .unavailable }
        guard let attributes, let value = Self.quiltHash(fromAttributes: attributes, size: size) else { return .undetermined }
        return .hash(ObjectHash(.sha2256Chunked, value: value))
    }

    /// GetObjectAttributes of `source`: nil for a missing object (for the read that follows to report); a failure
    /// when the store cannot answer it.
    private func checksumAttributes(_ source: S3ObjectReference) -> Result<S3ObjectAttributes?, any Error> {
        Result { try client.getObjectAttributes(bucket: source.bucket, key: source.key, versionId: source.versionId) }
    }

    /// Downloads `source` into `descriptor` (ranged GETs of 8 MiB in parallel for big objects).
    /// Objects up to this size may be read whole into memory (`downloadBytes`): ten transfers at a time hold at
    /// most 10 MiB.
    public static let inMemoryLimit = 1 << 20

    /// An object of 1 to `inMemoryLimit` bytes, read whole with one GET. An object found to be of another size is
    /// `TransferError.sizeChanged`. The GET asks for one byte more than `size` (`Range: bytes=0-<size>`): an object
    /// replaced by a bigger one since the manifest was written costs that byte, not its whole new size in memory,
    /// and S3's `Content-Range` says how big it now is.
    public func downloadBytes(_ source: S3ObjectReference, size: Int) throws -> [UInt8] {
        precondition(size > 0 && size <= Self.inMemoryLimit, "downloadBytes of an object empty or over the in-memory limit")
        let result = try client.getObject(bucket: source.bucket, key: source.key, versionId: source.versionId,
                                          range: 0..<(size + 1))
        let actual = result.objectSize ?? result.body.count
        guard result.body.count == size, actual == size else {
            throw TransferError.sizeChanged(location: source.description, expected: size, actual: actual)
        }
        return result.body
    }

    public func download(_ source: S3ObjectReference, size: Int, into descriptor: Int32) throws {
        if size < Self.multipartThreshold {
            let result = try client.getObject(bucket: source.bucket, key: source.key, versionId: source.versionId,
                                              destination: .file(descriptor: descriptor, offset: 0))
            guard result.bytesWritten == size else {
                throw TransferError.sizeChanged(location: source.description, expected: size, actual: result.bytesWritten)
            }
            return
        }
        let part = Self.multipartThreshold
        let count = (size + part - 1) / part
        try TransferPool.run(count: count, maxConcurrency: concurrency) { index in
            let start = index * part
            let range = start..<min(size, start + part)
            try getRange(source, range, size: size, destination: .file(descriptor: descriptor, offset: start))
        }
    }

    /// One ranged GET of an object recorded as `size` bytes; `TransferError.sizeChanged`, with the size found,
    /// unless the object is that size and the whole range came back. Every ranged read of an object checks this
    /// way: a range that comes back whole proves nothing of the bytes after it (S3's `Content-Range` gives the
    /// object's size), and a range that starts past a smaller object's end is refused with 416 and no size, so a
    /// HEAD then asks for it.
    @discardableResult
    public func getRange(_ source: S3ObjectReference, _ range: Range<Int>, size: Int,
                         destination: HTTPResponseDestination = .memory) throws -> S3GetResult {
        let result: S3GetResult
        do {
            result = try client.getObject(bucket: source.bucket, key: source.key, versionId: source.versionId, range: range,
                                          destination: destination)
        } catch S3Error.rangeNotSatisfiable(let location) {
            if let found = try client.headObject(bucket: source.bucket, key: source.key, versionId: source.versionId),
               found.size != size {
                throw TransferError.sizeChanged(location: source.description, expected: size, actual: found.size)
            }
            throw S3Error.rangeNotSatisfiable(location: location)
        }
        if let objectSize = result.objectSize, objectSize != size {
            throw TransferError.sizeChanged(location: source.description, expected: size, actual: objectSize)
        }
        let received: Int
        switch destination {
        case .memory: received = result.body.count
        case .file: received = result.bytesWritten
        }
        guard received == range.count else {
            throw TransferError.sizeChanged(location: source.description, expected: size,
                                            actual: result.objectSize ?? range.lowerBound + received)
        }
        return result
    }

    // MARK: Checksums

    /// A single part's value: SHA-256 of its digest; an empty object is SHA-256 of nothing.
    static func singlePartValue(digest: [UInt8], size: Int) -> String {
        size == 0 ? Base64.encode(digest) : Base64.encode(SHA256Hasher.digest(digest))
    }

    /// The sha2-256-chunked value S3's checksums determine, or nil. A single-part object's SHA-256 is the value's
    /// only part digest when it is at most one chunk. A multipart object's checksum is a digest of its parts'
    /// digests, which is the value only when its parts are exactly the chunked hash's parts: so the part list
    /// (sizes and checksums) is checked, and the value combined from the parts' own checksums. The part count in a
    /// checksum or ETag (`-N`) alone proves nothing (a 20 MiB object in parts of 7, 7 and 6 MiB has three parts
    /// too), and a store that lists no parts (moto) leaves a multipart object to be read.
    static func quiltHash(fromAttributes attributes: S3ObjectAttributes, size: Int) -> String? {
        guard attributes.size == size, let checksum = attributes.checksumSHA256 else { return nil }
        let multipart = attributes.totalParts != nil || !attributes.parts.isEmpty || attributes.checksumType == "COMPOSITE"
            || checksum.contains("-") || (attributes.etag?.contains("-") ?? false)
        if !multipart {
            guard attributes.checksumType == nil || attributes.checksumType == "FULL_OBJECT",
                  ChunkedHash.partCount(forSize: size) <= 1, let digest = Base64.decode(checksum), digest.count == 32 else { return nil }
            return singlePartValue(digest: digest, size: size)
        }
        return multipartDigests(fromAttributes: attributes, size: size).map { ChunkedHash.combine(partDigests: $0) }
    }

    /// The SHA-256 digests of a multipart object's parts, when its parts are exactly the chunked hash's parts
    /// (sizes and checksums listed) and S3's composite checksum agrees with them; else nil.
    static func multipartDigests(fromAttributes attributes: S3ObjectAttributes, size: Int) -> [[UInt8]]? {
        guard attributes.size == size, let checksum = attributes.checksumSHA256 else { return nil }
        let chunk = ChunkedHash.chunkSize(forSize: size)
        let count = ChunkedHash.partCount(forSize: size)
        guard count > 0, attributes.totalParts == count, attributes.parts.count == count else { return nil }
        var digests: [[UInt8]] = []
        for (i, part) in attributes.parts.enumerated() {
            let expected = i == count - 1 ? size - chunk * (count - 1) : chunk
            guard part.number == i + 1, part.size == expected, let text = part.checksumSHA256,
                  let digest = Base64.decode(text), digest.count == 32 else { return nil }
            digests.append(digest)
        }
        // S3's own composite must agree with the parts it listed.
        let composite = checksum.split(separator: "-").first.map(String.init) ?? checksum
        guard composite == ChunkedHash.combine(partDigests: digests) else { return nil }
        return digests
    }

    /// What S3's checksums say about an object's sha2-256-chunked part digests (for readers that check an object
    /// a chunk at a time): the digests when they are the chunked layout's, without reading a byte of the object.
    public enum PartDigestLookup: Sendable, Equatable {
        case digests([[UInt8]])
        /// Not a multipart object in the chunked layout, or its parts are not listed (moto).
        case undetermined
        /// GetObjectAttributes failed (a store without it, no permission).
        case unavailable
    }

    /// The part digests of a multipart S3 object from GetObjectAttributes (ObjectParts), if they determine them.
    public func partDigestsFromChecksums(_ source: S3ObjectReference, size: Int) -> PartDigestLookup {
        guard case .success(let attributes) = checksumAttributes(source) else { return .unavailable }
        guard let attributes, let digests = Self.multipartDigests(fromAttributes: attributes, size: size) else { return .undetermined }
        return .digests(digests)
    }

    /// quilt3's conversion of S3's `ChecksumSHA256`: `<b64>-<N>` (multipart of the chunk size) is already the
    /// package value; a plain one (single PUT) is re-hashed, except for an empty object.
    static func quiltHash(fromS3Checksum checksum: String, size: Int) -> String? {
        if let dash = checksum.lastIndex(of: "-") {
            let parts = Int(checksum[checksum.index(after: dash)...])
            guard parts == ChunkedHash.partCount(forSize: size) else { return nil }
            return String(checksum[..<dash])
        }
        guard let digest = Base64.decode(checksum), digest.count == 32 else { return nil }
        if ChunkedHash.partCount(forSize: size) > 1 { return nil }
        return singlePartValue(digest: digest, size: size)
    }
}
