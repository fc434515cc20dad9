// The two JSON encodings quilt3 uses: the manifest form and the canonical form fed to the top hash.

/// Writes `JSONValue`s byte for byte as Python's `json` module does.
public enum JSONWriter {
    /// The manifest form: `json.JSONEncoder(ensure_ascii=False)`: `", "` and `": "` separators, raw UTF-8,
    /// insertion order; only `"`, `\` and control characters escaped.
    public static func writeManifestForm(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .integer(let digits): out.append(contentsOf: digits.utf8)
        case .float(let d): appendPythonFloat(d, to: &out)
        case .string(let s): writeString(s, asciiOnly: false, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")); out.append(UInt8(ascii: " ")) }
                writeManifestForm(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            var first = true
            for (key, item) in object {
                if !first { out.append(UInt8(ascii: ",")); out.append(UInt8(ascii: " ")) }
                first = false
                writeString(key, asciiOnly: false, to: &out)
                out.append(UInt8(ascii: ":")); out.append(UInt8(ascii: " "))
                writeManifestForm(item, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// The canonical hashing form: `json.dumps(sort_keys=True, separators=(',', ':'))`: keys sorted by code
    /// point, compact, ASCII only with `\uXXXX` escapes (surrogate pairs above the BMP).
    public static func writeCanonicalForm(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .null, .bool, .integer, .float:
            writeManifestForm(value, to: &out)
        case .string(let s): writeString(s, asciiOnly: true, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeCanonicalForm(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            var first = true
            for (key, item) in sortedByCodePoint(object) {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                writeString(key, asciiOnly: true, to: &out)
                out.append(UInt8(ascii: ":"))
                writeCanonicalForm(item, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Python's `json.dump` with no options, as quilt3 writes `auth.json` and `credentials.json`: `", "` and
    /// `": "` separators, insertion order, ASCII only with `\uXXXX` escapes.
    public static func writeDefaultForm(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .null, .bool, .integer, .float:
            writeManifestForm(value, to: &out)
        case .string(let s): writeString(s, asciiOnly: true, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")); out.append(UInt8(ascii: " ")) }
                writeDefaultForm(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            var first = true
            for (key, item) in object {
                if !first { out.append(UInt8(ascii: ",")); out.append(UInt8(ascii: " ")) }
                first = false
                writeString(key, asciiOnly: true, to: &out)
                out.append(UInt8(ascii: ":")); out.append(UInt8(ascii: " "))
                writeDefaultForm(item, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    public static func manifestForm(_ value: JSONValue) -> String {
        var out: [UInt8] = []
        writeManifestForm(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func canonicalForm(_ value: JSONValue) -> String {
        var out: [UInt8] = []
        writeCanonicalForm(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Python sorts `str` keys by code point, which is UTF-8 byte order; Swift's `<` on String is not.
    static func sortedByCodePoint(_ object: JSONObject) -> [(key: String, value: JSONValue)] {
        var pairs = object.pairs
        if pairs.count > 1 {
            pairs.sort { lhs, rhs in lhs.key.utf8.lexicographicallyPrecedes(rhs.key.utf8) }
        }
        return pairs
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    @inline(__always)
    private static func appendUnicodeEscape(_ unit: UInt32, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "u"))
        out.append(hexDigits[Int((unit >> 12) & 0xF)])
        out.append(hexDigits[Int((unit >> 8) & 0xF)])
        out.append(hexDigits[Int((unit >> 4) & 0xF)])
        out.append(hexDigits[Int(unit & 0xF)])
    }

    /// Appends the decimal digits of `value` without creating a String.
    static func writeInteger(_ value: Int, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        appendDecimal(UInt64(value.magnitude), to: &out)
    }

    /// Appends the decimal digits of `value` without creating a String: the one integer writer of the byte-level
    /// formats (JSON here, install records' numbers).
    public static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        var magnitude = value
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for the 20 digits of UInt64.max
        withUnsafeMutableBytes(of: &digits) { buffer in
            var start = buffer.count
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start...]))
        }
    }

    static func writeString(_ string: String, asciiOnly: Bool, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings need no escaping at all: copy their bytes in one go.
        let copied = string.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            for b in bytes where b < 0x20 || b == 0x22 || b == 0x5C || (asciiOnly && b >= 0x7F) { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if copied == true {
            out.append(UInt8(ascii: "\""))
            return
        }
        for scalar in string.unicodeScalars {
            let v = scalar.value
            switch v {
            case 0x22: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "\""))
            case 0x5C: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "\\"))
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0x08: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "f"))
            case 0..<0x20: appendUnicodeEscape(v, to: &out)
            case 0x20..<0x7F: out.append(UInt8(v))
            default:
                if !asciiOnly {
                    appendUTF8(v, to: &out)
                } else if v < 0x10000 {
                    appendUnicodeEscape(v, to: &out)
                } else {
                    let offset = v - 0x10000
                    appendUnicodeEscape(0xD800 + (offset >> 10), to: &out)
                    appendUnicodeEscape(0xDC00 + (offset & 0x3FF), to: &out)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
