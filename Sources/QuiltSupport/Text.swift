// Small text helpers shared by the INI, YAML and HTTP header readers and by messages.
import Foundation

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (what INI and header values allow around them).
    public var trimmingSpaces: String {
        asciiTrimming { $0 == 0x20 || $0 == 0x09 } ?? trimming { $0 == " " || $0 == "\t" }
    }

    /// Without leading and trailing spaces, tabs and line breaks.
    public var trimmingWhitespace: String {
        asciiTrimming { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
            ?? trimming { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
    }

    /// `trimming` on the bytes of a string that is all ASCII (where bytes and Characters are one), else nil. An
    /// S3 response's headers were trimmed Character by Character, a tenth of a small install's own CPU time.
    private func asciiTrimming(_ drop: (UInt8) -> Bool) -> String? {
        var text = String(self)
        let kept: Range<Int>? = text.withUTF8 { bytes in
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
            var start = 0, end = bytes.count
            while start < end && drop(bytes[start]) { start += 1 }
            while end > start && drop(bytes[end - 1]) { end -= 1 }
            return start..<end
        }
        guard let kept else { return nil }
        if kept.count == text.utf8.count { return text }
        return text.withUTF8 { String(decoding: UnsafeBufferPointer(rebasing: $0[kept]), as: UTF8.self) }
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
