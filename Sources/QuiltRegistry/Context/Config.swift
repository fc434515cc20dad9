// quilt3's configuration: `config.yml` in the user data directory, with the same keys, defaults and file form, so
// both tools share one configuration. Read and written as PyYAML does (PyYAML.swift).
import QuiltSupport
import QuiltFormat
import Foundation

/// Where quilt3 keeps its files (platformdirs' `user_data_dir("Quilt", "QuiltData")`).
public struct QuiltPaths: Sendable {
    public let dataDirectory: String
    public let cacheDirectory: String

    public init(environment: [String: String]) {
        let home = environment["HOME"] ?? "/"
        #if os(macOS)
        dataDirectory = home + "/Library/Application Support/Quilt"
        cacheDirectory = home + "/Library/Caches/Quilt"
        #else
        let data = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.local/share"
        let cache = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.cache"
        dataDirectory = data + "/Quilt"
        cacheDirectory = cache + "/Quilt"
        #endif
    }

    public var configFile: String { dataDirectory + "/config.yml" }
    public var defaultLocalRegistry: String { PhysicalKey.local(path: dataDirectory + "/packages").url }
}

/// A value of config.yml, as PyYAML's `safe_load` types it.
public enum ConfigValue: Sendable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    /// A plain scalar kept as written: a timestamp (PyYAML reads a date) or an integer beyond 64 bits.
    case plain(String)
    case list([ConfigValue])
    case mapping([String: ConfigValue])

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// Python truthiness, which quilt3 applies to config values.
    public var isTruthy: Bool {
        switch self {
        case .null: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s), .plain(let s): return !s.isEmpty
        case .list(let l): return !l.isEmpty
        case .mapping(let m): return !m.isEmpty
        }
    }

    /// How `quilt config --json` shows it.
    public var json: JSONValue {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return d.isFinite ? .float(d) : .string(PyYAML.floatText(d))
        case .string(let s): return .string(s)
        case .plain(let s):
            // An integer beyond 64 bits is still a number to PyYAML.
            let digits = s.hasPrefix("-") || s.hasPrefix("+") ? s.dropFirst() : Substring(s)
            guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return .string(s) }
            let trimmed = digits.drop { $0 == "0" }
            return .integer((s.hasPrefix("-") && !trimmed.isEmpty ? "-" : "") + (trimmed.isEmpty ? "0" : String(trimmed)))
        case .list(let items): return .array(items.map(\.json))
        case .mapping(let mapping):
            let keys = mapping.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            return .object(JSONObject(keys.map { ($0, mapping[$0]!.json) }))
        }
    }

    /// How `quilt config KEY` shows it.
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return PyYAML.floatText(d)
        case .string(let s), .plain(let s): return s
        case .list, .mapping: return JSONWriter.manifestForm(json)
        }
    }

    /// A JSON value (from a catalog's config.json) as config.yml holds it.
    init(_ json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .integer(let digits): self = Int(digits).map(ConfigValue.int) ?? .plain(digits)
        case .float(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let items): self = .list(items.map(ConfigValue.init))
        case .object(let object):
            var mapping: [String: ConfigValue] = [:]
            for (key, value) in object { mapping[key] = ConfigValue(value) }
            self = .mapping(mapping)
        }
    }
}

public enum ConfigError: QuiltError {
    case unknownKey(String)
    /// `quilt config catalog.example.com`: a catalog's address without `https://` (no key has a dot or a slash).
    case catalogURLWithoutScheme(String)
    case invalidValue(key: String, reason: String)
    case unreadable(path: String, reason: String)
    /// A setting in config.yml that is out of range (found when it is used, so `quilt config` can still fix it).
    case invalidSetting(key: String, reason: String)

    public var kind: FailureKind {
        switch self {
        case .unknownKey, .catalogURLWithoutScheme, .invalidValue, .invalidSetting: return .usage
        case .unreadable: return .badInput
        }
    }
    public var message: String {
        switch self {
        case .unknownKey(let key): return "unknown configuration key \(quoted(key))"
        case .catalogURLWithoutScheme(let url):
            return "invalid catalog URL \(quoted(url)): it needs a scheme (http or https)"
        case .invalidValue(let key, let reason): return "invalid value for \(quoted(key)): \(reason)"
        case .unreadable(let path, let reason): return "cannot parse configuration \(quoted(path)): \(reason)"
        case .invalidSetting(let key, let reason): return "invalid configuration \(quoted(key)) in config.yml: \(reason)"
        }
    }
    public var hint: String? {
        switch self {
        case .unknownKey:
            return "known keys: " + QuiltConfig.knownKeys.joined(separator: ", ")
        case .invalidSetting(let key, _): return "set it again with 'quilt config \(key) VALUE' (or 'null' to drop it)"
        case .catalogURLWithoutScheme(let url): return "quilt config https://\(url)"
        default: return nil
        }
    }
}

/// The merged configuration: quilt3's template defaults overlaid with `config.yml`.
public struct QuiltConfig: Sendable {
    /// quilt3 8.0.0's `CONFIG_TEMPLATE`, in its order.
    public static let templateKeys = [
        "navigator_url", "default_local_registry", "default_remote_registry", "default_install_location",
        "registryUrl", "telemetry_disabled", "s3Proxy", "apiGatewayEndpoint", "binaryApiGatewayEndpoint",
        "default_registry_version", "region",
    ]
    /// This suite's own transfer settings (quilt3 8.0.0 has none of them and leaves them alone in the shared file).
    public static let settingKeys = ["requests_timeout", "max_pool_connections", "multipart_threshold", "multipart_chunksize"]
    /// Keys of ours, not quilt3's: read and set like the others, but written only once set, so the file quilt3
    /// writes and reads stays the same until someone sets one (quilt3 keeps keys it does not know).
    public static let ownKeys = ["cache_max_size"] + settingKeys
    public static var knownKeys: [String] { templateKeys + ownKeys }

    public let paths: QuiltPaths
    public private(set) var values: [String: ConfigValue]

    /// Reads `config.yml` if present; missing keys take the template's defaults; keys quilt3 does not know are
    /// kept, as quilt3 keeps them.
    public init(environment: [String: String]) throws {
        paths = QuiltPaths(environment: environment)
        values = Self.template(paths)
        if let bytes = try? FileSystem.readFile(paths.configFile) {
            for (key, value) in try Self.parse(String(decoding: bytes, as: UTF8.self), path: paths.configFile) {
                values[key] = value
            }
        }
    }

    static func template(_ paths: QuiltPaths) -> [String: ConfigValue] {
        var values: [String: ConfigValue] = [:]
        for key in templateKeys { values[key] = .null }
        values["default_local_registry"] = .string(paths.defaultLocalRegistry)
        values["telemetry_disabled"] = .bool(false)
        values["default_registry_version"] = .int(1)
        return values
    }

    public subscript(key: String) -> ConfigValue? { values[key] }

    /// Whether `quilt config KEY` knows the key: quilt3's, ours, or any the file has.
    public func knows(_ key: String) -> Bool {
        values[key] != nil || Self.ownKeys.contains(key)
    }

    /// Refuses a key `quilt config` does not know, saying so in the words that help: a catalog's address given
    /// without its scheme (`catalog.example.com`) is taken for no key.
    public func checkKey(_ key: String) throws(ConfigError) {
        guard !knows(key) else { return }
        if !key.contains("://"), key.contains(".") || key.contains("/") { throw .catalogURLWithoutScheme(key) }
        throw .unknownKey(key)
    }

    public var defaultLocalRegistry: String {
        values["default_local_registry"]?.stringValue ?? paths.defaultLocalRegistry
    }
    public var defaultRemoteRegistry: String? { values["default_remote_registry"]?.stringValue }
    public var defaultInstallLocation: String? { values["default_install_location"]?.stringValue }
    /// `cache_max_size`: the object cache's size budget, applied after installs (bytes, or `10G` and the like).
    public var cacheMaxSize: Int? {
        get throws { try values["cache_max_size"].flatMap(Self.cacheMaxSize) }
    }

    static func cacheMaxSize(_ value: ConfigValue) throws -> Int? {
        switch value {
        case .null: return nil
        case .int(let i) where i >= 0: return i
        case .string(let s): if let size = Settings.parseByteSize(s) { return size }
        default: break
        }
        throw ConfigError.invalidValue(key: "cache_max_size", reason: "a size is bytes, or a number with K, M, G or T")
    }

    /// The catalog's web address (quilt3 sets it from `quilt3.config(URL)`).
    public var navigatorURL: String? { nonEmpty(values["navigator_url"]?.stringValue) }
    /// The catalog's API (login and credentials), as quilt3 stores it: the key of auth.json.
    public var registryURL: String? { values["registryUrl"]?.stringValue }

    /// Sets `key` (one of quilt3's keys, one of ours, or one the file already has) and writes the file as
    /// quilt3's `config(key=value)` does: every key, sorted, no backup kept.
    public mutating func set(_ key: String, _ value: ConfigValue) throws {
        try checkKey(key)
        var value = value
        if key == "cache_max_size" && value != .null { _ = try Self.cacheMaxSize(value) }
        if Self.settingKeys.contains(key) {
            value = try Self.checkedSetting(key, value)
        } else if key == "navigator_url", case .string(let url) = value, !url.isEmpty {
            value = .string(Self.trimmedURL(url))
        }
        if key.hasSuffix("_url"), case .string(let url) = value, !url.isEmpty {
            guard Self.hasSchemeAndHost(url) else {
                throw ConfigError.invalidValue(key: key, reason: "a URL needs a scheme and a host")
            }
        }
        // A registry value that could never be used would be accepted here and fail every later command.
        if key == "default_remote_registry" && value != .null {
            guard case .string(let url) = value, case .s3? = try? RegistryLocation(url) else {
                throw ConfigError.invalidValue(key: key, reason: "a remote registry is s3://bucket[/prefix]")
            }
        }
        if key == "default_local_registry" && value != .null {
            guard case .string(let url) = value, case .local? = try? RegistryLocation(url) else {
                throw ConfigError.invalidValue(key: key, reason: "a local registry is a path or a file:// URL")
            }
        }
        // quilt3 drops nothing on `config(key=None)`; clearing one of our keys removes it instead, so the default
        // applies again and quilt3 sees no key it does not know.
        if Self.ownKeys.contains(key), value == .null { values[key] = nil } else { values[key] = value }
        try write(keepBackup: false)
    }

    /// quilt3's `config(URL)` with the catalog's `config.json`: start again from the template (every other key is
    /// dropped, ours too, exactly as quilt3 does), copy the template keys the catalog gives, set `navigator_url`
    /// (the catalog's own, else `catalogURL`), and write the file, keeping the old one as
    /// `config.yml.backup.<UTC time>`.
    public mutating func configureCatalog(_ catalogURL: String, catalogConfig: JSONObject) throws {
        var fresh = Self.template(paths)
        for (key, json) in catalogConfig {
            // quilt3 checks every `_url` key of config.json, even those it then drops.
            if key.hasSuffix("_url"), json.isTruthy {
                guard case .string(let url) = json, Self.hasSchemeAndHost(Self.trimmedURL(url)) else {
                    throw ConfigError.invalidValue(key: key, reason: "the catalog's config.json has no usable URL here")
                }
            }
            guard Self.templateKeys.contains(key) else { continue }
            fresh[key] = ConfigValue(json)
        }
        if case .string(let url)? = fresh["navigator_url"], !url.isEmpty {
            fresh["navigator_url"] = .string(Self.trimmedURL(url))
        } else {
            fresh["navigator_url"] = .string(Self.trimmedURL(catalogURL))
        }
        values = fresh
        try write(keepBackup: true)
    }

    /// A catalog URL as quilt3 keeps it: blanks and trailing slashes gone.
    public static func trimmedURL(_ url: String) -> String {
        var text = url.trimmingWhitespace
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }

    /// quilt3's `validate_url`: a scheme and a host (a port, if any, numeric).
    public static func hasSchemeAndHost(_ url: String) -> Bool {
        guard let components = URLComponents(string: url), let scheme = components.scheme, !scheme.isEmpty,
              let host = components.host, !host.isEmpty else { return false }
        return true
    }

    private func write(keepBackup: Bool) throws {
        let text = try PyYAML.dump(values)
        if keepBackup, FileSystem.exists(paths.configFile) {
            try FileSystem.writeAtomically(try FileSystem.readFile(paths.configFile),
                                           to: paths.configFile + ".backup." + Self.backupSuffix())
        }
        try FileSystem.writeAtomically(Array(text.utf8), to: paths.configFile)
    }

    /// quilt3's backup name: the UTC time as `%Y%m%dT%H%M%S.%fZ`.
    static func backupSuffix(now: Double = WallClock.now()) -> String {
        var seconds = time_t(now.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let micro = Int((now - now.rounded(.down)) * 1_000_000)
        return String(format: "%04d%02d%02dT%02d%02d%02d.%06dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), micro)
    }

    /// Parses a plain value given on the command line the way YAML would read it.
    public static func parseScalar(_ text: String) -> ConfigValue {
        switch text {
        case "", "null", "~", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        default: return Int(text).map { .int($0) } ?? .string(text)
        }
    }

    /// Reads config.yml's mapping, typed as PyYAML types it (an empty file is an empty mapping).
    static func parse(_ text: String, path: String) throws -> [(String, ConfigValue)] {
        do {
            return try PyYAML.loadMapping(text) ?? []
        } catch let error as PyYAML.YAMLShapeError {
            throw ConfigError.unreadable(path: path, reason: error.message)
        } catch {
            let reason = "\(error)".split(separator: "\n").first.map(String.init) ?? "invalid YAML"
            throw ConfigError.unreadable(path: path, reason: reason)
        }
    }
}
