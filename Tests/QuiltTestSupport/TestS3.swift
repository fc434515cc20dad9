// What a test's S3 client is configured from: the endpoint under test and moto's credentials, nothing from the
// real AWS configuration.

/// The environment of an S3 client for the test endpoint `endpoint` (moto, or a stub server on 127.0.0.1).
public func testS3Environment(endpoint: String) -> [String: String] {
    [
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent",
    ]
}
