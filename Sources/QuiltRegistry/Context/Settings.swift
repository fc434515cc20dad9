// This suite's own config.yml settings: the knobs boto3 users know by name (requests_timeout,
// max_pool_connections, multipart_threshold, multipart_chunksize). quilt3 8.0.0 has no such keys and keeps them
// untouched in the shared file. The environment variables that mean the same thing win over them.
import QuiltSupport

/// The settings, checked. Nil means not set: the default (or the environment) applies.
public struct QuiltSettings: Sendable, Equatable {
    /// Seconds to connect, and to wait while no data moves (S3); the whole-request limit for catalog calls.
    public var requestsTimeout: Double?
    /// Transfers in flight at once (as `QUILT_TRANSFER_MAX_CONCURRENCY`).
    public var maxPoolConnections: Int?
    /// Bytes from which registry metadata (manifests) goes up as a multipart upload.
    public var multipartThreshold: Int?
    /// The part size of those uploads. Package data keeps the chunked hash's part size.
    public var multipartChunksize: Int?

    public init() {}
}

/// S3's part sizes: at least 5 MiB (except the last part), at most 5 GiB.
public enum S3PartLimits {
    public static let minimum = 5 * 1024 * 1024
    public static let maximum = 5 * 1024 * 1024 * 1024
    public static let maximumParts = 10_000
}

extension QuiltConfig {
    /// The settings as config.yml has them; a value out of range is an error naming the key.
    public func settings() throws -> QuiltSettings {
        var settings = QuiltSettings()
        for key in Self.settingKeys {
            guard let value = values[key], value != .null else { continue }
            let checked: ConfigValue
            do { checked = try Self.checkedSetting(key, value) } catch ConfigError.invalidValue(_, let reason) {
                throw ConfigError.invalidSetting(key: key, reason: reason)
            }
            switch (key, checked) {
            case ("requests_timeout", .double(let d)): settings.requestsTimeout = d
            case ("requests_timeout", .int(let i)): settings.requestsTimeout = Double(i)
            case ("max_pool_connections", .int(let i)): settings.maxPoolConnections = i
            case ("multipart_threshold", .int(let i)): settings.multipartThreshold = i
            case ("multipart_chunksize", .int(let i)): settings.multipartChunksize = i
            default: break
            }
        }
        return settings
    }

    /// Checks (and normalises) a value for one of the settings: numbers given as text become numbers, sizes may
    /// have a `K`, `M` or `G` suffix (binary units) and are stored in bytes.
    static func checkedSetting(_ key: String, _ value: ConfigValue) throws -> ConfigValue {
        if value == .null { return .null }
        switch key {
        case "requests_timeout":
            let seconds: Double?
            switch value {
            case .int(let i): seconds = Double(i)
            case .double(let d): seconds = d
            case .string(let s): seconds = Double(s.trimmingWhitespace)
            default: seconds = nil
            }
            guard let seconds, seconds.isFinite, seconds > 0, seconds <= Settings.maxSeconds else {
                throw ConfigError.invalidValue(key: key, reason: "expected a number of seconds above 0, at most 1000000000")
            }
            return seconds == seconds.rounded() && seconds < 1e9 ? .int(Int(seconds)) : .double(seconds)
        case "max_pool_connections":
            let count: Int?
            switch value {
            case .int(let i): count = i
            case .string(let s): count = Int(s.trimmingWhitespace)
            default: count = nil
            }
            guard let count, (1...1000).contains(count) else {
                throw ConfigError.invalidValue(key: key, reason: "expected a whole number from 1 to 1000")
            }
            return .int(count)
        default:
            let bytes: Int?
            switch value {
            case .int(let i): bytes = i
            case .string(let s): bytes = Settings.parseByteSize(s.trimmingWhitespace)
            default: bytes = nil
            }
            guard let bytes else { throw ConfigError.invalidValue(key: key, reason: "expected a size in bytes (or with K, M, G)") }
            guard (S3PartLimits.minimum...S3PartLimits.maximum).contains(bytes) else {
                throw ConfigError.invalidValue(
                    key: key, reason: "S3 allows 5 MiB (5242880) to 5 GiB (5368709120) bytes, not \(bytes)")
            }
            return .int(bytes)
        }
    }
}
