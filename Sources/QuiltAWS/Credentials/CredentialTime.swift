// The one reader of ISO 8601 times: the expiry times credential sources write, in the forms they use, and the times
// S3 listings carry (`LastModified`, `Initiated`).
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

    /// Seconds since the epoch, or nil when `text` is no time. S3's own form (`2024-05-01T12:34:56.789Z`) is read
    /// by hand: Foundation's ISO8601DateFormatter takes 272 µs a time on this toolchain (100,000 parses of that
    /// text with one formatter: 27.3 s), which would be minutes for a listing of a million versions; anything else
    /// goes to `parse`.
    public static func seconds(_ text: String) -> Double? {
        if let fast = parseUTC(Array(text.utf8)) { return fast }
        return parse(text)?.timeIntervalSince1970
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`.
    static func parseUTC(_ b: [UInt8]) -> Double? {
        guard b.count >= 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54 || b[10] == 0x20, b[13] == 0x3A, b[16] == 0x3A,
              b.last == 0x5A else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }
                value = value * 10 + Int(b[i] - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60 else { return nil }
        var fraction = 0.0
        if b.count > 20 {
            // At most nine digits (S3 writes three): digits over a power of ten, exact where the fraction is.
            guard b[19] == 0x2E, b.count > 21, b.count <= 30, let digits = number(20..<(b.count - 1)) else { return nil }
            var scale = 1
            for _ in 20..<(b.count - 1) { scale *= 10 }
            fraction = Double(digits) / Double(scale)
        } else if b.count != 20 {
            return nil
        }
        // Days from 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Double(days * 86_400 + hour * 3600 + minute * 60 + second) + fraction
    }
}
