// The credentials interface the S3 client signs with, and its simplest implementation.

/// Gives credentials for signing; nil means none were found and requests go unsigned (public buckets).
public protocol AWSCredentialsProvider: Sendable {
    func credentials() throws -> AWSCredentials?
}

/// Always the same credentials (or none).
public struct StaticCredentialsProvider: AWSCredentialsProvider {
    public let value: AWSCredentials?

    public init(_ value: AWSCredentials?) {
        self.value = value
    }

    public func credentials() throws -> AWSCredentials? { value }
}
