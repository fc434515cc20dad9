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
