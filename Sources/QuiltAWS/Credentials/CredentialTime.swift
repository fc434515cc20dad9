// The expiry times credential sources write, in the forms they use.
import Foundation

public enum CredentialTime {
    /// An ISO 8601 time as STS, the metadata services, the SSO cache and Quilt catalogs write it: `Z`, `UTC` or
    /// a `+hh:mm` offset, with or without fractional seconds; without a zone it is UTC (as botocore reads it on
    /// a UTC machine).
    public static func parse(_ text: String) -> Date? {
        var text = text.trimmingCharacters(in: .whitespaces)
        if text.hasSuffix("UTC") { text = String(text.dropLast(3)) + "Z" }
        if text.count >= 11, text[text.index(text.startIndex, offsetBy: 10)] == " " {
            text.replaceSubrange(text.index(text.startIndex, offsetBy: 10)...text.index(text.startIndex, offsetBy: 10), with: "T")
        }
        let hasZone = text.hasSuffix("Z") || text.range(of: #"[+-]\d\d:?\d\d$"#, options: .regularExpression) != nil
        if !hasZone { text += "Z" }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}
