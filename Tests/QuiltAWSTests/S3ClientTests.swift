// S3Client operations beyond the Storage interface, against a live endpoint (QUILT_TEST_S3_ENDPOINT).
import Foundation
import Testing
@testable import QuiltSupport
@testable import QuiltHTTP
@testable import QuiltStorage
@testable import QuiltAWS

private let endpoint = ProcessInfo.processInfo.environment["QUILT_TEST_S3_ENDPOINT"]

@Suite(.enabled(if: endpoint != nil, "set QUILT_TEST_S3_ENDPOINT to run against an S3 endpoint"))
struct S3ClientTests {
    let client: S3Client
    let bucket = randomBucketName()
    let directory: String

    init() throws {
        client = try makeTestS3Client(endpoint: endpoint ?? "")
        try client.createBucket(bucket)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("s3client-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    private func pattern(_ count: Int, seed: UInt8 = 1) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &+ $0 >> 11) }
    }

    @Test func rangedGetIntoMemoryAndFile() throws {
        let bytes = pattern(100_000)
        try client.putObject(bucket: bucket, key: "ranged", body: .bytes(bytes))
        let part = try client.getObject(bucket: bucket, key: "ranged", range: 1000..<2500)
        #expect(part.body == Array(bytes[1000..<2500]))
        #expect(part.objectSize == 100_000)
        // Two ranges written out of order into one file at their offsets.
        let path = directory + "/download"
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        #expect(fd >= 0)
        defer { close(fd) }
        let second = try client.getObject(
            bucket: bucket, key: "ranged", range: 60_000..<100_000, destination: .file(descriptor: fd, offset: 60_000))
        let first = try client.getObject(
            bucket: bucket, key: "ranged", range: 0..<60_000, destination: .file(descriptor: fd, offset: 0))
        #expect(first.bytesWritten == 60_000 && second.bytesWritten == 40_000)
        #expect(Array(FileManager.default.contents(atPath: path) ?? Data()) == bytes)
        // An error body never lands in the file.
        #expect(throws: StorageError.self) {
            try client.getObject(bucket: bucket, key: "absent", destination: .file(descriptor: fd, offset: 0))
        }
        #expect(Array(FileManager.default.contents(atPath: path) ?? Data()) == bytes)
    }

    @Test func checksumsOnPutAndHead() throws {
        let bytes = Array("Hello, World!".utf8)
        let put = try client.putObject(
            bucket: bucket, key: "sum", body: .bytes(bytes), options: S3PutOptions(checksumSHA256: true))
        let expected = S3Crypto.base64(S3Crypto.sha256(bytes))
        #expect(put.checksumSHA256 == expected)
        #expect(put.versionId == nil)
        let head = try #require(try client.headObject(bucket: bucket, key: "sum"))
        #expect(head.size == bytes.count && head.etag == put.etag && head.checksumSHA256 == expected)
        #expect(try client.headObject(bucket: bucket, key: "nothing") == nil)
    }

    @Test func multipartUploadFromFileWithChecksums() throws {
        let partSize = 5 * 1024 * 1024
        let bytes = pattern(partSize + 12_345, seed: 7)
        let path = directory + "/big"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let key = "multi/part object"
        let uploadId = try client.createMultipartUpload(
            bucket: bucket, key: key, options: S3PutOptions(checksumSHA256: true))
        #expect(try client.listMultipartUploads(bucket: bucket, prefix: "multi/").map(\.uploadId) == [uploadId])
        let ranges = [0..<partSize, partSize..<bytes.count]
        let parts = Locked<[S3UploadedPart]>([])
        // Parts go up in parallel, each streamed from its file range.
        try TransferPool.run(count: ranges.count, maxConcurrency: 4) { index in
            let range = ranges[index]
            let part = try client.uploadPart(
                bucket: bucket, key: key, uploadId: uploadId, partNumber: index + 1,
                body: .fileRange(path: path, offset: range.lowerBound, length: range.count))
            parts.withLock { $0.append(part) }
        }
        let uploaded = parts.withLock { $0 }
        for part in uploaded {
            let range = ranges[part.partNumber - 1]
            #expect(part.checksumSHA256 == S3Crypto.base64(S3Crypto.sha256(Array(bytes[range]))))
        }
        #expect(try client.listParts(bucket: bucket, key: key, uploadId: uploadId).map(\.partNumber) == [1, 2])
        let result = try client.completeMultipartUpload(bucket: bucket, key: key, uploadId: uploadId, parts: uploaded)
        #expect(result.etag.hasSuffix("-2\""))
        #expect(try client.getObject(bucket: bucket, key: key).body == bytes)
        #expect(try client.listMultipartUploads(bucket: bucket, prefix: "multi/").isEmpty)

        // A server-side copy in two ranged parts, and a plain CopyObject.
        let copyId = try client.createMultipartUpload(bucket: bucket, key: "copy/multi")
        let copied = try [0..<partSize, partSize..<bytes.count].enumerated().map { index, range in
            try client.uploadPartCopy(
                from: S3ObjectReference(bucket: bucket, key: key), range: range, bucket: bucket, key: "copy/multi",
                uploadId: copyId, partNumber: index + 1)
        }
        try client.completeMultipartUpload(bucket: bucket, key: "copy/multi", uploadId: copyId, parts: copied)
        #expect(try client.getObject(bucket: bucket, key: "copy/multi").body == bytes)
        let single = try client.copyObject(from: S3ObjectReference(bucket: bucket, key: key), toBucket: bucket, key: "copy/single")
        #expect(!single.etag.isEmpty)
        #expect(try client.headObject(bucket: bucket, key: "copy/single")?.size == bytes.count)

        // Abort leaves nothing behind.
        let abandoned = try client.createMultipartUpload(bucket: bucket, key: "abandoned")
        try client.abortMultipartUpload(bucket: bucket, key: "abandoned", uploadId: abandoned)
        #expect(try client.listMultipartUploads(bucket: bucket).isEmpty)
    }

    @Test func listingPagesAndDelimiter() throws {
        let keys = ["a/1", "a/2", "a/b/3", "c", "d e", "plus+key"]
        for key in keys { try client.putObject(bucket: bucket, key: key, body: .bytes(Array(key.utf8))) }
        let first = try client.listObjectsV2(bucket: bucket, maxKeys: 2)
        #expect(first.objects.map(\.key) == ["a/1", "a/2"])
        let token = try #require(first.nextContinuationToken)
        let rest = try client.listObjectsV2(bucket: bucket, continuationToken: token)
        #expect(rest.objects.map(\.key) == ["a/b/3", "c", "d e", "plus+key"])
        #expect(rest.nextContinuationToken == nil)
        let top = try client.listObjectsV2(bucket: bucket, delimiter: "/")
        #expect(top.commonPrefixes == ["a/"])
        #expect(top.objects.map(\.key) == ["c", "d e", "plus+key"])
        #expect(try client.listAllObjects(bucket: bucket, prefix: "a/").map(\.key) == ["a/1", "a/2", "a/b/3"])
        #expect(try client.listAllObjects(bucket: bucket).first { $0.key == "c" }?.size == 1)
    }

    @Test func versionsAndDeletes() throws {
        try client.setBucketVersioning(bucket, enabled: true)
        let one = try client.putObject(bucket: bucket, key: "v", body: .bytes(Array("one".utf8)))
        let two = try client.putObject(bucket: bucket, key: "v", body: .bytes(Array("two".utf8)))
        let oneId = try #require(one.versionId)
        #expect(two.versionId != nil && two.versionId != oneId)
        #expect(try client.getObject(bucket: bucket, key: "v", versionId: oneId).body == Array("one".utf8))
        #expect(try client.getObject(bucket: bucket, key: "v").versionId == two.versionId)
        let versions = try client.listAllObjectVersions(bucket: bucket, prefix: "v")
        #expect(versions.count == 2)
        #expect(versions.filter(\.isLatest).map(\.versionId) == [two.versionId])
        let paged = try client.listObjectVersions(bucket: bucket, prefix: "v", maxKeys: 1)
        #expect(paged.versions.count == 1 && paged.nextKeyMarker != nil)
        try client.deleteObject(bucket: bucket, key: "v")
        #expect(try client.headObject(bucket: bucket, key: "v") == nil)
        #expect(try client.listAllObjectVersions(bucket: bucket, prefix: "v").contains { $0.isDeleteMarker && $0.isLatest })
        try client.deleteObject(bucket: bucket, key: "never-there")
    }

    @Test func manyConcurrentRequests() throws {
        try TransferPool.run(count: 60, maxConcurrency: 10) { index in
            try client.putObject(bucket: bucket, key: "many/\(index)", body: .bytes(Array("\(index)".utf8)))
            #expect(try client.getObject(bucket: bucket, key: "many/\(index)").body == Array("\(index)".utf8))
        }
        #expect(try client.listAllObjects(bucket: bucket, prefix: "many/").count == 60)
        // The first error stops the pool and comes back out.
        #expect(throws: StorageError.self) {
            try TransferPool.run(count: 20, maxConcurrency: 4) { index in
                _ = try client.getObject(bucket: bucket, key: index == 3 ? "missing" : "many/\(index)")
            }
        }
    }

    @Test func regionDiscoveredWhenNotConfigured() throws {
        let environment = [
            "AWS_ENDPOINT_URL_S3": endpoint ?? "", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent",
        ]
        let discovering = try S3Client(environment: environment)
        #expect(discovering.configuration.region == nil)
        #expect(try discovering.region(for: bucket) == "us-east-1")
        try discovering.putObject(bucket: bucket, key: "discovered", body: .bytes([1, 2, 3]))
        #expect(try discovering.getObject(bucket: bucket, key: "discovered").body == [1, 2, 3])
    }

    @Test func connectionFailureIsReported() throws {
        // Nothing listens on port 9 (discard) here; one attempt, short timeout.
        let configuration = S3ClientConfiguration(
            endpoint: try S3Endpoint(url: "http://127.0.0.1:9"), region: "us-east-1",
            credentials: StaticCredentialsProvider(AWSCredentials(accessKeyId: "test", secretAccessKey: "test")),
            http: .init(connectTimeout: 2), maxAttempts: 1)
        let offline = S3Client(configuration: configuration)
        do {
            _ = try offline.getObject(bucket: "b", key: "k")
            Issue.record("expected a failure")
        } catch StorageError.failed(let location, let operation, let detail) {
            #expect(location == "s3://b/k" && operation == "GetObject")
            #expect(detail.contains("cannot connect"))
        }
    }
}
