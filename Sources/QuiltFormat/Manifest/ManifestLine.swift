// The one line codec: every line of a manifest or an entry stream is parsed here and every line written is
// rendered here. A fast path reads a line's fields straight from its bytes; a general path parses it as JSON and
// words every error; both end in `makeItem`, so they cannot disagree.
import QuiltSupport

public enum ManifestLine {
    /// One parsed line.
    public enum Item: Sendable {
        case entry(ManifestEntry)
        case directory(key: String, meta: JSONValue)
        /// A manifest header line (only as the first line of an entry stream).
        case header(JSONObject)
        /// The trailer a `--shard K/N` program ends its output with (entry streams only; never in a manifest).
        case shardTrailer(ShardTrailer)
    }

    /// What a line must hold.
    public enum Rules: Sendable {
        /// A stored manifest's line: a file entry has `physical_keys`, `size`, `hash` and `meta`; a
        /// directory-metadata line has `meta`.
        case manifest
        /// An entry stream's line: `hash` and `size` may be missing or null (computed later; a missing size is
        /// -1 until then), `meta` may be missing, a first line without `logical_key` but with `version` is a
        /// manifest header (a whole manifest piped in), and a line without `logical_key` but with `shard` is a
        /// shard trailer (`ShardTrailer`).
        case entryStream
    }

    // MARK: Parsing

    /// Parses one line (without its newline). Fields may come in any order; unknown fields are ignored.
    public static func parse(_ line: UnsafeRawBufferPointer, lineNumber: Int, rules: Rules) throws(ManifestError) -> Item {
        // The fast path tells which fields it saw; a manifest line lacking one it requires goes to the general
        // path for its error.
        if let (item, seen) = parseDirectly(line) {
            switch rules {
            case .entryStream:
                return item
            case .manifest:
                switch item {
                case .entry(let entry) where entry.size >= 0 && seen.isSuperset(of: [.physicalKeys, .size, .hash, .meta]):
                    return item
                case .directory where seen.contains(.meta):
                    return item
                default:
                    break
                }
            }
        }
        return try parseInGeneral(line, lineNumber: lineNumber, rules: rules)
    }

    /// The header line of a manifest (line 1): a JSON object, `top_hash` dropped, `message` a string or null.
    public static func parseHeader(_ line: UnsafeRawBufferPointer) throws(ManifestError) -> JSONObject {
        if isBlank(line) { throw .invalidLine(line: 1, reason: "empty line") }
        let value: JSONValue
        do { value = try JSONParser.parse(line) } catch {
            throw .invalidLine(line: 1, reason: error.message)
        }
        guard case .object(var object) = value else { throw .invalidLine(line: 1, reason: "not a JSON object") }
        object.removeValue(forKey: "top_hash")
        if let message = object["message"] {
            switch message {
            case .string, .null: break
            default: throw .invalidMessage
            }
        }
        return object
    }

    /// Spaces, tabs and carriage returns only.
    static func isBlank(_ line: UnsafeRawBufferPointer) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    /// The general path: the whole line as a JSON value, then its fields, as `rules` require them.
    static func parseInGeneral(_ line: UnsafeRawBufferPointer, lineNumber: Int, rules: Rules) throws(ManifestError) -> Item {
        if rules == .manifest && isBlank(line) { throw .invalidLine(line: lineNumber, reason: "empty line") }
        let value: JSONValue
        do { value = try JSONParser.parse(line) } catch {
            throw .invalidLine(line: lineNumber, reason: error.message)
        }
        guard case .object(let object) = value else { throw .invalidLine(line: lineNumber, reason: "not a JSON object") }
        guard case .string(let logicalKey)? = object["logical_key"] else {
            // A whole manifest piped in (`quilt-cat-manifest REV | …`) starts with its header: not an entry.
            if rules == .entryStream, lineNumber == 1, object["version"] != nil { return .header(object) }
            if rules == .entryStream, object[ShardTrailer.marker] != nil {
                return .shardTrailer(try ShardTrailer(object, lineNumber: lineNumber))
            }
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
        let meta = object["meta"]
        if rules == .manifest {
            // A manifest's directory line needs only its meta; a file entry every field, checked in this order.
            guard url != nil else {
                guard meta != nil else { throw .missingField(line: lineNumber, field: "meta") }
                return makeItem(logicalKey: logicalKey, url: nil, size: -1, hash: nil, meta: meta)
            }
            for field in ["size", "hash", "meta"] where object[field] == nil {
                throw .missingField(line: lineNumber, field: field)
            }
        }
        var size = -1
        if let sizeValue = object["size"], rules == .manifest || sizeValue != .null {
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
        return makeItem(logicalKey: logicalKey, url: url, size: size, hash: hash, meta: meta)
    }

    /// The item a line's fields describe; both parsing paths end here. A missing or falsy entry meta is `{}`; a
    /// directory line's missing meta is null.
    static func makeItem(logicalKey: String, url: String?, size: Int, hash: ObjectHash?, meta: JSONValue?) -> Item {
        guard let url else { return .directory(key: logicalKey, meta: meta ?? .null) }
        let meta = meta ?? .object(JSONObject())
        return .entry(ManifestEntry(logicalKey: logicalKey, physicalKey: url, size: size, hash: hash,
                                    meta: meta.isTruthy ? meta : .object(JSONObject())))
    }

    /// The fast path: reads the fields straight from the line's bytes, in any order, building JSON values only
    /// for `meta` and unknown fields. Nil for anything out of the ordinary (an escaped or non-ASCII key, a repeated
    /// field, an unusual shape, any syntax error): the general path then decides. With the item come the fields
    /// the line had.
    static func parseDirectly(_ line: UnsafeRawBufferPointer) -> (item: Item, seen: Field)? {
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

    // MARK: Rendering

    /// A file entry in quilt3's line form, without the newline: the one writer of entry lines, for manifests and
    /// streams alike. A missing hash is written `null` (a stream's; never a manifest's).
    public static func appendEntry(_ entry: ManifestEntry, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"logical_key": "#.utf8)
        JSONWriter.writeString(entry.logicalKey, asciiOnly: false, to: &out)
        out.append(contentsOf: #", "physical_keys": ["#.utf8)
        JSONWriter.writeString(entry.physicalKey, asciiOnly: false, to: &out)
        out.append(contentsOf: #"], "size": "#.utf8)
        JSONWriter.writeInteger(entry.size, to: &out)
        out.append(contentsOf: #", "hash": "#.utf8)
        if let hash = entry.hash {
            appendHash(hash, to: &out)
        } else {
            out.append(contentsOf: "null".utf8)
        }
        out.append(contentsOf: #", "meta": "#.utf8)
        JSONWriter.writeManifestForm(entry.meta, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// A directory-metadata line, without the newline.
    public static func appendDirectory(key: String, meta: JSONValue, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"logical_key": "#.utf8)
        JSONWriter.writeString(key, asciiOnly: false, to: &out)
        out.append(contentsOf: #", "meta": "#.utf8)
        JSONWriter.writeManifestForm(meta, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// The manifest form of a hash dict, in its stored key order (what `hash.json` would write, without building it).
    static func appendHash(_ hash: ObjectHash, to out: inout [UInt8]) {
        out.append(contentsOf: hash.valueFirst ? #"{"value": "#.utf8 : #"{"type": "#.utf8)
        JSONWriter.writeString(hash.valueFirst ? hash.value : hash.type, asciiOnly: false, to: &out)
        out.append(contentsOf: hash.valueFirst ? #", "type": "#.utf8 : #", "value": "#.utf8)
        JSONWriter.writeString(hash.valueFirst ? hash.type : hash.value, asciiOnly: false, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// A file entry line of any form (an entry stream's, or a stored manifest's written by another client) in
    /// quilt3's line form, made from its bytes without parsing them into values: for an entry line whose strings
    /// need no escapes (keys in any order, unknown fields ignored, any spacing), with a hash and a size, and a
    /// valid logical key. Returns the range of the logical key in `out` (what was appended is the line, without
    /// a newline), or nil, with nothing appended, for any other line: the caller then parses it, which words any
    /// error, and renders the entry.
    public static func appendNormalized(_ line: UnsafeRawBufferPointer, to out: inout [UInt8]) -> Range<Int>? {
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

    /// The size of an entry line `appendEntry` rendered (a spool's), read in place: after the key and the URL, whose
    /// quotes are all escaped, the first `"], "size": ` is the field. Nil for any other line (the caller parses
    /// it). For sums over millions of lines, where parsing each would cost more than writing it.
    public static func renderedSize(_ line: UnsafeRawBufferPointer) -> Int? {
        let marker = Array(#""], "size": "#.utf8)
        var from = 17
        var found: Int?
        while let quote = firstIndex(of: UInt8(ascii: "\""), in: line, from: from) {
            if line.count - quote >= marker.count, UnsafeRawBufferPointer(rebasing: line[quote..<(quote + marker.count)]).elementsEqual(marker) {
                found = quote
                break
            }
            from = quote + 1
        }
        guard let found else { return nil }
        var at = found + marker.count
        var value = 0
        let start = at
        while at < line.count, line[at] >= 0x30, line[at] <= 0x39 {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int(line[at] - 0x30))
            if o1 || o2 { return nil }
            value = sum
            at += 1
        }
        guard at > start, at < line.count, line[at] == UInt8(ascii: ",") else { return nil }
        return value
    }

    /// The hash of a stored file entry line (one `ManifestStream.nextRaw` handed out, so already checked), read in
    /// place when the stream found it in the writer's form (`hashBytes`); else the line parsed. For readers that
    /// need only a line's key, size and hash (verify, status), where building the whole entry (its URL, its meta
    /// as values) was most of the cost of reading the manifest.
    public static func hash(of raw: ManifestStream.RawEntry) throws(ManifestError) -> ObjectHash? {
        if let (type, value) = raw.hashBytes {
            return ObjectHash(type: ObjectHash.typeString(UnsafeRawBufferPointer(rebasing: raw.line[type])),
                              value: String(decoding: UnsafeRawBufferPointer(rebasing: raw.line[value]), as: UTF8.self),
                              valueFirst: value.lowerBound < type.lowerBound)
        }
        guard case .entry(let entry) = try parse(raw.line, lineNumber: 0, rules: .manifest) else { return nil }
        return entry.hash
    }

    /// The logical key of a line, for messages (the line's first 80 bytes if it has none).
    public static func logicalKey(of line: UnsafeRawBufferPointer) -> String {
        switch try? parse(line, lineNumber: 0, rules: .entryStream) {
        case .entry(let entry)?: return entry.logicalKey
        case .directory(let key, _)?: return key
        default: return String(decoding: line.prefix(80), as: UTF8.self)
        }
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
