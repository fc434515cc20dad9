// Small text helpers shared by the INI, YAML and HTTP header readers and by messages.
import Foundation

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (what INI and header values allow around them).
    public var trimmingSpaces: String { trimming { $0 == " " || $0 == "\t" } }

    /// Without leading and trailing spaces, tabs and line breaks.
    public var trimmingWhitespace: String {
        trimming { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
    }

    private func trimming(_ drop: (Character) -> Bool) -> String {
        var start = startIndex
        var end = endIndex
        while start < end && drop(self[start]) { start = index(after: start) }
        while end > start {
            let before = index(before: end)
            guard drop(self[before]) else { break }
            end = before
        }
        return String(self[start..<end])
    }
}

extension String {
    /// Every occurrence of `target` replaced, compared by Characters.
    public func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

/// The text, or nil when it is missing or empty (an empty setting counts as unset, as the AWS SDKs read them).
public func nonEmpty(_ text: String?) -> String? {
    guard let text, !text.isEmpty else { return nil }
    return text
}
