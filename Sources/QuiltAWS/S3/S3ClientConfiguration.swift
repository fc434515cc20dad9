// Everything an S3Client needs to know before its first request: endpoint, region, credentials, timeouts.
import QuiltSupport
import QuiltHTTP

/// How an `S3Client` reaches S3.
public struct S3ClientConfiguration: Sendable {
    public var endpoint: S3Endpoint
    /// A fixed region; nil to discover each bucket's region (HeadBucket), falling back to us-east-1.
    public var region: String?
    public var credentials: any AWSCredentialsProvider
    public var http: HTTPClient.Configuration
    /// Tries per request for throttling, 5xx answers and broken connections (1 = no retry).
    public var maxAttempts: Int
    /// How S3's requests, and the credential chain's and the catalog's, are tried again.
    public var retry: RetryPolicy { RetryPolicy(maxAttempts: maxAttempts) }
    /// Told one line per HTTP attempt (operation, bucket, key, status or error, time) for `--verbose`. The line
    /// never holds a header, a query string, a credential or a signature.
    public var requestLog: (@Sendable (String) -> Void)?

    public init(
        endpoint: S3Endpoint = .aws, region: String? = nil, credentials: any AWSCredentialsProvider,
        http: HTTPClient.Configuration = .init(), maxAttempts: Int = 4
    ) {
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self.http = http
        self.maxAttempts = max(1, maxAttempts)
    }

    /// Resolves endpoint, region and credentials like the AWS CLI. `environment` stands for the process
    /// environment (pass `ProcessInfo.processInfo.environment` in programs, a dictionary in tests).
    /// `credentials`, when given, replaces the whole default chain (quilt3 does this with a Quilt catalog's
    /// credentials); endpoint and region are still the AWS settings' (a bucket's region is discovered when none
    /// is set, which also covers buckets outside the catalog's own region). `timeout` (seconds, config.yml's
    /// `requests_timeout`) limits connecting and a transfer that moves no data, unless `tuning` (the environment)
    /// says otherwise; `connections` is how many requests may run at once, so that as many connections stay open.
    public static func resolve(environment: [String: String], http: HTTPClient.Configuration = .init(),
                               tuning: S3Tuning? = nil, credentials: (any AWSCredentialsProvider)? = nil,
                               timeout: Double? = nil, connections: Int? = nil) throws -> S3ClientConfiguration
    {
        let tuning = try tuning ?? S3Tuning(environment: environment)
        let settings = AWSSettings.load(environment: environment)
        var http = http
        if let timeout {
            http.connectTimeout = timeout
            http.stallTimeout = timeout
        }
        if let connections { http.maxIdleHandles = max(http.maxIdleHandles, connections) }
        if http.caBundlePath == nil, let bundle = environment["AWS_CA_BUNDLE"] ?? settings.configProfile["ca_bundle"], !bundle.isEmpty {
            http.caBundlePath = bundle
        }
        if let seconds = tuning.connectTimeout { http.connectTimeout = seconds }
        if let seconds = tuning.requestTimeout { http.requestTimeout = seconds }
        if let seconds = tuning.stallTimeout { http.stallTimeout = seconds }
        var endpoint = S3Endpoint.aws
        endpoint.addressingStyle = settings.addressingStyle
        if let url = settings.endpointURL {
            endpoint = try S3Endpoint(url: url, addressingStyle: settings.addressingStyle)
        }
        let attempts = try tuning.attempts(profile: settings.configProfile)
        let metadataAttempts = try tuning.metadataAttempts(profile: settings.configProfile)
        let chain = credentials ?? DefaultCredentialsChain(
            environment: environment, settings: settings, retry: RetryPolicy(maxAttempts: attempts),
            metadataRetry: RetryPolicy(maxAttempts: metadataAttempts))
        return S3ClientConfiguration(endpoint: endpoint, region: settings.region, credentials: chain, http: http,
                                     maxAttempts: attempts)
    }
}

extension S3ClientConfiguration {
    /// How the settings say requests are tried again: the policy `resolve` gives S3's requests, for the clients
    /// that follow it (a Quilt catalog's).
    public static func retryPolicy(environment: [String: String], tuning: S3Tuning) throws(SettingError) -> RetryPolicy {
        RetryPolicy(maxAttempts: try tuning.attempts(profile: AWSSettings.load(environment: environment).configProfile))
    }
}

/// The suite's own S3 knobs (Documentation/quilt.md, ENVIRONMENT), read strictly: a value that does not parse is a
/// `SettingError`, never quietly the default.
public struct S3Tuning: Sendable, Equatable {
    /// `QUILT_S3_CONNECT_TIMEOUT`, `QUILT_S3_REQUEST_TIMEOUT`, `QUILT_S3_STALL_TIMEOUT`: seconds, decimals allowed;
    /// nil keeps the HTTP layer's default.
    public var connectTimeout: Double?
    public var requestTimeout: Double?
    public var stallTimeout: Double?
    /// Tries per request, the first included: `QUILT_S3_MAX_ATTEMPTS`, else `AWS_MAX_ATTEMPTS`; nil to ask the
    /// profile and the retry mode (`attempts(profile:)`).
    public var maxAttempts: Int?
    /// `AWS_RETRY_MODE`; nil to take the profile's `retry_mode`.
    public var retryMode: RetryMode?
    /// `AWS_METADATA_SERVICE_NUM_ATTEMPTS`; nil to take the profile's `metadata_service_num_attempts`.
    public var metadataServiceAttempts: Int?

    /// Tries per request when nothing says otherwise (the suite's own choice, between botocore's modes).
    public static let defaultMaxAttempts = RetryPolicy.defaultMaxAttempts

    public init(environment: [String: String]) throws(SettingError) {
        let settings = Settings(environment)
        connectTimeout = try settings.seconds("QUILT_S3_CONNECT_TIMEOUT")
        requestTimeout = try settings.seconds("QUILT_S3_REQUEST_TIMEOUT")
        stallTimeout = try settings.seconds("QUILT_S3_STALL_TIMEOUT")
        maxAttempts = nil
        for name in ["QUILT_S3_MAX_ATTEMPTS", "AWS_MAX_ATTEMPTS"] where maxAttempts == nil && nonEmpty(environment[name]) != nil {
            maxAttempts = try settings.integer(name, default: Self.defaultMaxAttempts, in: 1...Int.max)
        }
        retryMode = try RetryMode(name: "AWS_RETRY_MODE", value: environment["AWS_RETRY_MODE"])
        metadataServiceAttempts = nonEmpty(environment["AWS_METADATA_SERVICE_NUM_ATTEMPTS"]) == nil ? nil
            : try settings.integer("AWS_METADATA_SERVICE_NUM_ATTEMPTS", default: 1, in: 1...Int.max)
    }

    /// Tries per request as the AWS CLI counts them: `QUILT_S3_MAX_ATTEMPTS`; else `AWS_MAX_ATTEMPTS` or the
    /// profile's `max_attempts`; else the default of the retry mode, `AWS_RETRY_MODE` or the profile's
    /// `retry_mode`; with no mode set, `defaultMaxAttempts`. A profile value the AWS CLI would refuse is refused.
    public func attempts(profile: [String: String]) throws(SettingError) -> Int {
        if let maxAttempts { return maxAttempts }
        if nonEmpty(profile["max_attempts"]) != nil {
            return try Settings(profile).integer("max_attempts", default: Self.defaultMaxAttempts, in: 1...Int.max)
        }
        var mode = retryMode
        if mode == nil { mode = try RetryMode(name: "retry_mode", value: profile["retry_mode"]) }
        return mode?.defaultMaxAttempts ?? Self.defaultMaxAttempts
    }

    /// Tries per request to the EC2 instance metadata service, as botocore counts them:
    /// `AWS_METADATA_SERVICE_NUM_ATTEMPTS`, else the profile's `metadata_service_num_attempts`, else 1 (off EC2,
    /// where nothing answers, each try waits out its connect timeout before the chain can end).
    public func metadataAttempts(profile: [String: String]) throws(SettingError) -> Int {
        if let metadataServiceAttempts { return metadataServiceAttempts }
        return try Settings(profile).integer("metadata_service_num_attempts", default: 1, in: 1...Int.max)
    }
}

/// botocore's retry modes, which differ here only in how many tries they make by default. Adaptive mode's
/// client-side rate limiting is not implemented: it retries as standard does.
public enum RetryMode: String, Sendable, Equatable {
    case legacy, standard, adaptive

    /// nil when unset or empty.
    init?(name: String, value: String?) throws(SettingError) {
        guard let text = nonEmpty(value)?.trimmingWhitespace else { return nil }
        guard let mode = RetryMode(rawValue: text.lowercased()) else {
            throw SettingError(name: name, value: text, reason: "must be standard, legacy or adaptive")
        }
        self = mode
    }

    /// botocore's: 5 tries in legacy mode, 3 in standard and adaptive.
    public var defaultMaxAttempts: Int { self == .legacy ? 5 : 3 }
}
