// quilt3's configuration: `config.yml` in the user data directory, with the same keys, defaults and file form, so
// both tools share one configuration.
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

/// A scalar of the flat YAML mapping quilt3 writes.
public enum ConfigValue: Sendable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case string(String)

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// How `quilt config KEY` shows it.
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .string(let s): return s
        }
    }
}

public enum ConfigError: QuiltError {
    case unknownKey(String)
    case invalidValue(key: String, reason: String)
    case unreadable(path: String, reason: String)

    public var kind: FailureKind {
        switch self {
        case .unknownKey, .invalidValue: return .usage
        case .unreadable: return .badInput
        }
    }
    public var message: String {
        switch self {
        case .unknownKey(let key): return "unknown configuration key \(quoted(key))"
        case .invalidValue(let key, let reason): return "invalid value for \(quoted(key)): \(reason)"
        case .unreadable(let path, let reason): return "cannot parse configuration \(quoted(path)): \(reason)"
        }
    }
    public var hint: String? {
        if case .unknownKey = self { return "known keys: " + QuiltConfig.knownKeys.joined(separator: ", ") }
        return nil
    }
}

/// The merged configuration: quilt3's template defaults overlaid with `config.yml`.
public struct QuiltConfig: Sendable {
    public static let templateKeys = [
        "navigator_url", "default_local_registry", "default_remote_registry", "default_install_location",
        "registryUrl", "telemetry_disabled", "s3Proxy", "apiGatewayEndpoint", "binaryApiGatewayEndpoint",
        "default_registry_version", "region",
    ]

    /// Keys of ours, not quilt3's: read and set like the others, but written only once set, so the file quilt3
    /// writes and reads stays the same until someone sets one (quilt3 keeps keys it does not know).
    public static let ownKeys = ["cache_max_size"]
    public static var knownKeys: [String] { templateKeys + ownKeys }

    public let paths: QuiltPaths
    public private(set) var values: [String: ConfigValue]

    /// Reads `config.yml` if present; missing keys take the template's defaults.
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

    /// Sets `key` (one of quilt3's keys) and writes the file as quilt3's `config(key=value)` does: every key,
    /// sorted (atomically replaced; quilt3 keeps a backup only when it auto-configures from a catalog URL).
    public mutating func set(_ key: String, _ value: ConfigValue) throws {
        guard Self.knownKeys.contains(key) else { throw ConfigError.unknownKey(key) }
        if key == "cache_max_size" && value != .null { _ = try Self.cacheMaxSize(value) }
        if key.hasSuffix("_url"), case .string(let url) = value {
            guard url.contains("://"), url.split(separator: "/").count >= 2 else {
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
        values[key] = value
        try FileSystem.writeAtomically(Array(Self.render(values).utf8), to: paths.configFile)
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

    /// Reads the flat `key: value` mapping quilt3 writes (comments, quoted and plain scalars).
    static func parse(_ text: String, path: String) throws -> [(String, ConfigValue)] {
        var result: [(String, ConfigValue)] = []
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix("---") { continue }
            guard let colon = line.firstIndex(of: ":") else {
                throw ConfigError.unreadable(path: path, reason: "expected 'key: value' in \(quoted(String(line)))")
            }
            let key = String(line[..<colon]).trimmingSpaces
            var rest = String(line[line.index(after: colon)...]).trimmingSpaces
            if rest.hasPrefix("\"") {
                result.append((key, .string(try unquoteDouble(rest, path: path))))
            } else if rest.hasPrefix("'") {
                guard rest.count >= 2, rest.hasSuffix("'") else {
                    throw ConfigError.unreadable(path: path, reason: "unterminated string for \(quoted(key))")
                }
                result.append((key, .string(String(rest.dropFirst().dropLast()).replacingAll("''", with: "'"))))
            } else {
                if let hash = rest.range(of: " #") { rest = String(rest[..<hash.lowerBound]).trimmingSpaces }
                result.append((key, parseScalar(rest)))
            }
        }
        return result
    }

    static func unquoteDouble(_ text: String, path: String) throws -> String {
        guard case .string(let s)? = try? JSONParser.parse(text) else {
            throw ConfigError.unreadable(path: path, reason: "bad quoted string \(quoted(text))")
        }
        return s
    }

    /// PyYAML's `yaml.dump` of a flat mapping: keys sorted, `null`, `true`/`false`, plain strings where safe.
    static func render(_ values: [String: ConfigValue]) -> String {
        var out = ""
        for key in values.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            out += key + ": "
            switch values[key]! {
            case .null: out += "null"
            case .bool(let b): out += b ? "true" : "false"
            case .int(let i): out += String(i)
            case .string(let s): out += isPlainSafe(s) ? s : "'" + s.replacingAll("'", with: "''") + "'"
            }
            out += "\n"
        }
        return out
    }

    static func isPlainSafe(_ s: String) -> Bool {
        if s.isEmpty || parseScalar(s) != .string(s) || Double(s) != nil { return false }
        if s.contains(": ") || s.contains(" #") || s.hasSuffix(":") || s.hasSuffix(" ") || s.hasPrefix(" ") { return false }
        guard let first = s.unicodeScalars.first else { return false }
        if "!&*-?:,[]{}#|>@`\"'%".unicodeScalars.contains(first) { return false }
        return s.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
    }
}
