// The S3 REST API over HTTPClient and SigV4: objects, listings, copies, multipart uploads, buckets.
import QuiltSupport
import QuiltHTTP
import QuiltStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A thread-safe S3 client. Every call is synchronous and may be made from many threads at once; failures are
/// thrown as `StorageError` (not found, precondition failed, access denied, no such bucket, failed) or `S3Error`.
public final class S3Client: Sendable {
    public let configuration: S3ClientConfiguration
    private let http: HTTPClient
    /// Bucket → region, for buckets whose region was discovered or corrected by a redirect.
    private let regions = Locked<[String: String]>([:])

    public init(configuration: S3ClientConfiguration) {
        self.configuration = configuration
        http = HTTPClient(configuration: configuration.http)
    }

    /// A client configured from `environment` like the AWS CLI (see `S3ClientConfiguration.resolve`).
    public convenience init(environment: [String: String]) throws {
        self.init(configuration: try .resolve(environment: environment))
    }

    // MARK: Objects

    /// GetObject: the whole object or `range` of it (byte offsets, end exclusive), into memory or a file.
    public func getObject(
        bucket: String, key: String, versionId: String? = nil, range: Range<Int>? = nil,
        destination: HTTPResponseDestination = .memory
    ) throws -> S3GetResult {
        var headers: [(name: String, value: String)] = []
        if let range {
            guard !range.isEmpty else { return S3GetResult(body: [], bytesWritten: 0, etag: nil, versionId: nil, objectSize: nil) }
            headers.append(("Range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)"))
        }
        let response = try send(
            S3Request(
                operation: "GetObject", bucket: bucket, key: key, method: "GET", query: versionQuery(versionId),
                headers: headers, destination: destination))
        var size = response.header("content-length").flatMap { Int($0) }
        if let contentRange = response.header("content-range"), let slash = contentRange.lastIndex(of: "/") {
            size = Int(contentRange[contentRange.index(after: slash)...])
        }
        return S3GetResult(
            body: response.body, bytesWritten: response.bytesWritten, etag: response.header("etag"),
            versionId: Self.versionId(response), objectSize: size)
    }

    /// PutObject from memory or from a file range. `bodySHA256` (raw digest) saves reading a file twice when the
    /// caller already hashed it.
    @discardableResult
    public func putObject(
        bucket: String, key: String, body: HTTPBody, bodySHA256: [UInt8]? = nil, options: S3PutOptions = .init()
    ) throws -> S3PutResult {
        let digest = try bodySHA256 ?? Self.sha256(of: body)
        var headers: [(name: String, value: String)] = [("Content-Type", options.contentType)]
        headers += Self.conditionHeaders(options.condition)
        if options.checksumSHA256 {
            headers.append(("x-amz-sdk-checksum-algorithm", "SHA256"))
            headers.append(("x-amz-checksum-sha256", S3Crypto.base64(digest)))
        }
        let response = try Self.conditional(options.condition) {
            try send(
                S3Request(
                    operation: "PutObject", bucket: bucket, key: key, method: "PUT", headers: headers, body: body,
                    payloadSHA256: digest))
        }
        return S3PutResult(
            etag: response.header("etag") ?? "", versionId: Self.versionId(response),
            checksumSHA256: response.header("x-amz-checksum-sha256"))
    }

    /// HeadObject with `x-amz-checksum-mode: ENABLED`; nil when there is no such object.
    public func headObject(bucket: String, key: String, versionId: String? = nil) throws -> S3ObjectHead? {
        let response: HTTPResponse
        do {
            response = try send(
                S3Request(
                    operation: "HeadObject", bucket: bucket, key: key, method: "HEAD", query: versionQuery(versionId),
                    headers: [("x-amz-checksum-mode", "ENABLED")]))
        } catch StorageError.notFound {
            return nil
        }
        return S3ObjectHead(
            size: response.header("content-length").flatMap { Int($0) } ?? 0, etag: response.header("etag") ?? "",
            versionId: Self.versionId(response), checksumSHA256: response.header("x-amz-checksum-sha256"),
            serverSideEncryption: response.header("x-amz-server-side-encryption"),
            lastModified: response.header("last-modified"))
    }

    /// GetObjectAttributes (ETag, checksum, size, and the parts of a multipart object with their sizes and
    /// checksums, every page); nil when there is no such object. Reads no object data.
    public func getObjectAttributes(bucket: String, key: String, versionId: String? = nil) throws -> S3ObjectAttributes? {
        var attributes: S3ObjectAttributes?
        var marker: String?
        repeat {
            var headers: [(name: String, value: String)] = [("x-amz-object-attributes", "ETag,Checksum,ObjectParts,ObjectSize"),
                                                            ("x-amz-max-parts", "1000")]
            if let marker { headers.append(("x-amz-part-number-marker", marker)) }
            let response: HTTPResponse
            do {
                response = try send(
                    S3Request(operation: "GetObjectAttributes", bucket: bucket, key: key, method: "GET",
                              query: [("attributes", "")] + versionQuery(versionId), headers: headers))
            } catch StorageError.notFound {
                return nil
            }
            let xml = try parseBody(response, bucket: bucket, key: key, operation: "GetObjectAttributes")
            let checksum = xml.child("Checksum")
            let objectParts = xml.child("ObjectParts")
            let parts = (objectParts?.children("Part") ?? []).compactMap { part -> S3ObjectAttributes.Part? in
                guard let number = Int(part.value("PartNumber") ?? ""), let size = Int(part.value("Size") ?? "") else { return nil }
                return S3ObjectAttributes.Part(number: number, size: size, checksumSHA256: part.value("ChecksumSHA256"))
            }
            if attributes == nil {
                attributes = S3ObjectAttributes(
                    size: Int(xml.value("ObjectSize") ?? ""), etag: xml.value("ETag"), versionId: Self.versionId(response),
                    checksumSHA256: checksum?.value("ChecksumSHA256"), checksumType: checksum?.value("ChecksumType"),
                    totalParts: objectParts.flatMap { Int($0.value("PartsCount") ?? "") }, parts: parts)
            } else {
                attributes?.parts += parts
            }
            marker = objectParts?.value("IsTruncated") == "true" ? objectParts?.value("NextPartNumberMarker") : nil
        } while marker != nil
        return attributes
    }

    /// DeleteObject; deleting a missing key succeeds (S3 answers 204 either way).
    public func deleteObject(bucket: String, key: String, versionId: String? = nil) throws {
        do {
            _ = try send(
                S3Request(operation: "DeleteObject", bucket: bucket, key: key, method: "DELETE", query: versionQuery(versionId)))
        } catch StorageError.notFound {
            return
        }
    }

    /// CopyObject (server side, up to 5 GiB; larger objects need `uploadPartCopy`).
    @discardableResult
    public func copyObject(
        from source: S3ObjectReference, toBucket bucket: String, key: String, options: S3PutOptions = .init()
    ) throws -> S3PutResult {
        var headers: [(name: String, value: String)] = [("x-amz-copy-source", Self.copySource(source))]
        headers += Self.conditionHeaders(options.condition)
        if options.checksumSHA256 { headers.append(("x-amz-checksum-algorithm", "SHA256")) }
        let response = try send(
            S3Request(operation: "CopyObject", bucket: bucket, key: key, method: "PUT", headers: headers))
        let xml = try parseBody(response, bucket: bucket, key: key, operation: "CopyObject")
        return S3PutResult(
            etag: xml.value("ETag") ?? "", versionId: Self.versionId(response),
            checksumSHA256: xml.value("ChecksumSHA256"))
    }

    // MARK: Listings

    /// One page of ListObjectsV2.
    public func listObjectsV2(
        bucket: String, prefix: String = "", delimiter: String? = nil, continuationToken: String? = nil,
        maxKeys: Int? = nil
    ) throws -> S3ListPage {
        var query: [(name: String, value: String)] = [("list-type", "2"), ("prefix", prefix), ("encoding-type", "url")]
        if let delimiter { query.append(("delimiter", delimiter)) }
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        if let maxKeys { query.append(("max-keys", String(maxKeys))) }
        let response = try send(S3Request(operation: "ListObjectsV2", bucket: bucket, key: nil, method: "GET", query: query))
        let xml = try parseBody(response, bucket: bucket, key: prefix, operation: "ListObjectsV2")
        let decode = Self.listDecoder(xml)
        let objects = xml.children("Contents").map {
            S3ListedObject(
                key: decode($0.value("Key") ?? ""), size: Int($0.value("Size") ?? "") ?? 0, etag: $0.value("ETag") ?? "",
                lastModified: $0.value("LastModified") ?? "")
        }
        let prefixes = xml.children("CommonPrefixes").compactMap { $0.value("Prefix").map(decode) }
        let truncated = xml.value("IsTruncated") == "true"
        let next = truncated ? xml.value("NextContinuationToken") : nil
        if truncated && next == nil {
            throw S3Error.badResponse(
                location: Self.location(bucket, prefix), operation: "ListObjectsV2", detail: "truncated listing without a continuation token")
        }
        return S3ListPage(objects: objects, commonPrefixes: prefixes, nextContinuationToken: next)
    }

    /// Every object below `prefix`, all pages, in S3's order (UTF-8 byte order of keys).
    public func listAllObjects(bucket: String, prefix: String = "") throws -> [S3ListedObject] {
        var all: [S3ListedObject] = []
        var token: String? = nil
        repeat {
            let page = try listObjectsV2(bucket: bucket, prefix: prefix, continuationToken: token)
            all += page.objects
            token = page.nextContinuationToken
        } while token != nil
        return all
    }

    /// One page of ListObjectVersions (versions and delete markers, in key then newest-first order).
    public func listObjectVersions(
        bucket: String, prefix: String = "", keyMarker: String? = nil, versionIdMarker: String? = nil, maxKeys: Int? = nil
    ) throws -> S3VersionsPage {
        var query: [(name: String, value: String)] = [("versions", ""), ("prefix", prefix), ("encoding-type", "url")]
        if let keyMarker { query.append(("key-marker", keyMarker)) }
        if let versionIdMarker { query.append(("version-id-marker", versionIdMarker)) }
        if let maxKeys { query.append(("max-keys", String(maxKeys))) }
        let response = try send(
            S3Request(operation: "ListObjectVersions", bucket: bucket, key: nil, method: "GET", query: query))
        let xml = try parseBody(response, bucket: bucket, key: prefix, operation: "ListObjectVersions")
        let decode = Self.listDecoder(xml)
        var versions: [S3ObjectVersion] = []
        // Versions and delete markers interleave in the document; keep that order.
        for element in xml.children where element.name == "Version" || element.name == "DeleteMarker" {
            let versionId = element.value("VersionId").flatMap { $0 == "null" ? nil : $0 }
            versions.append(
                S3ObjectVersion(
                    key: decode(element.value("Key") ?? ""), versionId: versionId, isLatest: element.value("IsLatest") == "true",
                    isDeleteMarker: element.name == "DeleteMarker", size: Int(element.value("Size") ?? "") ?? 0,
                    etag: element.value("ETag"), lastModified: element.value("LastModified") ?? ""))
        }
        let truncated = xml.value("IsTruncated") == "true"
        return S3VersionsPage(
            versions: versions, nextKeyMarker: truncated ? xml.value("NextKeyMarker").map(decode) : nil,
            nextVersionIdMarker: truncated ? xml.value("NextVersionIdMarker") : nil)
    }

    /// Every version below `prefix`, all pages.
    public func listAllObjectVersions(bucket: String, prefix: String = "") throws -> [S3ObjectVersion] {
        var all: [S3ObjectVersion] = []
        var keyMarker: String? = nil
        var versionMarker: String? = nil
        repeat {
            let page = try listObjectVersions(
                bucket: bucket, prefix: prefix, keyMarker: keyMarker, versionIdMarker: versionMarker)
            all += page.versions
            keyMarker = page.nextKeyMarker
            versionMarker = page.nextVersionIdMarker
        } while keyMarker != nil
        return all
    }

    // MARK: Multipart uploads

    /// CreateMultipartUpload; returns the upload id. With `checksumSHA256` every part must carry its checksum.
    public func createMultipartUpload(bucket: String, key: String, options: S3PutOptions = .init()) throws -> String {
        try startMultipartUpload(bucket: bucket, key: key, options: options).uploadId
    }

    /// CreateMultipartUpload, saying also whether an earlier attempt of it may have started an upload of its own:
    /// one whose request was sent but whose answer was lost (a cut or timed-out connection) before a retry
    /// succeeded. Such an upload has an id no one was told, so no one would ever complete or abort it.
    public func startMultipartUpload(bucket: String, key: String, options: S3PutOptions = .init()) throws
        -> (uploadId: String, lostAnswers: Int) {
        var headers: [(name: String, value: String)] = [("Content-Type", options.contentType)]
        if options.checksumSHA256 { headers.append(("x-amz-checksum-algorithm", "SHA256")) }
        var lostAnswers = 0
        let response = try send(
            S3Request(
                operation: "CreateMultipartUpload", bucket: bucket, key: key, method: "POST", query: [("uploads", "")],
                headers: headers), lostAnswers: &lostAnswers)
        let xml = try parseBody(response, bucket: bucket, key: key, operation: "CreateMultipartUpload")
        guard let uploadId = xml.value("UploadId"), !uploadId.isEmpty else {
            throw S3Error.badResponse(location: Self.location(bucket, key), operation: "CreateMultipartUpload", detail: "no UploadId")
        }
        return (uploadId, lostAnswers)
    }

    /// UploadPart from memory or a file range; `partSHA256` (raw digest) avoids hashing the part again.
    public func uploadPart(
        bucket: String, key: String, uploadId: String, partNumber: Int, body: HTTPBody, partSHA256: [UInt8]? = nil,
        checksumSHA256: Bool = true
    ) throws -> S3UploadedPart {
        let digest = try partSHA256 ?? Self.sha256(of: body)
        var headers: [(name: String, value: String)] = [("Content-Type", "application/octet-stream")]
        if checksumSHA256 {
            headers.append(("x-amz-sdk-checksum-algorithm", "SHA256"))
            headers.append(("x-amz-checksum-sha256", S3Crypto.base64(digest)))
        }
        let response = try send(
            S3Request(
                operation: "UploadPart", bucket: bucket, key: key, method: "PUT",
                query: [("partNumber", String(partNumber)), ("uploadId", uploadId)], headers: headers, body: body,
                payloadSHA256: digest))
        return S3UploadedPart(
            partNumber: partNumber, etag: response.header("etag") ?? "",
            checksumSHA256: response.header("x-amz-checksum-sha256") ?? (checksumSHA256 ? S3Crypto.base64(digest) : nil),
            size: body.count)
    }

    /// UploadPartCopy: bytes `range` (end exclusive; nil for the whole source) of another object become a part.
    public func uploadPartCopy(
        from source: S3ObjectReference, range: Range<Int>?, bucket: String, key: String, uploadId: String, partNumber: Int
    ) throws -> S3UploadedPart {
        var headers: [(name: String, value: String)] = [("x-amz-copy-source", Self.copySource(source))]
        if let range { headers.append(("x-amz-copy-source-range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")) }
        let response = try send(
            S3Request(
                operation: "UploadPartCopy", bucket: bucket, key: key, method: "PUT",
                query: [("partNumber", String(partNumber)), ("uploadId", uploadId)], headers: headers))
        let xml = try parseBody(response, bucket: bucket, key: key, operation: "UploadPartCopy")
        return S3UploadedPart(
            partNumber: partNumber, etag: xml.value("ETag") ?? "", checksumSHA256: xml.value("ChecksumSHA256"),
            size: range?.count)
    }

    /// CompleteMultipartUpload with each part's ETag and checksum; `condition` applies to the finished object.
    @discardableResult
    public func completeMultipartUpload(
        bucket: String, key: String, uploadId: String, parts: [S3UploadedPart], condition: WriteCondition = .always
    ) throws -> S3PutResult {
        var document = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for part in parts.sorted(by: { $0.partNumber < $1.partNumber }) {
            document += "<Part><PartNumber>\(part.partNumber)</PartNumber><ETag>\(S3XMLElement.escape(part.etag))</ETag>"
            if let checksum = part.checksumSHA256 { document += "<ChecksumSHA256>\(S3XMLElement.escape(checksum))</ChecksumSHA256>" }
            document += "</Part>"
        }
        document += "</CompleteMultipartUpload>"
        let body = Array(document.utf8)
        let headers = [(name: "Content-Type", value: "application/xml")] + Self.conditionHeaders(condition)
        let response = try Self.conditional(condition) {
            try send(
                S3Request(
                    operation: "CompleteMultipartUpload", bucket: bucket, key: key, method: "POST",
                    query: [("uploadId", uploadId)], headers: headers, body: .bytes(body), payloadSHA256: S3Crypto.sha256(body)))
        }
        let xml = try parseBody(response, bucket: bucket, key: key, operation: "CompleteMultipartUpload")
        return S3PutResult(
            etag: xml.value("ETag") ?? "", versionId: Self.versionId(response), checksumSHA256: xml.value("ChecksumSHA256"))
    }

    /// AbortMultipartUpload; an upload that is already gone counts as aborted.
    public func abortMultipartUpload(bucket: String, key: String, uploadId: String) throws {
        do {
            _ = try send(
                S3Request(
                    operation: "AbortMultipartUpload", bucket: bucket, key: key, method: "DELETE",
                    query: [("uploadId", uploadId)]))
        } catch StorageError.notFound {
            return
        }
    }

    /// Multipart uploads in progress below `prefix` (all pages).
    public func listMultipartUploads(bucket: String, prefix: String = "") throws -> [S3MultipartUploadInfo] {
        var all: [S3MultipartUploadInfo] = []
        var keyMarker: String? = nil
        var uploadMarker: String? = nil
        repeat {
            var query: [(name: String, value: String)] = [("uploads", ""), ("prefix", prefix), ("encoding-type", "url")]
            if let keyMarker { query.append(("key-marker", keyMarker)) }
            if let uploadMarker { query.append(("upload-id-marker", uploadMarker)) }
            let response = try send(
                S3Request(operation: "ListMultipartUploads", bucket: bucket, key: nil, method: "GET", query: query))
            let xml = try parseBody(response, bucket: bucket, key: prefix, operation: "ListMultipartUploads")
            let decode = Self.listDecoder(xml)
            all += xml.children("Upload").map {
                S3MultipartUploadInfo(
                    key: decode($0.value("Key") ?? ""), uploadId: $0.value("UploadId") ?? "", initiated: $0.value("Initiated") ?? "")
            }
            let truncated = xml.value("IsTruncated") == "true"
            keyMarker = truncated ? xml.value("NextKeyMarker").map(decode) : nil
            uploadMarker = truncated ? xml.value("NextUploadIdMarker") : nil
        } while keyMarker != nil
        return all
    }

    /// The parts uploaded so far (all pages).
    public func listParts(bucket: String, key: String, uploadId: String) throws -> [S3UploadedPart] {
        var all: [S3UploadedPart] = []
        var marker: String? = nil
        repeat {
            var query: [(name: String, value: String)] = [("uploadId", uploadId)]
            if let marker { query.append(("part-number-marker", marker)) }
            let response = try send(S3Request(operation: "ListParts", bucket: bucket, key: key, method: "GET", query: query))
            let xml = try parseBody(response, bucket: bucket, key: key, operation: "ListParts")
            all += xml.children("Part").compactMap { part in
                guard let number = Int(part.value("PartNumber") ?? "") else { return nil }
                return S3UploadedPart(
                    partNumber: number, etag: part.value("ETag") ?? "", checksumSHA256: part.value("ChecksumSHA256"),
                    size: Int(part.value("Size") ?? ""))
            }
            marker = xml.value("IsTruncated") == "true" ? xml.value("NextPartNumberMarker") : nil
        } while marker != nil
        return all
    }

    // MARK: Buckets

    /// HeadBucket: throws `noSuchBucket` or `accessDenied`; returns the bucket's region when S3 names it.
    @discardableResult
    public func headBucket(_ bucket: String) throws -> String? {
        let response = try send(S3Request(operation: "HeadBucket", bucket: bucket, key: nil, method: "HEAD"))
        return response.header("x-amz-bucket-region")
    }

    /// CreateBucket in `region` (default: the configured region, else us-east-1).
    public func createBucket(_ bucket: String, region: String? = nil) throws {
        let target = region ?? configuration.region ?? "us-east-1"
        regions.withLock { $0[bucket] = target }
        var body: HTTPBody = .empty
        if target != "us-east-1" {
            // us-east-1 is the one region that must not be named in the request.
            body = .bytes(
                Array(
                    ("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                        + "<LocationConstraint>\(S3XMLElement.escape(target))</LocationConstraint></CreateBucketConfiguration>").utf8))
        }
        _ = try send(S3Request(operation: "CreateBucket", bucket: bucket, key: nil, method: "PUT", body: body))
    }

    /// PutBucketVersioning: turns versioning on (or suspends it).
    public func setBucketVersioning(_ bucket: String, enabled: Bool) throws {
        let body = Array(
            ("<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>"
                + (enabled ? "Enabled" : "Suspended") + "</Status></VersioningConfiguration>").utf8)
        _ = try send(
            S3Request(
                operation: "PutBucketVersioning", bucket: bucket, key: nil, method: "PUT", query: [("versioning", "")],
                headers: [("Content-Type", "application/xml")], body: .bytes(body)))
    }

    /// DeleteBucket (it must be empty).
    public func deleteBucket(_ bucket: String) throws {
        _ = try send(S3Request(operation: "DeleteBucket", bucket: bucket, key: nil, method: "DELETE"))
        regions.withLock { $0[bucket] = nil }
    }

    /// The region requests for `bucket` are signed for: configured, else discovered once and remembered.
    public func region(for bucket: String) throws -> String {
        if let fixed = configuration.region { return fixed }
        if bucket.isEmpty { return "us-east-1" }
        if let known = regions.withLock({ $0[bucket] }) { return known }
        // HeadBucket names the region in a header on success, on redirects and on access denied alike.
        let request = S3Request(operation: "HeadBucket", bucket: bucket, key: nil, method: "HEAD")
        var discovered: String? = nil
        if let response = try? performOnce(request, region: "us-east-1", payloadHash: SigV4Signer.emptyPayloadHash) {
            discovered = response.header("x-amz-bucket-region")
            if discovered == nil && (200..<300).contains(response.status) { discovered = "us-east-1" }
        }
        guard let region = discovered, !region.isEmpty else { return "us-east-1" }
        regions.withLock { $0[bucket] = region }
        return region
    }

    // MARK: Sending

    /// One S3 operation before addressing and signing.
    struct S3Request {
        var operation: String
        var bucket: String
        /// nil for bucket-level operations.
        var key: String?
        var method: String
        var query: [(name: String, value: String)] = []
        var headers: [(name: String, value: String)] = []
        var body: HTTPBody = .empty
        /// Raw SHA-256 of the body, when known.
        var payloadSHA256: [UInt8]? = nil
        var destination: HTTPResponseDestination = .memory
    }

    /// `S3 PutObject s3://bucket/key → 200 (12 ms)`: what `--verbose` shows of a request.
    static func logLine(_ request: S3Request, outcome: String, since started: Double) -> String {
        let milliseconds = Int((WallClock.now() - started) * 1000)
        return "S3 \(request.operation) \(location(request.bucket, request.key)) → \(outcome) (\(milliseconds) ms)"
    }

    /// Signs and sends `request`, tried again under the configuration's `retry` while an answer or a failure may
    /// pass (5xx but 501, 429, SlowDown, RequestTimeout, InternalError, a broken connection); throws for any
    /// non-2xx answer.
    func send(_ request: S3Request) throws -> HTTPResponse {
        var lostAnswers = 0
        return try send(request, lostAnswers: &lostAnswers)
    }

    /// `send`, counting the attempts that failed after their request may have reached the server (a timeout or a
    /// connection cut while waiting for the answer, not a refused connection): the server may have acted on them.
    func send(_ request: S3Request, lostAnswers: inout Int) throws -> HTTPResponse {
        // (Bytes: String's contains(String) is Foundation's range(of:), 2% of a small-file install's CPU time.)
        if request.bucket.isEmpty || request.bucket.utf8.contains(UInt8(ascii: "/")) { throw S3Error.badBucketName(bucket: request.bucket) }
        let payloadHash: String
        if let digest = request.payloadSHA256 {
            payloadHash = S3Crypto.hex(digest)
        } else if case .empty = request.body {
            payloadHash = SigV4Signer.emptyPayloadHash
        } else {
            payloadHash = S3Crypto.hex(try Self.sha256(of: request.body))
        }
        var redirected = false
        return try configuration.retry.run { _ -> RetryPolicy.Outcome<HTTPResponse> in
            let region = try region(for: request.bucket)
            let response: HTTPResponse
            let started = configuration.requestLog == nil ? 0 : WallClock.now()
            do {
                response = try performOnce(request, region: region, payloadHash: payloadHash)
                configuration.requestLog?(Self.logLine(request, outcome: String(response.status), since: started))
            } catch let error as HTTPError {
                configuration.requestLog?(Self.logLine(request, outcome: "failed (\(error.message))", since: started))
                let failure: any Error
                if case .localFile(let path, let detail) = error {
                    failure = FileSystemError.cannotRead(path: path, reason: detail)
                } else {
                    failure = StorageError.failed(
                        location: Self.location(request.bucket, request.key), operation: request.operation, detail: error.message)
                }
                // Conditional writes may see 412 on a retry after a lost response; S3 SDKs accept the same risk.
                guard error.isRetryable else { throw failure }
                switch error {
                case .timedOut, .transport: lostAnswers += 1
                default: break
                }
                return .retry(failure: failure)
            }
            if (200..<300).contains(response.status) { return .done(response) }
            let xml = S3XMLElement.parse(response.body)
            let code = xml?.value("Code") ?? ""
            // A bucket in another region than assumed: S3 names the right one; remember it and resend once.
            if !redirected, configuration.region == nil, [301, 307, 400].contains(response.status) {
                let named = response.header("x-amz-bucket-region") ?? xml?.value("Region")
                if let named, !named.isEmpty, named != region {
                    redirected = true
                    regions.withLock { $0[request.bucket] = named }
                    return .again
                }
            }
            let failure = Self.mapError(response: response, code: code, message: xml?.value("Message") ?? "", request: request)
            let throttled = code == "SlowDown" || code == "RequestTimeout" || code == "InternalError"
            guard RetryPolicy.isTransient(status: response.status) || throttled else { throw failure }
            return .retry(failure: failure)
        }
    }

    /// Query parameters that name a sub-resource and go into the URL without `=` (they still sign as `name=`).
    private static let subresources: Set<String> = ["uploads", "versions", "versioning", "attributes"]

    /// Addresses, signs and performs one attempt.
    private func performOnce(_ request: S3Request, region: String, payloadHash: String) throws -> HTTPResponse {
        let (host, pathPrefix) = configuration.endpoint.address(bucket: request.bucket, region: region)
        var path = pathPrefix
        if let key = request.key { path += "/" + PercentEncoding.encode(key, keepSlash: true) }
        if path.isEmpty { path = "/" }
        var url = "\(configuration.endpoint.scheme)://\(host)\(path)"
        if !request.query.isEmpty {
            url += "?" + request.query.map {
                $0.value.isEmpty && Self.subresources.contains($0.name)
                    ? PercentEncoding.encode($0.name) : PercentEncoding.encode($0.name) + "=" + PercentEncoding.encode($0.value)
            }.joined(separator: "&")
        }
        var headers: [(name: String, value: String)] = [("Host", host)] + request.headers
        // A PUT without a type would make some servers treat the body as a form (moto then stores 0 bytes).
        if request.method == "PUT" && !request.headers.contains(where: { $0.name.lowercased() == "content-type" }) {
            headers.append(("Content-Type", "application/octet-stream"))
        }
        if let credentials = try configuration.credentials.credentials() {
            SigV4Signer(region: region).sign(
                method: request.method, path: path, query: request.query, headers: &headers, payloadHash: payloadHash,
                credentials: credentials)
        }
        return try http.perform(HTTPRequest(method: request.method, url: url, headers: headers, body: request.body), destination: request.destination)
    }

    /// Turns an S3 error answer into a storage error. Only S3's code and message are kept: its error documents
    /// for signature mismatches also echo the string to sign, which stays out of messages.
    static func mapError(response: HTTPResponse, code: String, message: String, request: S3Request) -> any Error {
        let location = location(request.bucket, request.key)
        let detail = [code, message].filter { !$0.isEmpty }.joined(separator: ": ")
        switch (response.status, code) {
        case (_, "NoSuchBucket"): return StorageError.noSuchBucket(bucket: request.bucket)
        case (416, _), (_, "InvalidRange"): return S3Error.rangeNotSatisfiable(location: location)
        case (_, "NoSuchKey"), (_, "NoSuchVersion"), (_, "NoSuchUpload"): return StorageError.notFound(location: location)
        case (404, ""): return request.key == nil ? StorageError.noSuchBucket(bucket: request.bucket) : StorageError.notFound(location: location)
        case (412, _), (_, "PreconditionFailed"), (409, "ConditionalRequestConflict"):
            return StorageError.preconditionFailed(location: location)
        case (403, _), (_, "InvalidAccessKeyId"), (_, "SignatureDoesNotMatch"), (_, "ExpiredToken"), (_, "InvalidToken"):
            return StorageError.accessDenied(
                location: location, operation: request.operation, detail: detail.isEmpty ? "HTTP \(response.status)" : detail)
        default:
            return StorageError.failed(
                location: location, operation: request.operation,
                detail: "HTTP \(response.status)" + (detail.isEmpty ? "" : " \(detail)"))
        }
    }

    /// Parses a 2xx XML body; CopyObject, UploadPartCopy and CompleteMultipartUpload can answer 200 with an error.
    private func parseBody(_ response: HTTPResponse, bucket: String, key: String?, operation: String) throws -> S3XMLElement {
        guard let xml = S3XMLElement.parse(response.body) else {
            throw S3Error.badResponse(location: Self.location(bucket, key), operation: operation, detail: "unreadable XML")
        }
        if xml.name == "Error" {
            let request = S3Request(operation: operation, bucket: bucket, key: key, method: "")
            throw Self.mapError(
                response: HTTPResponse(status: 500, headers: [], body: []), code: xml.value("Code") ?? "",
                message: xml.value("Message") ?? "", request: request)
        }
        return xml
    }

    // MARK: Helpers

    static func location(_ bucket: String, _ key: String?) -> String {
        "s3://\(bucket)/\(key ?? "")"
    }

    private func versionQuery(_ versionId: String?) -> [(name: String, value: String)] {
        versionId.map { [("versionId", $0)] } ?? []
    }

    private static func versionId(_ response: HTTPResponse) -> String? {
        guard let value = response.header("x-amz-version-id"), !value.isEmpty, value != "null" else { return nil }
        return value
    }

    private static func conditionHeaders(_ condition: WriteCondition) -> [(name: String, value: String)] {
        switch condition {
        case .always: return []
        case .absent: return [("If-None-Match", "*")]
        case .matches(let etag): return [("If-Match", etag)]
        }
    }

    /// S3 answers `If-Match` on a missing key with 404 NoSuchKey; for the caller that is a condition that failed.
    private static func conditional<T>(_ condition: WriteCondition, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch StorageError.notFound(let location) {
            if case .matches = condition { throw StorageError.preconditionFailed(location: location) }
            throw StorageError.notFound(location: location)
        }
    }

    private static func copySource(_ source: S3ObjectReference) -> String {
        "/\(source.bucket)/" + PercentEncoding.encode(source.key, keepSlash: true)
            + (source.versionId.map { "?versionId=" + PercentEncoding.encode($0) } ?? "")
    }

    /// With `encoding-type=url` S3 percent-encodes keys in listings (so control characters survive XML).
    private static func listDecoder(_ xml: S3XMLElement) -> (String) -> String {
        if xml.value("EncodingType") == "url" {
            return { (text: String) -> String in PercentEncoding.decode(text, plusIsSpace: true) }
        }
        return { (text: String) -> String in text }
    }

    static func sha256(of body: HTTPBody) throws -> [UInt8] {
        switch body {
        case .empty: return S3Crypto.sha256([])
        case .bytes(let bytes): return S3Crypto.sha256(bytes)
        case .fileRange(let path, let offset, let length): return try S3Crypto.sha256(path: path, offset: offset, length: length)
        }
    }
}
