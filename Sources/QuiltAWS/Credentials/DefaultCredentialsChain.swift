// Finds credentials the way the AWS CLI does (environment, profile files, container, EC2 instance metadata) and
// refreshes temporary ones before they expire.
import QuiltSupport
import QuiltFormat
import QuiltHTTP
import Foundation

/// The AWS CLI's default credential chain, cached and thread-safe.
///
/// Order: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`; the profile in the credentials file,
/// then in the config file (static keys, `credential_process`, `role_arn`, SSO); container credentials
/// (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` or `…_FULL_URI`); EC2 IMDSv2 unless `AWS_EC2_METADATA_DISABLED=true`.
/// Credentials that expire are fetched again when less than `refreshMargin` seconds remain. Requests to STS, the
/// SSO portal and container credentials are tried again as S3's are (`retry`); instance metadata is tried
/// `metadataRetry`'s number of times, once unless the settings ask for more (botocore's default: off EC2 every try
/// waits out its connect timeout).
public final class DefaultCredentialsChain: AWSCredentialsProvider {
    private let environment: [String: String]
    private let settings: AWSSettings
    private let metadataHTTP: HTTPClient
    /// For STS AssumeRole (profiles with `role_arn`).
    private let stsHTTP: HTTPClient
    private let retry: RetryPolicy
    private let metadataRetry: RetryPolicy
    private let refreshMargin: TimeInterval
    // Resolution happens under the lock so that many threads needing credentials trigger one fetch.
    private let cache = Locked<AWSCredentials??>(nil)

    /// `environment` stands for the process environment; `settings` default to `AWSSettings.load(environment:)`,
    /// `retry` and `metadataRetry` to the tries those settings ask for (`S3Tuning`; a value that does not parse is
    /// refused by `S3ClientConfiguration.resolve`, which passes its own).
    public init(environment: [String: String], settings: AWSSettings? = nil, refreshMargin: TimeInterval = 300,
                retry: RetryPolicy? = nil, metadataRetry: RetryPolicy? = nil) {
        self.environment = environment
        let settings = settings ?? AWSSettings.load(environment: environment)
        self.settings = settings
        self.refreshMargin = refreshMargin
        let tuning = try? S3Tuning(environment: environment)
        self.retry = retry ?? RetryPolicy(
            maxAttempts: tuning.flatMap { try? $0.attempts(profile: settings.configProfile) } ?? RetryPolicy.defaultMaxAttempts)
        self.metadataRetry = metadataRetry ?? RetryPolicy(
            maxAttempts: tuning.flatMap { try? $0.metadataAttempts(profile: settings.configProfile) } ?? 1)
        // Metadata endpoints are link-local: if they answer at all they answer fast, and off EC2 nothing should
        // wait long for them.
        metadataHTTP = HTTPClient(
            configuration: .init(connectTimeout: 1, requestTimeout: 3, stallTimeout: nil, maxIdleHandles: 1))
        stsHTTP = HTTPClient(configuration: .init(connectTimeout: 10, requestTimeout: 30, stallTimeout: nil, maxIdleHandles: 1))
    }

    public func credentials() throws -> AWSCredentials? {
        try cache.withLock { cached in
            if let known = cached {
                guard let current = known, current.expires(within: refreshMargin) else { return known }
                // Refresh early; if that fails, keep using credentials that have not expired yet.
                do {
                    let fresh = try resolve()
                    cached = .some(fresh)
                    return fresh
                } catch {
                    if !current.expires(within: 0) { return current }
                    throw error
                }
            }
            let fresh = try resolve()
            cached = .some(fresh)
            return fresh
        }
    }

    /// Runs the chain once, without the cache.
    func resolve() throws -> AWSCredentials? {
        if let access = value("AWS_ACCESS_KEY_ID"), let secret = value("AWS_SECRET_ACCESS_KEY") {
            return AWSCredentials(accessKeyId: access, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN"))
        }
        if settings.missingExplicitProfile { throw S3Error.profileNotFound(profile: settings.profileName) }
        for profile in [settings.credentialsProfile, settings.configProfile] {
            if let access = nonEmpty(profile["aws_access_key_id"]), let secret = nonEmpty(profile["aws_secret_access_key"]) {
                return AWSCredentials(
                    accessKeyId: access, secretAccessKey: secret, sessionToken: nonEmpty(profile["aws_session_token"]))
            }
        }
        if let command = nonEmpty(settings.configProfile["credential_process"]) {
            return try processCredentials(command)
        }
        if let role = nonEmpty(settings.configProfile["role_arn"]), settings.configProfile["web_identity_token_file"] == nil {
            return try assumeRole(role)
        }
        if SSOCredentials.applies(to: settings) {
            return try SSOCredentials(settings: settings, http: stsHTTP, retry: retry).fetch()
        }
        // A source this client cannot use: fail loudly rather than fall through to other credentials.
        if settings.configProfile["web_identity_token_file"] != nil {
            throw S3Error.unsupportedCredentialSource(profile: settings.profileName, source: "web identity")
        }
        if let container = try containerCredentials() { return container }
        if value("AWS_EC2_METADATA_DISABLED")?.lowercased() != "true" {
            return try? instanceMetadataCredentials()
        }
        return nil
    }

    /// Which link of the chain `resolve` uses, decided from the settings alone (nothing is fetched), in the
    /// same order.
    public var source: AWSCredentialSource {
        if value("AWS_ACCESS_KEY_ID") != nil && value("AWS_SECRET_ACCESS_KEY") != nil { return .environment }
        let name = settings.profileName
        if nonEmpty(settings.credentialsProfile["aws_access_key_id"]) != nil { return .profile(name: name, file: "credentials file") }
        if nonEmpty(settings.configProfile["aws_access_key_id"]) != nil { return .profile(name: name, file: "config file") }
        if nonEmpty(settings.configProfile["credential_process"]) != nil { return .credentialProcess(profile: name) }
        if let role = nonEmpty(settings.configProfile["role_arn"]) { return .assumedRole(profile: name, roleArn: role) }
        if SSOCredentials.applies(to: settings) { return .sso(profile: name) }
        if value("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") != nil || value("AWS_CONTAINER_CREDENTIALS_FULL_URI") != nil {
            return .container
        }
        if value("AWS_EC2_METADATA_DISABLED")?.lowercased() != "true" { return .instanceMetadata }
        return .none
    }

    private func value(_ name: String) -> String? {
        nonEmpty(environment[name])
    }


    private func containerCredentials() throws -> AWSCredentials? {
        let url: String
        if let relative = value("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            url = "http://169.254.170.2" + relative
        } else if let full = value("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
            url = full
        } else {
            return nil
        }
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let tokenFile = value("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
            let token = try? FileSystem.readFile(tokenFile)
        {
            headers.append(("Authorization", String(decoding: token, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        } else if let token = value("AWS_CONTAINER_AUTHORIZATION_TOKEN") {
            headers.append(("Authorization", token))
        }
        let source = "the container credentials endpoint"
        let response: HTTPResponse
        do {
            response = try metadataHTTP.perform(HTTPRequest(method: "GET", url: url, headers: headers), retry: retry)
        } catch let error as HTTPError {
            throw S3Error.credentialsUnavailable(source: source, detail: error.message)
        }
        guard response.status == 200 else {
            throw S3Error.credentialsUnavailable(source: source, detail: "HTTP \(response.status)")
        }
        return try Self.parseCredentialsDocument(response.body, source: source)
    }

    private func instanceMetadataCredentials() throws -> AWSCredentials? {
        let base = value("AWS_EC2_METADATA_SERVICE_ENDPOINT").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
            ?? "http://169.254.169.254"
        let source = "the EC2 instance metadata service"
        let tokenResponse = try metadataHTTP.perform(
            HTTPRequest(
                method: "PUT", url: base + "/latest/api/token",
                headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")]), retry: metadataRetry)
        guard tokenResponse.status == 200 else { return nil }
        let token = String(decoding: tokenResponse.body, as: UTF8.self)
        let headers: [(name: String, value: String)] = [("X-aws-ec2-metadata-token", token)]
        let listURL = base + "/latest/meta-data/iam/security-credentials/"
        let roles = try metadataHTTP.perform(HTTPRequest(method: "GET", url: listURL, headers: headers), retry: metadataRetry)
        guard roles.status == 200,
            let role = String(decoding: roles.body, as: UTF8.self).split(whereSeparator: \.isNewline).first
        else { return nil }
        let document = try metadataHTTP.perform(
            HTTPRequest(method: "GET", url: listURL + PercentEncoding.encode(String(role)), headers: headers),
            retry: metadataRetry)
        guard document.status == 200 else {
            throw S3Error.credentialsUnavailable(source: source, detail: "HTTP \(document.status)")
        }
        return try Self.parseCredentialsDocument(document.body, source: source)
    }

    /// A profile with `role_arn`: STS AssumeRole, signed with the credentials of `source_profile` (static keys)
    /// or of the environment (`credential_source = Environment`), as the AWS CLI does.
    private func assumeRole(_ roleArn: String) throws -> AWSCredentials {
        let profile = settings.configProfile
        let source: AWSCredentials
        if let name = nonEmpty(profile["source_profile"]) {
            guard let access = nonEmpty(settings.sourceProfile["aws_access_key_id"]),
                  let secret = nonEmpty(settings.sourceProfile["aws_secret_access_key"]) else {
                throw S3Error.credentialsUnavailable(source: "source_profile \(name)", detail: "no static keys in that profile")
            }
            source = AWSCredentials(accessKeyId: access, secretAccessKey: secret,
                                    sessionToken: nonEmpty(settings.sourceProfile["aws_session_token"]))
        } else if profile["credential_source"]?.lowercased() == "environment",
                  let access = value("AWS_ACCESS_KEY_ID"), let secret = value("AWS_SECRET_ACCESS_KEY") {
            source = AWSCredentials(accessKeyId: access, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN"))
        } else {
            throw S3Error.unsupportedCredentialSource(profile: settings.profileName, source: "an assumed role (role_arn) without source_profile")
        }
        let region = settings.region ?? "us-east-1"
        guard let sts = STSRequest(settings: settings, region: region) else {
            throw S3Error.credentialsUnavailable(source: "STS", detail: "bad endpoint")
        }
        var parameters = [("RoleArn", roleArn),
                          ("RoleSessionName", nonEmpty(profile["role_session_name"]) ?? "quilt-\(Int(Date().timeIntervalSince1970))")]
        if let external = nonEmpty(profile["external_id"]) { parameters.append(("ExternalId", external)) }
        if let duration = nonEmpty(profile["duration_seconds"]) { parameters.append(("DurationSeconds", duration)) }
        let answer: STSRequest.Answer
        do {
            answer = try sts.send("AssumeRole", parameters, credentials: source, http: stsHTTP, retry: retry)
        } catch let error as HTTPError {
            throw S3Error.credentialsUnavailable(source: "STS AssumeRole", detail: error.message)
        }
        guard answer.status == 200, let credentials = answer.result?.child("Credentials"),
              let access = credentials.value("AccessKeyId"), let secret = credentials.value("SecretAccessKey") else {
            throw S3Error.credentialsUnavailable(source: "STS AssumeRole of \(roleArn)", detail: answer.errorCode)
        }
        let expiration = credentials.value("Expiration").flatMap(CredentialTime.parse)
        return AWSCredentials(accessKeyId: access, secretAccessKey: secret, sessionToken: credentials.value("SessionToken"),
                              expiration: expiration)
    }

    /// The profile's `credential_process`, run through the shell as the AWS CLI does; it prints
    /// `{"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}`. Its output is never shown.
    private func processCredentials(_ command: String) throws -> AWSCredentials {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        // A failing helper may print what it was given or fetched (a key, a token) on stderr: its exit status is
        // all a user needs to see, so its stderr goes nowhere rather than through to ours.
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            throw S3Error.credentialsUnavailable(source: "credential_process", detail: "cannot run it")
        }
        let body = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw S3Error.credentialsUnavailable(source: "credential_process", detail: "exited with status \(process.terminationStatus)")
        }
        return try Self.parseCredentialsDocument(Array(body), source: "credential_process")
    }

    /// Reads the JSON the metadata services and `credential_process` return: `AccessKeyId`, `SecretAccessKey`,
    /// `Token` (or `SessionToken`), `Expiration`.
    static func parseCredentialsDocument(_ body: [UInt8], source: String) throws -> AWSCredentials {
        guard let object = (try? JSONParser.parse(body))?.objectValue,
            let access = object["AccessKeyId"]?.stringValue, let secret = object["SecretAccessKey"]?.stringValue
        else {
            throw S3Error.credentialsUnavailable(source: source, detail: "unexpected response")
        }
        let expiration = object["Expiration"]?.stringValue.flatMap(CredentialTime.parse)
        return AWSCredentials(
            accessKeyId: access, secretAccessKey: secret,
            sessionToken: object["Token"]?.stringValue ?? object["SessionToken"]?.stringValue, expiration: expiration)
    }
}
