// The credentials interface the S3 client signs with, and its simplest implementation.

/// Gives credentials for signing; nil means none were found and requests go unsigned (public buckets).
public protocol AWSCredentialsProvider: Sendable {
    func credentials() throws -> AWSCredentials?
    /// Where the credentials come from, for `quilt whoami` (never a key or a token).
    var source: AWSCredentialSource { get }
}

extension AWSCredentialsProvider {
    public var source: AWSCredentialSource { .other(kind: "custom", description: "a custom provider") }
}

/// Where a provider finds its credentials.
public enum AWSCredentialSource: Sendable, Equatable, CustomStringConvertible {
    case environment
    /// Static keys of a profile in the shared credentials file or the config file.
    case profile(name: String, file: String)
    case credentialProcess(profile: String)
    case assumedRole(profile: String, roleArn: String)
    case sso(profile: String)
    case container
    case instanceMetadata
    /// Nothing found: requests go unsigned.
    case none
    /// Described by the provider (a Quilt catalog, a test): a short machine name and a phrase.
    case other(kind: String, description: String)

    /// A short machine name (`--json`): environment, profile, process, role, sso, container, instance, none, or
    /// the provider's own.
    public var kind: String {
        switch self {
        case .environment: return "environment"
        case .profile: return "profile"
        case .credentialProcess: return "credential_process"
        case .assumedRole: return "assume_role"
        case .sso: return "sso"
        case .container: return "container"
        case .instanceMetadata: return "instance_metadata"
        case .none: return "none"
        case .other(let kind, _): return kind
        }
    }

    public var description: String {
        switch self {
        case .environment: return "the environment (AWS_ACCESS_KEY_ID)"
        case .profile(let name, let file): return "AWS profile '\(name)' (\(file))"
        case .credentialProcess(let profile): return "the credential_process of AWS profile '\(profile)'"
        case .assumedRole(let profile, let role): return "role \(role) assumed by AWS profile '\(profile)'"
        case .sso(let profile): return "AWS IAM Identity Center (SSO) profile '\(profile)'"
        case .container: return "the container credentials endpoint"
        case .instanceMetadata: return "the EC2 instance role (instance metadata)"
        case .none: return "none (requests are unsigned)"
        case .other(_, let text): return text
        }
    }
}

/// Always the same credentials (or none).
public struct StaticCredentialsProvider: AWSCredentialsProvider {
    public let value: AWSCredentials?

    public init(_ value: AWSCredentials?) {
        self.value = value
    }

    public func credentials() throws -> AWSCredentials? { value }
}
