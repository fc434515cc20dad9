// S3Storage and S3Client against a live S3 endpoint (moto in development), enabled by QUILT_TEST_S3_ENDPOINT.
import Foundation
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltHTTP
@testable import QuiltStorage
@testable import QuiltAWS

/// The endpoint under test, e.g. `http://127.0.0.1:5055`; the suite is skipped without it.
private let endpoint = ProcessInfo.processInfo.environment["QUILT_TEST_S3_ENDPOINT"]

/// A client for the test endpoint with moto's test credentials; nothing from the real AWS configuration.
func makeTestS3Client(endpoint: String) throws -> S3Client {
    try S3Client(environment: testS3Environment(endpoint: endpoint))
}

/// A bucket name nobody else uses.
func randomBucketName() -> String {
    "quilt-test-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
}

/// In CI the S3 endpoint is part of the suite: a missing one is a failure, never a quiet skip.
@Test(.enabled(if: ProcessInfo.processInfo.environment["CI"] == "true", "only CI requires the S3 endpoint"))
func s3EndpointPresentInCI() {
    #expect(endpoint != nil, "CI=true but QUILT_TEST_S3_ENDPOINT is unset: moto did not start, so the S3 backend went untested")
}

@Suite(.enabled(if: endpoint != nil, "set QUILT_TEST_S3_ENDPOINT to run against an S3 endpoint"))
struct S3StorageTests {
    let client: S3Client
    let bucket = randomBucketName()

    init() throws {
        client = try makeTestS3Client(endpoint: endpoint ?? "")
        try client.createBucket(bucket)
    }

    @Test func conformanceAtBucketRoot() throws {
        try checkStorageConformance { S3Storage(client: client, bucket: bucket) }
    }

    @Test func conformanceBelowPrefix() throws {
        try checkStorageConformance { try S3Storage(client: client, url: "s3://\(bucket)/some/prefix/") }
        // Nothing escaped the prefix.
        #expect(try client.listAllObjects(bucket: bucket).allSatisfy { $0.key.hasPrefix("some/prefix/") })
    }

    @Test func conformanceInVersionedBucket() throws {
        let versioned = randomBucketName()
        try client.createBucket(versioned)
        try client.setBucketVersioning(versioned, enabled: true)
        try checkStorageConformance { S3Storage(client: client, bucket: versioned) }
    }

    /// Versions of one key newest first, and deleting one of them by its version id leaves the other.
    @Test func versionsOfOneKey() throws {
        let versioned = randomBucketName()
        try client.createBucket(versioned)
        try client.setBucketVersioning(versioned, enabled: true)
        let storage = try S3Storage(client: client, url: "s3://\(versioned)/p")
        let first = try storage.put("k", bytes: [1])
        let second = try storage.put("k", bytes: [2, 2])
        var versions: [StoredVersion] = []
        try storage.listVersions(prefix: "k") { versions += $0 }
        #expect(versions.map(\.versionId) == [second.versionId, first.versionId])
        #expect(versions.map(\.size) == [2, 1] && versions.map(\.isLatest) == [true, false])
        try storage.delete("k", versionId: second.versionId)
        #expect(try storage.get("k") == [1])
        try storage.delete("k")
        versions = []
        try storage.listVersions(prefix: "") { versions += $0 }
        // (moto lists a key's delete markers after its versions; S3 newest first: callers group by key only.)
        #expect(versions.filter(\.isDeleteMarker).map(\.isLatest) == [true], "a plain delete only adds a marker")
        #expect(versions.filter { !$0.isDeleteMarker }.map(\.versionId) == [first.versionId])
    }

    /// An object written before its bucket was versioned is listed as S3 names it, version `null`, and deleting
    /// that version removes it for good (a plain delete would only hide it behind a marker).
    @Test func nullVersion() throws {
        let name = randomBucketName()
        try client.createBucket(name)
        let storage = try S3Storage(client: client, url: "s3://\(name)/p")
        try storage.put("old", bytes: [1])
        try client.setBucketVersioning(name, enabled: true)
        let newer = try storage.put("old", bytes: [2, 2])
        var versions: [StoredVersion] = []
        try storage.listVersions(prefix: "") { versions += $0 }
        #expect(Set(versions.map(\.versionId)) == [newer.versionId, "null"])
        try storage.delete("old", versionId: "null")
        versions = []
        try storage.listVersions(prefix: "") { versions += $0 }
        #expect(versions.map(\.versionId) == [newer.versionId] && !versions.contains(where: \.isDeleteMarker))
        #expect(try storage.get("old") == [2, 2])
    }

    /// An upload in parts left open is listed (key relative to the prefix, with its start time) and aborted.
    @Test func incompleteUploads() throws {
        let storage = try S3Storage(client: client, url: "s3://\(bucket)/up")
        let uploadId = try client.createMultipartUpload(bucket: bucket, key: "up/a b/c.bin")
        _ = try client.createMultipartUpload(bucket: bucket, key: "elsewhere/d.bin")
        let listed = try storage.listIncompleteUploads(prefix: "")
        #expect(listed.map(\.key) == ["a b/c.bin"] && listed.map(\.uploadId) == [uploadId])
        // moto answers every upload's Initiated with 2010-11-10T20:48:33.000Z; S3 with the time it started.
        #expect((listed.first?.initiated ?? 0) >= 1_289_422_113)
        try storage.abortIncompleteUpload(listed[0])
        #expect(try storage.listIncompleteUploads(prefix: "") == [])
        try storage.abortIncompleteUpload(listed[0])
    }

    @Test func missingBucket() throws {
        let storage = S3Storage(client: client, bucket: randomBucketName())
        do {
            _ = try storage.get("x")
            Issue.record("expected noSuchBucket")
        } catch StorageError.noSuchBucket {
        }
        do {
            try client.headBucket(storage.bucket)
            Issue.record("expected noSuchBucket from HeadBucket")
        } catch StorageError.noSuchBucket {
        }
        try client.headBucket(bucket)
    }
}
