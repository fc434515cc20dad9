// S3 failures that StorageError has no case for: configuration, credentials, unexpected responses. S3's own
// error answers map to StorageError (see S3Client.mapError).
import QuiltSupport

/// Errors of the S3 layer beyond `StorageError`. Messages never contain secrets, tokens or signatures.
public enum S3Error: QuiltError, Equatable {
    /// `AWS_PROFILE` names a profile that is in neither the config nor the credentials file.
    case profileNotFound(profile: String)
    /// The profile gets its credentials in a way this client does not implement (SSO, roles, processes).
    case unsupportedCredentialSource(profile: String, source: String)
    /// Container or instance-metadata credentials could not be fetched or read.
    case credentialsUnavailable(source: String, detail: String)
    /// STS GetCallerIdentity gave no identity for the credentials.
    case identityUnknown(detail: String)
    /// An SSO profile whose `aws sso login` is missing or expired.
    case ssoLoginRequired(profile: String, reason: String)
    /// An endpoint URL that cannot be used.
    case badEndpoint(url: String)
    /// A bucket name S3 would refuse.
    case badBucketName(bucket: String)
    /// A ranged GET that starts past the end of the object (HTTP 416, `InvalidRange`): an empty object has no
    /// byte 0.
    case rangeNotSatisfiable(location: String)
    /// A multipart upload that would need more than S3's 10,000 parts of the configured size.
    case tooManyParts(location: String, size: Int, partSize: Int)
    /// A response S3 should not have sent (unparseable XML, missing fields).
    case badResponse(location: String, operation: String, detail: String)

    public var kind: FailureKind {
        switch self {
        case .badEndpoint, .badBucketName: return .usage
        default: return .operationFailed
        }
    }

    public var message: String {
        switch self {
        case .profileNotFound(let profile): return "AWS profile \(quoted(profile)) not found"
        case .unsupportedCredentialSource(let profile, let source):
            return "AWS profile \(quoted(profile)) uses \(source), which is not supported"
        case .credentialsUnavailable(let source, let detail): return "cannot get AWS credentials from \(source): \(detail)"
        case .identityUnknown(let detail): return "cannot tell whose the credentials are: \(detail)"
        case .ssoLoginRequired(let profile, let reason):
            return "AWS SSO profile \(quoted(profile)) needs a new sign-in: \(reason)"
        case .badEndpoint(let url): return "bad S3 endpoint URL \(quoted(url))"
        case .badBucketName(let bucket): return "bad S3 bucket name \(quoted(bucket))"
        case .rangeNotSatisfiable(let location): return "requested range not satisfiable \(quoted(location))"
        case .tooManyParts(let location, let size, let partSize):
            return "\(quoted(location)) would need \((size + partSize - 1) / partSize) parts of \(partSize) bytes; S3 allows 10000"
        case .badResponse(let location, let operation, let detail):
            return "\(operation) got a bad response for \(quoted(location)): \(detail)"
        }
    }

    public var hint: String? {
        switch self {
        case .profileNotFound: return "check AWS_PROFILE, AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE"
        case .unsupportedCredentialSource:
            return "export AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (e.g. from `aws configure export-credentials`)"
        case .identityUnknown: return "check the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID), or sign in again"
        case .ssoLoginRequired(let profile, _): return "run 'aws sso login --profile \(profile)'"
        case .tooManyParts(_, let size, _):
            return "raise multipart_chunksize (quilt config) or QUILT_MULTIPART_PART_SIZE to at least \((size + 9_999) / 10_000) bytes"
        default: return nil
        }
    }
}
