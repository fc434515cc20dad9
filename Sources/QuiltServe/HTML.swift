// HTML text: the one escaper every value from a registry goes through, the Mustache templates' content type that
// uses it, and how sizes, dates and hashes are written.
import Foundation
import Mustache
import QuiltSupport

/// HTML escaping by bytes: `&`, `<`, `>`, `"` and `'` as character references, everything else as it is.
///
/// swift-mustache's own HTML escaping compares Characters, so a `"` followed by a combining mark (one grapheme
/// cluster) goes through unescaped and can end an attribute: a logical key is any text, so values are escaped by
/// their UTF-8 bytes here instead, which no cluster can hide a quote from.
public func escapeHTML(_ text: String) -> String {
    let utf8 = text.utf8
    guard utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else { return text }
    var out: [UInt8] = []
    out.reserveCapacity(utf8.count + 32)
    for byte in utf8 {
        switch byte {
        case 0x26: out.append(contentsOf: "&amp;".utf8)
        case 0x3C: out.append(contentsOf: "&lt;".utf8)
        case 0x3E: out.append(contentsOf: "&gt;".utf8)
        case 0x22: out.append(contentsOf: "&quot;".utf8)
        case 0x27: out.append(contentsOf: "&#39;".utf8)
        default: out.append(byte)
        }
    }
    return String(decoding: out, as: UTF8.self)
}

/// The content type of every template (`{{% CONTENT_TYPE: QUILT_HTML}}`): `{{value}}` escaped by `escapeHTML`.
struct QuiltHTMLContentType: MustacheContentType {
    func escapeText(_ text: String) -> String { escapeHTML(text) }
}

/// Sizes, dates and hashes as pages show them.
enum Format {
    /// 1,536 bytes as "1.5 KiB"; exact below 1 KiB.
    static func size(_ bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let rounded = value < 10 ? (value * 10).rounded() / 10 : value.rounded()
        let text = rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
        return "\(text) \(units[unit])"
    }

    /// 1234567 as "1,234,567".
    static func count(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return value < 0 ? "-" + out : out
    }

    /// A timestamp pointer's seconds as "2026-12-07 01:02 UTC".
    static func date(_ timestamp: String?) -> String? {
        guard let timestamp, let seconds = Double(timestamp) else { return nil }
        return dateFormatter.withLock { $0.string(from: Date(timeIntervalSince1970: seconds)) }
    }

    /// The same instant in ISO 8601, for `<time datetime>`.
    static func isoDate(_ timestamp: String?) -> String? {
        guard let timestamp, let seconds = Double(timestamp) else { return nil }
        return isoFormatter.withLock { $0.string(from: Date(timeIntervalSince1970: seconds)) }
    }

    private static let dateFormatter = Locked(formatter("yyyy-MM-dd HH:mm 'UTC'"))
    private static let isoFormatter = Locked(formatter("yyyy-MM-dd'T'HH:mm:ss'Z'"))

    private static func formatter(_ format: String) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = format
        return formatter
    }

    /// The first 10 digits of a top hash.
    static func short(_ topHash: String) -> String { String(topHash.prefix(10)) }
}
