// The suite's own settings (QUILT_* environment variables), read strictly: a value that does not parse or
// is out of range is refused by name, never replaced by the default without a word.

/// A setting whose value cannot be used: `invalid QUILT_TRANSFER_MAX_CONCURRENCY '0': must be at least 1`.
public struct SettingError: QuiltError, Equatable {
    public let name: String
    public let value: String
    public let reason: String

    public init(name: String, value: String, reason: String) {
        self.name = name
        self.value = value
        self.reason = reason
    }

    public var kind: FailureKind { .usage }
    public var message: String { "invalid \(name) \(quoted(value)): \(reason)" }
}

/// Typed reads of settings from an environment dictionary (the command layer reads the process environment once
/// and passes it down). Unset or empty means the default, as the AWS SDKs read theirs.
public struct Settings: Sendable {
    public let environment: [String: String]

    public init(_ environment: [String: String]) { self.environment = environment }

    private func text(_ name: String) -> String? {
        nonEmpty(environment[name]).map(\.trimmingWhitespace)
    }

    /// A whole number in `range`.
    public func integer(_ name: String, default value: Int, in range: ClosedRange<Int>) throws(SettingError) -> Int {
        guard let text = text(name) else { return value }
        guard let number = Int(text) else { throw SettingError(name: name, value: text, reason: "not a whole number") }
        guard range.contains(number) else {
            let bounds = range.upperBound == Int.max ? "at least \(range.lowerBound)" : "from \(range.lowerBound) to \(range.upperBound)"
            throw SettingError(name: name, value: text, reason: "must be \(bounds)")
        }
        return number
    }

    /// The longest time a setting may give (about 31 years): a timer of more means none, and converting more to
    /// milliseconds would not fit the integers timers take.
    public static let maxSeconds = 1e9

    /// A positive, finite number of seconds (decimals allowed), at most `maxSeconds`; nil when unset.
    public func seconds(_ name: String) throws(SettingError) -> Double? {
        guard let text = text(name) else { return nil }
        guard let seconds = Double(text), seconds.isFinite, seconds > 0, seconds <= Self.maxSeconds else {
            throw SettingError(name: name, value: text, reason: "must be a positive number of seconds, at most 1000000000")
        }
        return seconds
    }

    /// One of `choices` (lowercase; the value is compared without regard to case), else `value` when unset.
    public func choice(_ name: String, default value: String, among choices: [String]) throws(SettingError) -> String {
        guard let text = text(name) else { return value }
        guard choices.contains(text.lowercased()) else {
            let names = choices.map { "'\($0)'" }
            let list = names.count > 1 ? names.dropLast().joined(separator: ", ") + " or " + names.last! : names.joined()
            throw SettingError(name: name, value: text, reason: "must be \(list)")
        }
        return text.lowercased()
    }

    /// A size in bytes, `1048576`, `64K`, `16M`, `1G` (binary units; `KB`, `KiB` and so on too), in `range`.
    public func byteSize(_ name: String, default value: Int, in range: ClosedRange<Int>) throws(SettingError) -> Int {
        guard let text = text(name) else { return value }
        guard let size = Self.parseByteSize(text) else {
            throw SettingError(name: name, value: text, reason: "not a size (bytes, or a number with K, M or G)")
        }
        guard range.contains(size) else {
            throw SettingError(name: name, value: text,
                               reason: "must be from \(Self.formatSize(range.lowerBound)) to \(Self.formatSize(range.upperBound))")
        }
        return size
    }

    /// `1048576`, `64K`, `16M`, `1G` as bytes; nil if it is not a size.
    public static func parseByteSize(_ text: String) -> Int? {
        var digits = text.uppercased()
        if digits.hasSuffix("IB") { digits.removeLast(2) } else if digits.hasSuffix("B") { digits.removeLast() }
        var unit = 1
        switch digits.last {
        case "K": unit = 1 << 10
        case "M": unit = 1 << 20
        case "G": unit = 1 << 30
        case "T": unit = 1 << 40
        default: break
        }
        if unit > 1 { digits.removeLast() }
        guard let number = Int(digits), number >= 0 else { return nil }
        let (size, overflow) = number.multipliedReportingOverflow(by: unit)
        return overflow ? nil : size
    }

    static func formatSize(_ size: Int) -> String {
        for (shift, suffix) in [(30, "G"), (20, "M"), (10, "K")] where size >= 1 << shift && size % (1 << shift) == 0 {
            return "\(size >> shift)\(suffix)"
        }
        return String(size)
    }
}
