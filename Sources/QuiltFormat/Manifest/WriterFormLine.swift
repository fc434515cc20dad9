// The fixed shape of a file entry line as quilt3 and this suite write it, read as ranges of its bytes: what lets
// stored lines be compared, checked and hashed without being parsed into values.
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A file entry line in the form this suite and quilt3 write (`{"logical_key": …, "physical_keys": […], "size":
/// …, "hash": {…}, "meta": …}`, those separators, the hash's keys in either order), as ranges of its bytes. Made
/// without building a String or a value; the strings' UTF-8 and the meta's JSON are checked only on request.
public struct WriterFormLine {
    var key: LineScanner.Token
    var url: LineScanner.Token
    var size: Range<Int>
    var type: LineScanner.Token
    var value: LineScanner.Token
    var meta: Range<Int>
    /// Where `], "size": …` starts: everything from there on is what entries compare by (size, hash, meta).
    var contentStart: Int

    public init?(_ line: UnsafeRawBufferPointer) {
        var scan = LineScanner(bytes: line)
        guard scan.literal(#"{"logical_key": "#), let key = scan.string(),
              scan.literal(#", "physical_keys": ["#), let url = scan.string() else { return nil }
        let contentStart = scan.position
        guard scan.literal(#"], "size": "#), let size = scan.digits(),
              scan.literal(#", "hash": {""#) else { return nil }
        if scan.literal(#"type": "#) {
            guard let t = scan.string(), scan.literal(#", "value": "#), let v = scan.string() else { return nil }
            (type, value) = (t, v)
        } else if scan.literal(#"value": "#) {
            guard let v = scan.string(), scan.literal(#", "type": "#), let t = scan.string() else { return nil }
            (type, value) = (t, v)
        } else {
            return nil
        }
        guard scan.literal(#"}, "meta": "#), line.count > scan.position, line[line.count - 1] == UInt8(ascii: "}") else {
            return nil
        }
        self.key = key
        self.url = url
        self.size = size
        self.meta = scan.position..<(line.count - 1)
        self.contentStart = contentStart
    }

    /// The bytes of the hash's type and value (without quotes), when neither has an escape.
    var hashBytes: (type: Range<Int>, value: Range<Int>)? {
        guard !type.escaped, !value.escaped else { return nil }
        return ((type.range.lowerBound + 1)..<(type.range.upperBound - 1), (value.range.lowerBound + 1)..<(value.range.upperBound - 1))
    }

    /// Whether every string is UTF-8 (what a line read from storage must be shown to be).
    func stringsAreUTF8(_ line: UnsafeRawBufferPointer) -> Bool {
        for token in [key, url, type, value] where token.nonASCII {
            let body = UnsafeRawBufferPointer(rebasing: line[(token.range.lowerBound + 1)..<(token.range.upperBound - 1)])
            if !UTF8Check.isValid(body) { return false }
        }
        return true
    }
}

/// Reads the fixed shape of a manifest line: literals, strings (as ranges, noting whether they are plain ASCII
/// without escapes), digits.
struct LineScanner {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    struct Token {
        /// The string with its quotes.
        var range: Range<Int>
        /// No escapes and nothing outside printable ASCII: its bytes are its canonical form.
        var plain: Bool
        /// A backslash escape somewhere (else the bytes between the quotes are the string's own).
        var escaped: Bool
        /// A byte of 0x80 or more somewhere (UTF-8 to be checked when it comes from outside).
        var nonASCII: Bool
    }

    mutating func literal(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard position + count <= bytes.count, memcmp(bytes.baseAddress! + position, text.utf8Start, count) == 0 else {
            return false
        }
        position += count
        return true
    }

    /// A JSON string starting at the current position.
    mutating func string() -> Token? {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
        var i = position + 1
        var escaped = false
        var seen = ByteScan.Seen()
        while true {
            i = ByteScan.stringEnd(bytes, from: i, seen: &seen)
            guard i < bytes.count else { return nil }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { break }
            // A control character is no JSON; a backslash starts an escape (what follows is never the end).
            guard b == UInt8(ascii: "\\") else { return nil }
            escaped = true
            i += 2
        }
        let token = Token(range: position..<(i + 1), plain: !escaped && !seen.beyondPrintable, escaped: escaped,
                          nonASCII: seen.nonASCII)
        position = i + 1
        return token
    }

    /// A non-negative integer as JSON writes one, of at most 18 digits (so it fits an Int).
    mutating func digits() -> Range<Int>? {
        let start = position
        while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 { position += 1 }
        guard position > start, position - start <= 18, bytes[start] != 0x30 || position - start == 1 else { return nil }
        return start..<position
    }

    /// The value of digits from `digits()`.
    func integer(_ range: Range<Int>) -> Int {
        var value = 0
        for i in range { value = value * 10 + Int(bytes[i] - 0x30) }
        return value
    }

    /// The string's canonical form: its bytes when plain, else decoded and escaped to ASCII.
    func appendCanonical(_ token: Token, to out: inout [UInt8]) -> Bool {
        if token.plain {
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[token.range]))
            return true
        }
        var reader = JSONParser.Reader(bytes: UnsafeRawBufferPointer(rebasing: bytes[token.range]))
        guard let string = try? reader.parseString() else { return false }
        JSONWriter.writeString(string, asciiOnly: true, to: &out)
        return true
    }
}
