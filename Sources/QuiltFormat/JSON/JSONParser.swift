// A strict, fast JSON parser over UTF-8 bytes, accepting exactly what Python's json module accepts in strict mode
// minus NaN/Infinity, and producing `JSONValue`s that keep what hashing needs.
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Parses JSON text. Foundation's coders are not used: they lose integer/float distinctions and key order.
public struct JSONParser {
    /// The deepest nesting accepted, so hostile input cannot exhaust the stack.
    public static let maximumDepth = 512

    /// Parses one JSON value that must fill `bytes` (surrounding whitespace allowed).
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONError) -> JSONValue {
        var reader = Reader(bytes: bytes)
        reader.skipWhitespace()
        let value = try reader.parseValue(depth: 0)
        reader.skipWhitespace()
        if reader.position != bytes.count {
            throw JSONError.syntax(offset: reader.position, reason: "extra data after the value")
        }
        return value
    }

    public static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONError) -> JSONValue in try parse(buffer) }
        }
        return try result.get()
    }

    /// Whether `bytes` hold exactly one JSON value (what `parse` accepts).
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        (try? parse(bytes)) != nil
    }

    public static func parse(_ text: String) throws(JSONError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        @inline(__always) func peek() -> UInt8? {
            position < bytes.count ? bytes[position] : nil
        }

        mutating func skipWhitespace() {
            while position < bytes.count {
                switch bytes[position] {
                case 0x20, 0x09, 0x0A, 0x0D: position += 1
                default: return
                }
            }
        }

        func error(_ reason: String) -> JSONError { .syntax(offset: position, reason: reason) }

        mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
            guard let byte = peek() else { throw error("unexpected end of input") }
            switch byte {
            case UInt8(ascii: "{"): return .object(try parseObject(depth: depth + 1))
            case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
            case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
            case UInt8(ascii: "n"): try expectLiteral("null"); return .null
            case UInt8(ascii: "N"), UInt8(ascii: "I"): throw JSONError.nonFinite
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
            default: throw error("unexpected character")
            }
        }

        mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
            let count = literal.utf8CodeUnitCount
            guard position + count <= bytes.count else { throw error("unexpected end of input") }
            let start = literal.utf8Start
            for i in 0..<count where bytes[position + i] != start[i] { throw error("invalid literal") }
            position += count
        }

        mutating func parseObject(depth: Int) throws(JSONError) -> JSONObject {
            guard depth <= JSONParser.maximumDepth else { throw error("nesting too deep") }
            position += 1
            var object = JSONObject()
            skipWhitespace()
            if peek() == UInt8(ascii: "}") { position += 1; return object }
            while true {
                skipWhitespace()
                guard peek() == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let key = try parseString()
                skipWhitespace()
                guard peek() == UInt8(ascii: ":") else { throw error("expected ':'") }
                position += 1
                skipWhitespace()
                let value = try parseValue(depth: depth)
                if object[key] == nil { object.appendNew(key, value) } else { object[key] = value }
                skipWhitespace()
                switch peek() {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "}"): position += 1; return object
                default: throw error("expected ',' or '}'")
                }
            }
        }

        mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
            guard depth <= JSONParser.maximumDepth else { throw error("nesting too deep") }
            position += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if peek() == UInt8(ascii: "]") { position += 1; return .array(items) }
            while true {
                skipWhitespace()
                items.append(try parseValue(depth: depth))
                skipWhitespace()
                switch peek() {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "]"): position += 1; return .array(items)
                default: throw error("expected ',' or ']'")
                }
            }
        }

        mutating func parseNumber() throws(JSONError) -> JSONValue {
            let start = position
            if peek() == UInt8(ascii: "-") { position += 1 }
            guard let first = peek(), isDigit(first) else {
                if peek() == UInt8(ascii: "I") { throw JSONError.nonFinite }
                throw error("invalid number")
            }
            if first == UInt8(ascii: "0") {
                position += 1
            } else {
                while let b = peek(), isDigit(b) { position += 1 }
            }
            var isFloat = false
            if peek() == UInt8(ascii: "."), position + 1 < bytes.count, isDigit(bytes[position + 1]) {
                isFloat = true
                position += 1
                while let b = peek(), isDigit(b) { position += 1 }
            }
            if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
                var look = position + 1
                if look < bytes.count, bytes[look] == UInt8(ascii: "+") || bytes[look] == UInt8(ascii: "-") { look += 1 }
                if look < bytes.count, isDigit(bytes[look]) {
                    isFloat = true
                    position = look
                    while let b = peek(), isDigit(b) { position += 1 }
                }
            }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
            if isFloat {
                guard let value = Double(text) else { throw JSONError.syntax(offset: start, reason: "invalid number") }
                guard value.isFinite else { throw JSONError.nonFinite }
                return .float(value)
            }
            return .integer(text == "-0" ? "0" : text)
        }

        @inline(__always) func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

        mutating func parseString() throws(JSONError) -> String {
            position += 1
            let start = position
            // Fast path: no escapes.
            while position < bytes.count {
                let b = bytes[position]
                if b == UInt8(ascii: "\"") {
                    let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<position])
                    position += 1
                    return try makeString(slice, offset: start)
                }
                if b == UInt8(ascii: "\\") { break }
                if b < 0x20 { throw error("control character in string") }
                position += 1
            }
            guard position < bytes.count else { throw JSONError.syntax(offset: start, reason: "unterminated string") }
            var buffer = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<position]))
            while position < bytes.count {
                let b = bytes[position]
                if b == UInt8(ascii: "\"") {
                    position += 1
                    let result = buffer.withUnsafeBytes { raw in
                        Result { () throws(JSONError) -> String in try makeString(raw, offset: start) }
                    }
                    return try result.get()
                }
                if b < 0x20 { throw error("control character in string") }
                if b != UInt8(ascii: "\\") {
                    buffer.append(b)
                    position += 1
                    continue
                }
                position += 1
                guard let escape = peek() else { break }
                position += 1
                switch escape {
                case UInt8(ascii: "\""): buffer.append(0x22)
                case UInt8(ascii: "\\"): buffer.append(0x5C)
                case UInt8(ascii: "/"): buffer.append(0x2F)
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(0x0A)
                case UInt8(ascii: "r"): buffer.append(0x0D)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if scalar >= 0xD800 && scalar < 0xDC00 {
                        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                              bytes[position + 1] == UInt8(ascii: "u") else {
                            throw error("unpaired surrogate in string")
                        }
                        position += 2
                        let low = try parseHex4()
                        guard low >= 0xDC00 && low < 0xE000 else { throw error("unpaired surrogate in string") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if scalar >= 0xDC00 && scalar < 0xE000 {
                        throw error("unpaired surrogate in string")
                    }
                    appendUTF8(scalar, to: &buffer)
                default:
                    throw error("invalid escape")
                }
            }
            throw JSONError.syntax(offset: start, reason: "unterminated string")
        }

        mutating func parseHex4() throws(JSONError) -> UInt32 {
            guard position + 4 <= bytes.count else { throw error("truncated \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes[position]
                let digit: UInt32
                switch b {
                case 0x30...0x39: digit = UInt32(b - 0x30)
                case 0x41...0x46: digit = UInt32(b - 0x41 + 10)
                case 0x61...0x66: digit = UInt32(b - 0x61 + 10)
                default: throw error("invalid \\u escape")
                }
                value = value << 4 | digit
                position += 1
            }
            return value
        }

        func makeString(_ raw: UnsafeRawBufferPointer, offset: Int) throws(JSONError) -> String {
            // ASCII needs no validation; anything else must be well-formed UTF-8.
            var ascii = true
            for b in raw where b >= 0x80 { ascii = false; break }
            if ascii { return String(decoding: raw, as: UTF8.self) }
            guard let string = String(validating: raw, as: UTF8.self) else {
                throw JSONError.invalidUTF8(offset: offset)
            }
            return string
        }
    }
}

@inline(__always)
func appendUTF8(_ scalar: UInt32, to buffer: inout [UInt8]) {
    switch scalar {
    case 0..<0x80:
        buffer.append(UInt8(scalar))
    case 0x80..<0x800:
        buffer.append(UInt8(0xC0 | (scalar >> 6)))
        buffer.append(UInt8(0x80 | (scalar & 0x3F)))
    case 0x800..<0x10000:
        buffer.append(UInt8(0xE0 | (scalar >> 12)))
        buffer.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
        buffer.append(UInt8(0x80 | (scalar & 0x3F)))
    default:
        buffer.append(UInt8(0xF0 | (scalar >> 18)))
        buffer.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
        buffer.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
        buffer.append(UInt8(0x80 | (scalar & 0x3F)))
    }
}

/// Pieces for parsers that read a known shape straight from the bytes (the entry-stream fast path). Each one
/// consumes nothing and returns false or nil when the input is not the plain form it expects.
extension JSONParser.Reader {
    /// Whether raw bytes (a `plainKey`) spell `name`.
    @inline(__always) static func bytes(_ raw: UnsafeRawBufferPointer, equal name: StaticString) -> Bool {
        raw.count == name.utf8CodeUnitCount && (raw.count == 0 || memcmp(raw.baseAddress!, name.utf8Start, raw.count) == 0)
    }

    @inline(__always) mutating func consume(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        position += 1
        return true
    }

    mutating func consumeLiteral(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count,
              memcmp(bytes.baseAddress! + position, literal.utf8Start, count) == 0 else { return false }
        position += count
        return true
    }

    /// An object key of printable ASCII without escapes, as its raw bytes (no String is made).
    mutating func plainKey() -> UnsafeRawBufferPointer? {
        guard peek() == UInt8(ascii: "\"") else { return nil }
        var end = position + 1
        while end < bytes.count {
            let b = bytes[end]
            if b == UInt8(ascii: "\"") {
                let key = UnsafeRawBufferPointer(rebasing: bytes[(position + 1)..<end])
                position = end + 1
                return key
            }
            if b < 0x20 || b >= 0x80 || b == UInt8(ascii: "\\") { return nil }
            end += 1
        }
        return nil
    }

    /// A non-negative integer of at most 18 digits, written as JSON writes it (no sign, no leading zero,
    /// no fraction or exponent), without making its text.
    mutating func smallNonNegativeInteger() -> Int? {
        var end = position
        var value = 0
        while end < bytes.count, isDigit(bytes[end]), end - position < 18 {
            value = value * 10 + Int(bytes[end] - 0x30)
            end += 1
        }
        guard end > position else { return nil }
        if end < bytes.count {
            switch bytes[end] {
            case 0x30...0x39, UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): return nil
            default: break
            }
        }
        // A leading zero ("012") is a syntax error for the general parser to report.
        if bytes[position] == 0x30 && end - position > 1 { return nil }
        position = end
        return value
    }
}
