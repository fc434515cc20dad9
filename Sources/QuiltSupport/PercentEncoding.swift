// Percent-encoding, one implementation for every user: file:// URLs as Python's urllib quotes them, S3 URLs and
// SigV4 canonical requests as AWS encodes them (the two rules are the same: only A–Z a–z 0–9 - _ . ~ stay).

public enum PercentEncoding {
    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    @inline(__always)
    static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
            || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: "-") || b == UInt8(ascii: "~")
    }

    /// Every byte outside `A-Za-z0-9_.-~` (and `/` with `keepSlash`) as `%XX`, uppercase hex: Python's
    /// `quote(s, safe='/')` with `keepSlash`, `quote(s, safe='')` without; AWS's URI encoding likewise.
    public static func encode(_ text: String, keepSlash: Bool = false) -> String {
        if text.utf8.allSatisfy({ isUnreserved($0) || (keepSlash && $0 == UInt8(ascii: "/")) }) { return text }
        var out = [UInt8]()
        out.reserveCapacity(text.utf8.count + 16)
        for b in text.utf8 {
            if isUnreserved(b) || (keepSlash && b == UInt8(ascii: "/")) {
                out.append(b)
            } else {
                appendEscape(b, to: &out)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `quote_plus(s, safe='')` as `urlencode` applies it: space as `+`, `/` encoded.
    public static func encodePlus(_ text: String) -> String {
        var out = [UInt8]()
        for b in text.utf8 {
            if isUnreserved(b) {
                out.append(b)
            } else if b == 0x20 {
                out.append(UInt8(ascii: "+"))
            } else {
                appendEscape(b, to: &out)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    @inline(__always)
    private static func appendEscape(_ b: UInt8, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "%"))
        out.append(hexDigits[Int(b >> 4)])
        out.append(hexDigits[Int(b & 0xF)])
    }

    /// Python's `unquote`: `%XX` sequences decoded as UTF-8 bytes (and `+` as a space with `plusIsSpace`);
    /// malformed escapes stay as they are.
    public static func decode<S: StringProtocol>(_ text: S, plusIsSpace: Bool = false) -> String {
        // Checked on the text's own bytes: most keys have nothing to decode, and an install parses one a file.
        let utf8 = text.utf8
        if !utf8.contains(UInt8(ascii: "%")) && !(plusIsSpace && utf8.contains(UInt8(ascii: "+"))) {
            return String(text)
        }
        return String(decoding: decodedBytes(text, plusIsSpace: plusIsSpace), as: UTF8.self)
    }

    /// The bytes `decode` would read as UTF-8, as they are: for a caller that must refuse what is not UTF-8 (a
    /// URL path naming a logical key) rather than have it repaired.
    public static func decodedBytes<S: StringProtocol>(_ text: S, plusIsSpace: Bool = false) -> [UInt8] {
        let utf8 = Array(text.utf8)
        var out = [UInt8]()
        out.reserveCapacity(utf8.count)
        var i = 0
        while i < utf8.count {
            let b = utf8[i]
            if b == UInt8(ascii: "%"), i + 2 < utf8.count, let hi = Hex.value(utf8[i + 1]), let lo = Hex.value(utf8[i + 2]) {
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(plusIsSpace && b == UInt8(ascii: "+") ? 0x20 : b)
                i += 1
            }
        }
        return out
    }

    /// `file://` followed by the quoted path, as quilt3 writes a local physical key.
    public static func fileURL(path: String) -> String { "file://" + encode(path, keepSlash: true) }
}
