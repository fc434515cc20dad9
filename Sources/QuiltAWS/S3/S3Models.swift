// The plain values the S3 client takes and returns. Kept in one file because each is a handful of fields
// describing one S3 response shape; none has behaviour of its own.
import QuiltSupport
import QuiltStorage

/// Options of a PutObject (and of the CreateMultipartUpload/Complete pair).
public struct S3PutOptions: Sendable, Equatable {
    /// `If-None-Match: *` for `.absent`, `If-Match: <etag>` for `.matches`.
    public var condition: WriteCondition
    /// Send `x-amz-checksum-sha256` (and `x-amz-sdk-checksum-algorithm: SHA256`) so S3 verifies and stores it.
    public var checksumSHA256: Bool
    public var contentType: String

    public init(condition: WriteCondition = .always, checksumSHA256: Bool = false, contentType: String = "application/octet-stream") {
        self.condition = condition
        self.checksumSHA256 = checksumSHA256
        self.contentType = contentType
    }
}

/// What a write (PutObject, CopyObject, CompleteMultipartUpload) returned.
public struct S3PutResult: Sendable, Equatable {
    /// The ETag as S3 sends it, quotes included; pass it back unchanged in `WriteCondition.matches`.
    public var etag: String
    /// nil for unversioned buckets (S3 says `null`).
    public var versionId: String?
    /// Base64 SHA-256 (or `<base64>-<N>` for multipart objects), when S3 returned one.
    public var checksumSHA256: String?

    public init(etag: String, versionId: String?, checksumSHA256: String?) {
        self.etag = etag
        self.versionId = versionId
        self.checksumSHA256 = checksumSHA256
    }
}

/// What HeadObject tells about an object.
public struct S3ObjectHead: Sendable, Equatable {
    public var size: Int
    public var etag: String
    public var versionId: String?
    /// Only present when the object was written with a SHA-256 checksum.
    public var checksumSHA256: String?
    /// `aws:kms`, `AES256`, …
    public var serverSideEncryption: String?
    /// As S3 sends it (an HTTP date).
    public var lastModified: String?
}

/// What GetObjectAttributes tells about an object, without reading it.
public struct S3ObjectAttributes: Sendable, Equatable {
    /// One part of a multipart object.
    public struct Part: Sendable, Equatable {
        public var number: Int
        public var size: Int
        /// Base64 SHA-256 of the part, when it was uploaded with one.
        public var checksumSHA256: String?
    }

    public var size: Int?
    /// Without quotes, as GetObjectAttributes sends it; a multipart object's ends in `-<parts>`.
    public var etag: String?
    public var versionId: String?
    /// Base64 SHA-256 of the object (a single PUT), or of its parts' digests (`COMPOSITE`, multipart).
    public var checksumSHA256: String?
    /// `FULL_OBJECT` or `COMPOSITE` where S3 says.
    public var checksumType: String?
    /// Present for multipart objects only.
    public var totalParts: Int?
    /// Every part, in order, when S3 lists them (it does for objects uploaded with checksums).
    public var parts: [Part]
}

/// What GetObject returned besides the body.
public struct S3GetResult: Sendable {
    /// The body, for `.memory` destinations.
    public var body: [UInt8]
    /// Bytes written, for `.file` destinations.
    public var bytesWritten: Int
    public var etag: String?
    public var versionId: String?
    /// The whole object's size (from `Content-Range` for ranged requests).
    public var objectSize: Int?
}

/// One object of a listing.
public struct S3ListedObject: Sendable, Equatable {
    public var key: String
    public var size: Int
    public var etag: String
    public var lastModified: String
}

/// One page of ListObjectsV2.
public struct S3ListPage: Sendable, Equatable {
    public var objects: [S3ListedObject]
    /// With a delimiter: the "directories" one level down.
    public var commonPrefixes: [String]
    /// Pass to the next call; nil on the last page.
    public var nextContinuationToken: String?
}

/// One version (or delete marker) of ListObjectVersions.
public struct S3ObjectVersion: Sendable, Equatable {
    public var key: String
    public var versionId: String?
    public var isLatest: Bool
    public var isDeleteMarker: Bool
    public var size: Int
    public var etag: String?
    public var lastModified: String
}

/// One page of ListObjectVersions.
public struct S3VersionsPage: Sendable, Equatable {
    public var versions: [S3ObjectVersion]
    /// Pass both markers to the next call; nil on the last page.
    public var nextKeyMarker: String?
    public var nextVersionIdMarker: String?
}

/// An uploaded (or copied) part, as CompleteMultipartUpload needs it.
public struct S3UploadedPart: Sendable, Equatable {
    public var partNumber: Int
    public var etag: String
    /// Base64 SHA-256 of the part, when known.
    public var checksumSHA256: String?
    /// The part's size, when the listing reports it.
    public var size: Int?

    public init(partNumber: Int, etag: String, checksumSHA256: String?, size: Int? = nil) {
        self.partNumber = partNumber
        self.etag = etag
        self.checksumSHA256 = checksumSHA256
        self.size = size
    }
}

/// A multipart upload in progress.
public struct S3MultipartUploadInfo: Sendable, Equatable {
    public var key: String
    public var uploadId: String
    public var initiated: String
}

/// The source of a server-side copy.
public struct S3ObjectReference: Sendable, Equatable, CustomStringConvertible {
    public var bucket: String
    public var key: String
    public var versionId: String?

    public init(bucket: String, key: String, versionId: String? = nil) {
        self.bucket = bucket
        self.key = key
        self.versionId = versionId
    }

    /// Parses `s3://bucket/key[?versionId=…]`; the key is taken as written (percent-decoded).
    public init(url: String) throws {
        guard url.hasPrefix("s3://") else { throw S3Error.badBucketName(bucket: url) }
        var rest = Substring(url.dropFirst(5))
        var versionId: String?
        if let question = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: question)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.first == "versionId", parts.count == 2 { versionId = PercentEncoding.decode(String(parts[1])) }
            }
            rest = rest[..<question]
        }
        guard let slash = rest.firstIndex(of: "/"), slash != rest.startIndex else {
            throw S3Error.badBucketName(bucket: String(rest))
        }
        self.init(
            bucket: String(rest[..<slash]), key: PercentEncoding.decode(String(rest[rest.index(after: slash)...])),
            versionId: versionId)
    }

    /// `s3://bucket/key[?versionId=…]` with the key percent-encoded (slashes kept), as quilt3 writes physical keys.
    public var description: String {
        "s3://\(bucket)/\(PercentEncoding.encode(key, keepSlash: true))"
            + (versionId.map { "?versionId=\(PercentEncoding.encode($0))" } ?? "")
    }
}

/// S3's rules for bucket names, checked before any request so that a name S3 would refuse is a usage error, not
/// a network failure.
public enum S3BucketName {
    /// What is wrong with `name` as an S3 bucket name, or nil. The rules of today's general purpose buckets:
    /// 3 to 63 characters, lowercase letters, digits, '.' and '-', starting and ending with a letter or digit, no
    /// '..', not an IPv4 address. (Names reserved for new buckets, such as access point aliases ending in
    /// `-s3alias`, are accepted: requests may address them.)
    public static func problem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        let rule = "a bucket name is 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit"
        guard (3...63).contains(bytes.count) else { return rule }
        func isLowerAlphanumeric(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) }
        guard bytes.allSatisfy({ isLowerAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }),
              isLowerAlphanumeric(bytes[0]), isLowerAlphanumeric(bytes[bytes.count - 1]) else { return rule }
        if name.contains("..") { return "a bucket name has no '..'" }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) { return "a bucket name is not an IP address" }
        return nil
    }
}
