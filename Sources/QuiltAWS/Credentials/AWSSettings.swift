// Where the S3 layer's settings come from, resolved like the AWS CLI: environment first, then the profile.
import QuiltSupport
import Foundation

/// How bucket names go into URLs.
public enum S3AddressingStyle: String, Sendable, Equatable {
    /// Virtual-hosted style for AWS, path style for custom endpoints, IPs and bucket names with dots.
    case auto
    /// Always `https://host/bucket/key`.
    case path
    /// Always `https://bucket.host/key`.
    case virtual
}

/// Settings from the environment and the AWS shared config and credentials files, for one profile.
public struct AWSSettings: Sendable, Equatable {
    /// The profile in use (`AWS_PROFILE`, else `default`).
    public var profileName: String
    /// `AWS_REGION`, `AWS_DEFAULT_REGION`, else the profile's `region`.
    public var region: String?
    /// `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, the profile's `services` section `s3.endpoint_url`, or its
    /// `endpoint_url`.
    public var endpointURL: String?
    /// The profile's `s3.addressing_style`.
    public var addressingStyle: S3AddressingStyle
    /// The profile's keys from the config file (`[profile NAME]` or `[default]`).
    var configProfile: [String: String]
    /// The profile's keys from the credentials file (`[NAME]`).
    var credentialsProfile: [String: String]
    /// Whether the profile was named explicitly and exists in neither file.
    var missingExplicitProfile: Bool
    /// With `role_arn` and `source_profile`: the source profile's keys (credentials file over config file).
    var sourceProfile: [String: String] = [:]
    /// Where STS is reached for `role_arn`: `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, or the profile's.
    var stsEndpointURL: String?
    /// With `sso_session`: that `[sso-session NAME]` section of the config file (nil if the file has none).
    var ssoSession: [String: String]?
    /// Where the AWS CLI caches SSO sign-ins (`~/.aws/sso/cache`).
    var ssoCacheDirectory: String = ""
    /// `AWS_ENDPOINT_URL_SSO`: the SSO portal instead of `portal.sso.<region>.amazonaws.com`.
    var ssoEndpointURL: String?

    /// Reads the settings; `environment` stands for the process environment (tests pass their own).
    public static func load(environment: [String: String]) -> AWSSettings {
        let home = environment["HOME"] ?? ""
        let profileName = nonEmpty(environment["AWS_PROFILE"]) ?? nonEmpty(environment["AWS_DEFAULT_PROFILE"]) ?? "default"
        let credentialsPath = nonEmpty(environment["AWS_SHARED_CREDENTIALS_FILE"]) ?? "\(home)/.aws/credentials"
        let configPath = nonEmpty(environment["AWS_CONFIG_FILE"]) ?? "\(home)/.aws/config"
        let credentialsFile = readINI(expandTilde(credentialsPath, home: home))
        let configFile = readINI(expandTilde(configPath, home: home))

        let credentialsProfile = credentialsFile.sections[profileName]
        let configSectionName = profileName == "default" && configFile.sections["default"] != nil
            ? "default" : "profile \(profileName)"
        let configProfile = configFile.sections[configSectionName]

        let profile = configProfile ?? [:]
        let region = nonEmpty(environment["AWS_REGION"]) ?? nonEmpty(environment["AWS_DEFAULT_REGION"])
            ?? nonEmpty(profile["region"])
        var endpoint: String?
        if environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]?.lowercased() != "true" {
            let servicesEndpoint = nonEmpty(profile["services"]).flatMap {
                nonEmpty(configFile.sections["services \($0)"]?["s3.endpoint_url"])
            }
            endpoint = nonEmpty(environment["AWS_ENDPOINT_URL_S3"]) ?? nonEmpty(environment["AWS_ENDPOINT_URL"])
                ?? servicesEndpoint ?? nonEmpty(profile["endpoint_url"])
        }
        let style = profile["s3.addressing_style"].flatMap { S3AddressingStyle(rawValue: $0.lowercased()) } ?? .auto
        let explicit = nonEmpty(environment["AWS_PROFILE"]) != nil || nonEmpty(environment["AWS_DEFAULT_PROFILE"]) != nil
        var settings = AWSSettings(
            profileName: profileName, region: region, endpointURL: endpoint, addressingStyle: style,
            configProfile: profile, credentialsProfile: credentialsProfile ?? [:],
            missingExplicitProfile: explicit && credentialsProfile == nil && configProfile == nil)
        if let source = nonEmpty(profile["source_profile"]) {
            let sourceConfig = configFile.sections[source == "default" && configFile.sections["default"] != nil
                ? "default" : "profile \(source)"] ?? [:]
            settings.sourceProfile = sourceConfig.merging(credentialsFile.sections[source] ?? [:]) { _, credentials in credentials }
        }
        if environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]?.lowercased() != "true" {
            settings.stsEndpointURL = nonEmpty(environment["AWS_ENDPOINT_URL_STS"]) ?? nonEmpty(environment["AWS_ENDPOINT_URL"])
                ?? nonEmpty(profile["endpoint_url"])
        }
        if let session = nonEmpty(profile["sso_session"]) {
            settings.ssoSession = configFile.sections["sso-session \(session)"]
        }
        settings.ssoCacheDirectory = "\(home)/.aws/sso/cache"
        settings.ssoEndpointURL = nonEmpty(environment["AWS_ENDPOINT_URL_SSO"])
        return settings
    }


    private static func expandTilde(_ path: String, home: String) -> String {
        path.hasPrefix("~/") ? home + path.dropFirst() : path
    }

    /// A missing or unreadable file counts as empty, as it does for the AWS CLI.
    private static func readINI(_ path: String) -> AWSINIFile {
        guard let bytes = try? FileSystem.readFile(path) else { return AWSINIFile() }
        return AWSINIFile.parse(String(decoding: bytes, as: UTF8.self))
    }
}
