// The Storage interface over an S3 bucket, optionally below a prefix: `s3://bucket[/prefix]`.
import QuiltSupport
import QuiltStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import QuiltHTTP

/// A `Storage` whose keys are objects in one bucket, relative to an optional prefix.
public struct S3Storage: Storage {
    public let client: S3Client
    public let bucket: String
    /// The key prefix, without leading or trailing `/`; empty for the bucket root.
    public let prefix: String

    /// Files (manifests) at least this big go up as multipart uploads. Package data does not use this: its
    /// part size is fixed by the chunked hash (S3Transfers).
    public var multipartThreshold: Int
    /// The part size of those uploads.
    public var partSize: Int
    /// Whether `partSize` was chosen by the user: an object that would need more than S3's 10,000 parts is then
    /// an error naming the setting, rather than sent in larger parts.
    public var partSizeIsFixed = false
    static let maximumParts = 10_000
    /// Single PUTs stop at 5 GiB.
    static let singlePutLimit = 5 * 1024 * 1024 * 1024

    /// Where objects are staged before upload (`stage`).
    public let temporaryDirectory: String

    public init(client: S3Client, bucket: String, prefix: String = "", multipartThreshold: Int = 64 << 20,
                partSize: Int = 16 << 20, temporaryDirectory: String = "/tmp") {
        self.client = client
        self.temporaryDirectory = temporaryDirectory
        self.bucket = bucket
        self.multipartThreshold = min(max(multipartThreshold, 5 << 20), Self.singlePutLimit)
        self.partSize = max(partSize, 5 << 20)
        var trimmed = Substring(prefix)
        while trimmed.hasPrefix("/") { trimmed = trimmed.dropFirst() }
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        self.prefix = String(trimmed)
    }

    /// Opens `s3://bucket[/prefix]`.
    public init(client: S3Client, url: String) throws {
        guard url.hasPrefix("s3://") else { throw S3Error.badBucketName(bucket: url) }
        let rest = url.dropFirst(5)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let bucket = String(rest[..<slash])
        guard !bucket.isEmpty else { throw S3Error.badBucketName(bucket: url) }
        self.init(client: client, bucket: bucket, prefix: String(rest[slash...]))
    }

    /// Every read waits on the network, so several at once pay off.
    public var capabilities: StorageCapabilities { StorageCapabilities(readConcurrency: 8) }

    public var location: StorageLocation { .bucket(bucket, prefix: prefix) }

    public func stage() throws -> any StagedObject {
        try TemporaryFileStagedObject(storage: self, temporaryDirectory: temporaryDirectory)
    }

    public var rootURL: String {
        prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)"
    }

    /// The S3 key of a storage key.
    public func objectKey(_ key: String) -> String {
        prefix.isEmpty ? key : "\(prefix)/\(key)"
    }

    public func get(_ key: String) throws -> [UInt8] {
        try client.getObject(bucket: bucket, key: objectKey(key)).body
    }

    /// Ranged GETs of 8 MiB, one after the other, each asked for when the last is used up.
    public func reader(_ key: String) throws -> any ObjectReader {
        try S3ObjectReader(client: client, bucket: bucket, key: objectKey(key))
    }

    /// One GET that also gives the ETag and version. The protocol's default (a HEAD, then a GET) costs a request
    /// more, and an error answer to a HEAD has no body, so a 403 could not say why (SignatureDoesNotMatch,
    /// AccessDenied) and loses its hint.
    public func getWithInfo(_ key: String) throws -> (bytes: [UInt8], info: ObjectInfo) {
        let result = try client.getObject(bucket: bucket, key: objectKey(key))
        return (result.body, ObjectInfo(size: result.body.count, etag: result.etag ?? "", versionId: result.versionId))
    }

    /// One ranged GET; S3 answers a range past the end with what there is.
    public func getPrefix(_ key: String, count: Int) throws -> [UInt8] {
        guard count > 0 else { return [] }
        do {
            return try client.getObject(bucket: bucket, key: objectKey(key), range: 0..<count).body
        } catch S3Error.rangeNotSatisfiable {
            return []  // an empty object has no byte 0
        }
    }

    @discardableResult
    public func put(_ key: String, bytes: [UInt8], condition: WriteCondition) throws -> ObjectInfo {
        let result = try client.putObject(
            bucket: bucket, key: objectKey(key), body: .bytes(bytes), options: S3PutOptions(condition: condition))
        return ObjectInfo(size: bytes.count, etag: result.etag, versionId: result.versionId)
    }

    @discardableResult
    public func put(_ key: String, contentsOfFile path: String, condition: WriteCondition) throws -> ObjectInfo {
        guard let kind = FileSystem.kind(ofPath: path) else { throw FileSystemError.notFound(path: path) }
        guard case .regular(let size) = kind else { throw FileSystemError.notARegularFile(path: path) }
        let objectKey = objectKey(key)
        if size < multipartThreshold {
            let result = try client.putObject(
                bucket: bucket, key: objectKey, body: .fileRange(path: path, offset: 0, length: size),
                options: S3PutOptions(condition: condition))
            return ObjectInfo(size: size, etag: result.etag, versionId: result.versionId)
        }
        // The condition is checked when the upload completes, so the object appears whole or not at all.
        var chosenPartSize = self.partSize
        if partSizeIsFixed, (size + partSize - 1) / partSize > Self.maximumParts {
            throw S3Error.tooManyParts(location: "s3://\(bucket)/\(objectKey)", size: size, partSize: partSize)
        }
        while (size + chosenPartSize - 1) / chosenPartSize > Self.maximumParts { chosenPartSize *= 2 }
        let partSize = chosenPartSize
        let count = (size + partSize - 1) / partSize
        let upload = try S3MultipartUpload.start(client: client, bucket: bucket, key: objectKey,
                                                 options: S3PutOptions(checksumSHA256: true))
        let client = self.client
        let result = try upload.run(partCount: count, concurrency: 4, condition: condition) { index in
            let offset = index * partSize
            return try client.uploadPart(
                bucket: upload.bucket, key: upload.key, uploadId: upload.uploadId, partNumber: index + 1,
                body: .fileRange(path: path, offset: offset, length: min(partSize, size - offset)))
        }
        return ObjectInfo(size: size, etag: result.etag, versionId: result.versionId)
    }

    public func head(_ key: String) throws -> ObjectInfo? {
        guard let head = try client.headObject(bucket: bucket, key: objectKey(key)) else { return nil }
        return ObjectInfo(size: head.size, etag: head.etag, versionId: head.versionId)
    }

    public func list(prefix keyPrefix: String) throws -> [String] {
        let base = prefix.isEmpty ? "" : prefix + "/"
        let objects = try client.listAllObjects(bucket: bucket, prefix: base + keyPrefix)
        var keys: [String] = []
        keys.reserveCapacity(objects.count)
        // Compare bytes, not Characters: a key may start with a combining mark right after the prefix.
        for object in objects where object.key.utf8.starts(with: base.utf8) {
            keys.append(String(decoding: object.key.utf8.dropFirst(base.utf8.count), as: UTF8.self))
        }
        // S3 already lists in UTF-8 byte order; S3-compatible stores are not all as careful.
        return keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// One page of at most `limit` keys (S3 pages hold up to 1,000).
    public func list(prefix keyPrefix: String, limit: Int) throws -> [String] {
        guard limit > 0 else { return [] }
        guard limit <= 1000 else { return Array(try list(prefix: keyPrefix).prefix(limit)) }
        let base = prefix.isEmpty ? "" : prefix + "/"
        let page = try client.listObjectsV2(bucket: bucket, prefix: base + keyPrefix, maxKeys: limit)
        let keys = page.objects.filter { $0.key.utf8.starts(with: base.utf8) }
            .map { String(decoding: $0.key.utf8.dropFirst(base.utf8.count), as: UTF8.self) }
        return keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    public func delete(_ key: String) throws {
        try client.deleteObject(bucket: bucket, key: objectKey(key))
    }

    public func delete(_ key: String, versionId: String?) throws {
        try client.deleteObject(bucket: bucket, key: objectKey(key), versionId: versionId)
    }

    /// ListObjectVersions, a page (up to 1,000 versions) at a time.
    public func listVersions(prefix keyPrefix: String, page: ([StoredVersion]) throws -> Void) throws {
        let base = prefix.isEmpty ? "" : prefix + "/"
        var keyMarker: String?
        var versionMarker: String?
        repeat {
            let listed = try client.listObjectVersions(bucket: bucket, prefix: base + keyPrefix, keyMarker: keyMarker,
                                                       versionIdMarker: versionMarker)
            var versions: [StoredVersion] = []
            versions.reserveCapacity(listed.versions.count)
            for version in listed.versions where version.key.utf8.starts(with: base.utf8) {
                guard let modified = CredentialTime.seconds(version.lastModified) else {
                    throw S3Error.badResponse(location: Self.url(bucket, version.key), operation: "ListObjectVersions",
                                              detail: "unreadable LastModified \(quoted(version.lastModified))")
                }
                versions.append(StoredVersion(
                    key: String(decoding: version.key.utf8.dropFirst(base.utf8.count), as: UTF8.self),
                    versionId: version.versionId ?? "null",
                    size: version.size, lastModified: modified, isLatest: version.isLatest, isDeleteMarker: version.isDeleteMarker))
            }
            try page(versions)
            keyMarker = listed.nextKeyMarker
            versionMarker = listed.nextVersionIdMarker
        } while keyMarker != nil
    }

    public func listIncompleteUploads(prefix keyPrefix: String) throws -> [IncompleteUpload] {
        let base = prefix.isEmpty ? "" : prefix + "/"
        return try client.listMultipartUploads(bucket: bucket, prefix: base + keyPrefix).compactMap { upload in
            guard upload.key.utf8.starts(with: base.utf8) else { return nil }
            guard let initiated = CredentialTime.seconds(upload.initiated) else {
                throw S3Error.badResponse(location: Self.url(bucket, upload.key), operation: "ListMultipartUploads",
                                          detail: "unreadable Initiated \(quoted(upload.initiated))")
            }
            return IncompleteUpload(key: String(decoding: upload.key.utf8.dropFirst(base.utf8.count), as: UTF8.self),
                                    uploadId: upload.uploadId, initiated: initiated)
        }
    }

    public func abortIncompleteUpload(_ upload: IncompleteUpload) throws {
        try client.abortMultipartUpload(bucket: bucket, key: objectKey(upload.key), uploadId: upload.uploadId)
    }

    static func url(_ bucket: String, _ key: String) -> String { "s3://\(bucket)/\(key)" }
}

/// An S3 object read in ranged GETs of `pieceSize`; the first one is sent when the reader is made, so a missing
/// object fails there. (Manifests are named by their content's hash, which their readers check: an object
/// replaced half-way through shows as a mismatch.)
/// An object read from its start in ranged GETs of `pieceSize`, one piece held at a time. Every piece comes from
/// one version (the one asked for, or the one the first GET answered with), so an object replaced while it is read
/// cannot mix two writers' bytes.
public final class S3ObjectReader: ObjectReader {
    static let pieceSize = 8 << 20
    private let client: S3Client
    private let bucket: String
    private let key: String
    private var versionId: String?
    private var piece: [UInt8] = []
    private var pieceOffset = 0
    private var nextOffset = 0
    private var size: Int?

    public init(client: S3Client, bucket: String, key: String, versionId: String? = nil) throws {
        self.client = client
        self.bucket = bucket
        self.key = key
        self.versionId = versionId
        try fetch()
    }

    private func fetch() throws {
        let wanted = nextOffset..<(nextOffset + Self.pieceSize)
        let result: S3GetResult
        do {
            result = try client.getObject(bucket: bucket, key: key, versionId: versionId, range: wanted)
        } catch S3Error.rangeNotSatisfiable {
            // An empty object has no byte 0; past the end there is nothing more.
            piece = []
            pieceOffset = 0
            size = nextOffset
            return
        }
        if versionId == nil { versionId = result.versionId }
        piece = result.body
        pieceOffset = 0
        nextOffset += piece.count
        if let total = result.objectSize { size = total }
        if piece.count < Self.pieceSize { size = nextOffset }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if pieceOffset == piece.count {
            if let size, nextOffset >= size { return 0 }
            try fetch()
            if piece.isEmpty { return 0 }
        }
        let n = min(buffer.count, piece.count - pieceOffset)
        piece.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + pieceOffset, byteCount: n) }
        pieceOffset += n
        return n
    }
}
