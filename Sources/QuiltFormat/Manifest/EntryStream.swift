// The entry stream: the JSONL unit that flows between plumbing programs, in the manifest's own line form.
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

public enum EntryStream {
    /// One parsed line of an entry stream.
    public enum Item: Sendable {
        case entry(ManifestEntry)
        case directory(key: String, meta: JSONValue)
        /// A manifest header line (only as the first line).
        case header(JSONObject)
    }

    /// Parses one line. A missing or null `hash` is allowed (it is computed later); `size` may be missing for
    /// a local file (it is read later, and marked -1 until then). Fields may come in any order, and unknown
    /// fields are ignored.
    public static func parseLine(_ line: UnsafeRawBufferPointer, lineNumber: Int) throws(ManifestError) -> Item {
        if let item = parseLineDirectly(line) { return item }
        return try parseLineInGeneral(line, lineNumber: lineNumber)
    }

    /// The general path: the whole line as a JSON value, then its fields. It also words every error.
    static func parseLineInGeneral(_ line: UnsafeRawBufferPointer, lineNumber: Int) throws(ManifestError) -> Item {
        let value: JSONValue
        do { value = try JSONParser.parse(line) } catch {
            throw .invalidLine(line: lineNumber, reason: error.message)
        }
        guard case .object(let object) = value else { throw .invalidLine(line: lineNumber, reason: "not a JSON object") }
        guard case .string(let logicalKey)? = object["logical_key"] else {
            // A whole manifest piped in (`quilt-cat-manifest REV | …`) starts with its header: not an entry.
            if lineNumber == 1, object["version"] != nil { return .header(object) }
            throw .missingField(line: lineNumber, field: "logical_key")
        }
        var url: String?
        switch object["physical_keys"] {
        case nil, .null?: url = nil
        case .array(let list)?:
            if let first = list.first {
                guard case .string(let s) = first else {
                    throw .invalidLine(line: lineNumber, reason: "'physical_keys' must be a list of URLs")
                }
                url = s
            }
        default: throw .invalidLine(line: lineNumber, reason: "'physical_keys' must be a list of URLs")
        }
        var size = -1
        if let sizeValue = object["size"], sizeValue != .null {
            guard let s = sizeValue.intValue, s >= 0 else {
                throw .invalidLine(line: lineNumber, reason: "'size' must be a non-negative integer")
            }
            size = s
        }
        var hash: ObjectHash?
        switch object["hash"] {
        case nil, .null?: hash = nil
        case .object(let h)?:
            guard case .string(let type)? = h["type"], case .string(let value)? = h["value"] else {
                throw .invalidLine(line: lineNumber, reason: "'hash' must have string 'type' and 'value'")
            }
            hash = ObjectHash(type: type, value: value, valueFirst: h.keys.first == "value")
        default: throw .invalidLine(line: lineNumber, reason: "'hash' must be an object")
        }
        return makeItem(logicalKey: logicalKey, url: url, size: size, hash: hash, meta: object["meta"])
    }

    /// The item a line's fields describe; both parsing paths end here so they cannot disagree.
    static func makeItem(logicalKey: String, url: String?, size: Int, hash: ObjectHash?, meta: JSONValue?) -> Item {
        guard let url else { return .directory(key: logicalKey, meta: meta ?? .null) }
        let meta = meta ?? .object(JSONObject())
        return .entry(ManifestEntry(logicalKey: logicalKey, physicalKey: url, size: size, hash: hash,
                                    meta: meta.isTruthy ? meta : .object(JSONObject())))
    }

    /// The fast path: reads the fields straight from the line's bytes, in any order, building JSON values only
    /// for `meta` and unknown fields. It returns nil for anything out of the ordinary (an escaped or non-ASCII
    /// key, a repeated field, an unusual shape, any syntax error), and the general path then decides.
    static func parseLineDirectly(_ line: UnsafeRawBufferPointer) -> Item? {
        parseLineDirectlyWithFields(line)?.item
    }

    /// `parseLineDirectly`, and which of the fields it reads the line had (a manifest requires some).
    static func parseLineDirectlyWithFields(_ line: UnsafeRawBufferPointer) -> (item: Item, seen: Field)? {
        var reader = JSONParser.Reader(bytes: line)
        var logicalKey: String?
        var url: String?
        var size = -1
        var hash: ObjectHash?
        var meta: JSONValue?
        var seen = Field()
        do throws(JSONError) {
            reader.skipWhitespace()
            guard reader.consume(UInt8(ascii: "{")) else { return nil }
            repeat {
                reader.skipWhitespace()
                guard let key = reader.plainKey() else { return nil }
                reader.skipWhitespace()
                guard reader.consume(UInt8(ascii: ":")) else { return nil }
                reader.skipWhitespace()
                let field = Field(key)
                if !field.isEmpty {
                    guard !seen.contains(field) else { return nil }
                    seen.insert(field)
                }
                switch field {
                case .logicalKey:
                    guard reader.peek() == UInt8(ascii: "\"") else { return nil }
                    logicalKey = try reader.parseString()
                case .physicalKeys:
                    if reader.consumeLiteral("null") { break }
                    guard reader.consume(UInt8(ascii: "[")) else { return nil }
                    reader.skipWhitespace()
                    if reader.consume(UInt8(ascii: "]")) { break }
                    guard reader.peek() == UInt8(ascii: "\"") else { return nil }
                    url = try reader.parseString()
                    reader.skipWhitespace()
                    guard reader.consume(UInt8(ascii: "]")) else { return nil }
                case .size:
                    if reader.consumeLiteral("null") { break }
                    guard let value = reader.smallNonNegativeInteger() else { return nil }
                    size = value
                case .hash:
                    if reader.consumeLiteral("null") { break }
                    guard let value = try reader.hashObject() else { return nil }
                    hash = value
                case .meta:
                    meta = try reader.parseValue(depth: 1)
                default:
                    _ = try reader.parseValue(depth: 1)
                }
                reader.skipWhitespace()
            } while reader.consume(UInt8(ascii: ","))
            guard reader.consume(UInt8(ascii: "}")) else { return nil }
            reader.skipWhitespace()
            guard reader.position == line.count else { return nil }
        } catch {
            return nil
        }
        guard let logicalKey else { return nil }
        return (makeItem(logicalKey: logicalKey, url: url, size: size, hash: hash, meta: meta), seen)
    }

    /// The manifest line of an entry-stream line, made from its bytes without parsing them into values: for an
    /// entry line whose strings need no escapes (keys in any order, unknown fields ignored, any spacing), with a
    /// hash and a size, and a valid logical key. Returns the range of the logical key in `out` (what was
    /// appended is the line, without a newline), or nil, with nothing appended, for any other line: the
    /// general path then parses it, and words any error.
    static func renderLineDirectly(_ line: UnsafeRawBufferPointer, to out: inout [UInt8]) -> Range<Int>? {
        var reader = JSONParser.Reader(bytes: line)
        var key: Range<Int>?, url: Range<Int>?, size: Range<Int>?, type: Range<Int>?, value: Range<Int>?
        var valueFirst = false
        var meta: JSONValue?
        var seen = Field()
        reader.skipWhitespace()
        guard reader.consume(UInt8(ascii: "{")) else { return nil }
        repeat {
            reader.skipWhitespace()
            guard let name = reader.plainKey() else { return nil }
            reader.skipWhitespace()
            guard reader.consume(UInt8(ascii: ":")) else { return nil }
            reader.skipWhitespace()
            let field = Field(name)
            if !field.isEmpty {
                guard !seen.contains(field) else { return nil }
                seen.insert(field)
            }
            switch field {
            case .logicalKey:
                guard let range = reader.plainString() else { return nil }
                key = range
            case .physicalKeys:
                guard reader.consume(UInt8(ascii: "[")) else { return nil }
                reader.skipWhitespace()
                guard let range = reader.plainString() else { return nil }
                url = range
                reader.skipWhitespace()
                guard reader.consume(UInt8(ascii: "]")) else { return nil }
            case .size:
                let start = reader.position
                guard reader.smallNonNegativeInteger() != nil else { return nil }
                size = start..<reader.position
            case .hash:
                guard reader.consume(UInt8(ascii: "{")) else { return nil }
                for i in 0..<2 {
                    if i == 1 { guard reader.consume(UInt8(ascii: ",")) else { return nil } }
                    reader.skipWhitespace()
                    guard let name = reader.plainKey() else { return nil }
                    reader.skipWhitespace()
                    guard reader.consume(UInt8(ascii: ":")) else { return nil }
                    reader.skipWhitespace()
                    guard let range = reader.plainString() else { return nil }
                    if JSONParser.Reader.bytes(name, equal: "type"), type == nil {
                        type = range
                    } else if JSONParser.Reader.bytes(name, equal: "value"), value == nil {
                        value = range
                        if i == 0 { valueFirst = true }
                    } else {
                        return nil
                    }
                    reader.skipWhitespace()
                }
                guard reader.consume(UInt8(ascii: "}")) else { return nil }
            case .meta:
                if reader.consumeLiteral("{}") {
                    meta = nil
                } else {
                    guard let value = try? reader.parseValue(depth: 1) else { return nil }
                    meta = value.isTruthy ? value : nil
                }
            default:
                guard (try? reader.parseValue(depth: 1)) != nil else { return nil }
            }
            reader.skipWhitespace()
        } while reader.consume(UInt8(ascii: ","))
        guard reader.consume(UInt8(ascii: "}")) else { return nil }
        reader.skipWhitespace()
        guard reader.position == line.count, let key, let url, let size, let type, let value else { return nil }
        let keyBytes = UnsafeRawBufferPointer(rebasing: line[(key.lowerBound + 1)..<(key.upperBound - 1)])
        guard LogicalKey.problem(keyBytes.assumingMemoryBound(to: UInt8.self)) == nil else { return nil }
        func raw(_ range: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: line[range]) }
        out.append(contentsOf: #"{"logical_key": "#.utf8)
        let keyStart = out.count + 1
        out.append(contentsOf: raw(key))
        out.append(contentsOf: #", "physical_keys": ["#.utf8)
        out.append(contentsOf: raw(url))
        out.append(contentsOf: #"], "size": "#.utf8)
        out.append(contentsOf: raw(size))
        out.append(contentsOf: valueFirst ? #", "hash": {"value": "#.utf8 : #", "hash": {"type": "#.utf8)
        out.append(contentsOf: raw(valueFirst ? value : type))
        out.append(contentsOf: valueFirst ? #", "type": "#.utf8 : #", "value": "#.utf8)
        out.append(contentsOf: raw(valueFirst ? type : value))
        out.append(contentsOf: #"}, "meta": "#.utf8)
        if let meta {
            JSONWriter.writeManifestForm(meta, to: &out)
        } else {
            out.append(contentsOf: "{}".utf8)
        }
        out.append(UInt8(ascii: "}"))
        return keyStart..<(keyStart + keyBytes.count)
    }

    /// The fields of an entry line the fast path reads itself.
    struct Field: OptionSet {
        let rawValue: UInt8
        init(rawValue: UInt8) { self.rawValue = rawValue }
        static let logicalKey = Field(rawValue: 1)
        static let physicalKeys = Field(rawValue: 2)
        static let size = Field(rawValue: 4)
        static let hash = Field(rawValue: 8)
        static let meta = Field(rawValue: 16)

        /// The field a key names; empty for any other key.
        init(_ key: UnsafeRawBufferPointer) {
            func equals(_ name: StaticString) -> Bool { JSONParser.Reader.bytes(key, equal: name) }
            if equals("logical_key") { self = .logicalKey }
            else if equals("physical_keys") { self = .physicalKeys }
            else if equals("size") { self = .size }
            else if equals("hash") { self = .hash }
            else if equals("meta") { self = .meta }
            else { self = [] }
        }
    }

    /// One entry stream of several: a name for messages (nil for standard input alone), and the function that
    /// hands each block of it to the function it is given.
    public struct Input {
        public var name: String?
        public var feed: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void

        public init(name: String?, feed: @escaping ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) {
            self.name = name
            self.feed = feed
        }
    }

    /// Parses an entry stream that arrives in blocks (standard input), so the whole input is never held: lines
    /// are parsed as they complete, and only a line split across blocks is copied.
    public struct Parser {
        private var partial: [UInt8] = []
        private var lineNumber = 0
        /// The stream's name in error messages, when several are read.
        private let source: String?

        public init(source: String? = nil) {
            self.source = source
        }

        /// Parses every line that `block` completes.
        public mutating func feed(_ block: UnsafeRawBufferPointer, into body: (Item) throws -> Void) throws {
            try feedLines(block) { line, number in try body(try parseLine(line, lineNumber: number)) }
        }

        /// Parses the last line, if the input did not end with a newline.
        public mutating func finish(into body: (Item) throws -> Void) throws {
            try finishLines { line, number in try body(try parseLine(line, lineNumber: number)) }
        }

        /// Hands over every non-blank line that `block` completes, unparsed, with its line number.
        public mutating func feedLines(_ block: UnsafeRawBufferPointer,
                                       into body: (UnsafeRawBufferPointer, Int) throws -> Void) throws {
            var start = 0
            while let newline = Parser.index(of: 0x0A, in: block, from: start) {
                if partial.isEmpty {
                    try hand(UnsafeRawBufferPointer(rebasing: block[start..<newline]), to: body)
                } else {
                    partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: block[start..<newline]))
                    try partial.withUnsafeBytes { try hand($0, to: body) }
                    partial.removeAll(keepingCapacity: true)
                }
                start = newline + 1
            }
            partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: block[start...]))
        }

        /// Hands over the last line, if the input did not end with a newline.
        public mutating func finishLines(into body: (UnsafeRawBufferPointer, Int) throws -> Void) throws {
            guard !partial.isEmpty else { return }
            try partial.withUnsafeBytes { try hand($0, to: body) }
            partial.removeAll()
        }

        private mutating func hand(_ line: UnsafeRawBufferPointer, to body: (UnsafeRawBufferPointer, Int) throws -> Void) throws {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
            do { try body(line, lineNumber) } catch let error as ManifestError {
                // With several streams, a line's error names its stream.
                guard let source else { throw error }
                if case .inStream = error { throw error }
                throw ManifestError.inStream(source: source, error)
            }
        }

        private static func index(of byte: UInt8, in block: UnsafeRawBufferPointer, from start: Int) -> Int? {
            guard start < block.count, let base = block.baseAddress,
                  let found = memchr(base + start, Int32(byte), block.count - start) else { return nil }
            return UnsafeRawPointer(found) - base
        }
    }

    /// Splits `bytes` into lines and parses each non-blank one.
    public static func parse(_ bytes: [UInt8], into body: (Item) throws -> Void) throws {
        var parser = Parser()
        try bytes.withUnsafeBytes { try parser.feed($0, into: body) }
        try parser.finish(into: body)
    }

    /// Appends an entry line (manifest form, with a trailing newline).
    public static func write(_ entry: ManifestEntry, to out: inout [UInt8]) {
        appendLine(entry, to: &out)
        out.append(0x0A)
    }

    /// A file entry in the manifest's line form, without the newline (the one writer of entry lines, for manifests
    /// and streams alike); a missing hash is written `null`.
    public static func appendLine(_ entry: ManifestEntry, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"logical_key": "#.utf8)
        JSONWriter.writeString(entry.logicalKey, asciiOnly: false, to: &out)
        out.append(contentsOf: #", "physical_keys": ["#.utf8)
        JSONWriter.writeString(entry.physicalKey, asciiOnly: false, to: &out)
        out.append(contentsOf: #"], "size": "#.utf8)
        JSONWriter.writeInteger(entry.size, to: &out)
        out.append(contentsOf: #", "hash": "#.utf8)
        if let hash = entry.hash {
            ManifestWriter.appendHash(hash, to: &out)
        } else {
            out.append(contentsOf: "null".utf8)
        }
        out.append(contentsOf: #", "meta": "#.utf8)
        JSONWriter.writeManifestForm(entry.meta, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    public static func writeDirectory(key: String, meta: JSONValue, to out: inout [UInt8]) {
        appendDirectoryLine(key: key, meta: meta, to: &out)
        out.append(0x0A)
    }

    /// A directory-metadata line, without the newline.
    static func appendDirectoryLine(key: String, meta: JSONValue, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"logical_key": "#.utf8)
        JSONWriter.writeString(key, asciiOnly: false, to: &out)
        out.append(contentsOf: #", "meta": "#.utf8)
        JSONWriter.writeManifestForm(meta, to: &out)
        out.append(UInt8(ascii: "}"))
    }
}

extension JSONParser.Reader {
    /// A string with no escapes (so its bytes, quotes included, are also its manifest form), as a range; its
    /// bytes are checked to be UTF-8. Nil, consuming nothing, for anything else.
    mutating func plainString() -> Range<Int>? {
        guard peek() == UInt8(ascii: "\"") else { return nil }
        var seen = ByteScan.Seen()
        let end = ByteScan.stringEnd(bytes, from: position + 1, seen: &seen)
        guard end < bytes.count, bytes[end] == UInt8(ascii: "\"") else { return nil }
        if seen.nonASCII && !UTF8Check.isValid(UnsafeRawBufferPointer(rebasing: bytes[(position + 1)..<end])) { return nil }
        let range = position..<(end + 1)
        position = end + 1
        return range
    }

    /// A `hash` dict with string `type` and `value` (in either order, other keys ignored). The default type is
    /// matched in place so the million entries of a large manifest share one immortal String for it.
    mutating func hashObject() throws(JSONError) -> ObjectHash? {
        guard consume(UInt8(ascii: "{")) else { return nil }
        var type: String?
        var value: String?
        var valueFirst = false
        var first = true
        repeat {
            skipWhitespace()
            guard let key = plainKey() else { return nil }
            skipWhitespace()
            guard consume(UInt8(ascii: ":")) else { return nil }
            skipWhitespace()
            let isType = Self.bytes(key, equal: "type"), isValue = Self.bytes(key, equal: "value")
            if first { valueFirst = isValue; first = false }
            if isType {
                guard type == nil, peek() == UInt8(ascii: "\"") else { return nil }
                type = consumeLiteral(#""sha2-256-chunked""#) ? HashType.sha2256Chunked.rawValue : try parseString()
            } else if isValue {
                guard value == nil, peek() == UInt8(ascii: "\"") else { return nil }
                value = try parseString()
            } else {
                _ = try parseValue(depth: 2)
            }
            skipWhitespace()
        } while consume(UInt8(ascii: ","))
        guard consume(UInt8(ascii: "}")), let type, let value else { return nil }
        return ObjectHash(type: type, value: value, valueFirst: valueFirst)
    }
}

/// Well-formed UTF-8 as the Unicode standard defines it (table 3-7): no overlong forms, no surrogates, nothing
/// past U+10FFFF. What `String(validating:)` accepts, without making a String.
enum UTF8Check {
    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = bytes.count
        @inline(__always) func continuation(_ j: Int) -> Bool { j < n && bytes[j] & 0xC0 == 0x80 }
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 {
                i += 1
            } else if b0 < 0xC2 {
                return false
            } else if b0 < 0xE0 {
                guard continuation(i + 1) else { return false }
                i += 2
            } else if b0 < 0xF0 {
                guard i + 2 < n, continuation(i + 2) else { return false }
                let b1 = bytes[i + 1]
                switch b0 {
                case 0xE0: guard b1 >= 0xA0 && b1 <= 0xBF else { return false }
                case 0xED: guard b1 >= 0x80 && b1 <= 0x9F else { return false }
                default: guard b1 & 0xC0 == 0x80 else { return false }
                }
                i += 3
            } else if b0 < 0xF5 {
                guard i + 3 < n, continuation(i + 2), continuation(i + 3) else { return false }
                let b1 = bytes[i + 1]
                switch b0 {
                case 0xF0: guard b1 >= 0x90 && b1 <= 0xBF else { return false }
                case 0xF4: guard b1 >= 0x80 && b1 <= 0x8F else { return false }
                default: guard b1 & 0xC0 == 0x80 else { return false }
                }
                i += 4
            } else {
                return false
            }
        }
        return true
    }
}

/// Scanning JSON string bodies eight bytes at a time.
enum ByteScan {
    /// What the bytes passed over held.
    struct Seen {
        var ored: UInt64 = 0
        var bumped: UInt64 = 0
        /// A byte of 0x80 or more.
        var nonASCII: Bool { ored & 0x8080_8080_8080_8080 != 0 }
        /// A byte of 0x7F or more (what the canonical form escapes).
        var beyondPrintable: Bool { (ored | bumped) & 0x8080_8080_8080_8080 != 0 }
    }

    /// The index of the first byte from `start` that is `"`, `\\` or a control character (or the end).
    @inline(__always)
    static func stringEnd(_ bytes: UnsafeRawBufferPointer, from start: Int, seen: inout Seen) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let n = bytes.count
        guard let base = bytes.baseAddress else { return start }
        var i = start
        while i + 8 <= n {
            let w = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let quote = w ^ (ones &* 0x22), backslash = w ^ (ones &* 0x5C)
            let special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((w &- ones &* 0x20) & ~w)
            if special & highs != 0 { break }
            seen.ored |= w
            seen.bumped |= w &+ ones
            i += 8
        }
        while i < n {
            let b = base.load(fromByteOffset: i, as: UInt8.self)
            if b == 0x22 || b == 0x5C || b < 0x20 { break }
            seen.ored |= UInt64(b)
            seen.bumped |= UInt64(b) &+ 1
            i += 1
        }
        return i
    }
}
