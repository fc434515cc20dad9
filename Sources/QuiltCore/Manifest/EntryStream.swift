// The entry stream: the JSONL unit that flows between plumbing programs, in the manifest's own line form.

public enum EntryStream {
    /// One parsed line of an entry stream.
    public enum Item: Sendable {
        case entry(ManifestEntry)
        case directory(key: String, meta: JSONValue)
        /// A manifest header line (only as the first line).
        case header(JSONObject)
    }

    /// Parses one line. A missing or null `hash` is allowed (it is computed later); `size` may be missing for
    /// a local file (it is read later, and marked -1 until then).
    public static func parseLine(_ line: UnsafeRawBufferPointer, lineNumber: Int) throws(ManifestError) -> Item {
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
        guard let url else {
            return .directory(key: logicalKey, meta: object["meta"] ?? .null)
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
        let meta = object["meta"] ?? .object(JSONObject())
        return .entry(ManifestEntry(logicalKey: logicalKey, physicalKey: url, size: size, hash: hash,
                                    meta: meta.isTruthy ? meta : .object(JSONObject())))
    }

    /// Splits `bytes` into lines and parses each non-blank one.
    public static func parse(_ bytes: [UInt8], into body: (Item) throws -> Void) throws {
        try bytes.withUnsafeBytes { raw in
            var start = 0
            var lineNumber = 0
            while start < raw.count {
                var end = start
                while end < raw.count && raw[end] != 0x0A { end += 1 }
                lineNumber += 1
                let line = UnsafeRawBufferPointer(rebasing: raw[start..<end])
                start = end + 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                try body(try parseLine(line, lineNumber: lineNumber))
            }
        }
    }

    /// Appends an entry line (manifest form, with a trailing newline).
    public static func write(_ entry: ManifestEntry, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"logical_key": "#.utf8)
        JSONWriter.writeString(entry.logicalKey, asciiOnly: false, to: &out)
        out.append(contentsOf: #", "physical_keys": ["#.utf8)
        JSONWriter.writeString(entry.physicalKey, asciiOnly: false, to: &out)
        out.append(contentsOf: #"], "size": "#.utf8)
        out.append(contentsOf: String(entry.size).utf8)
        out.append(contentsOf: #", "hash": "#.utf8)
        if let hash = entry.hash {
            JSONWriter.writeManifestForm(hash.json, to: &out)
        } else {
            out.append(contentsOf: "null".utf8)
        }
        out.append(contentsOf: #", "meta": "#.utf8)
        JSONWriter.writeManifestForm(entry.meta, to: &out)
        out.append(contentsOf: "}\n".utf8)
    }

    public static func writeDirectory(key: String, meta: JSONValue, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"logical_key": "#.utf8)
        JSONWriter.writeString(key, asciiOnly: false, to: &out)
        out.append(contentsOf: #", "meta": "#.utf8)
        JSONWriter.writeManifestForm(meta, to: &out)
        out.append(contentsOf: "}\n".utf8)
    }
}
