// A minimal XML reader for S3's responses: elements, text and entities, nothing else (no Foundation XMLParser,
// which Linux toolchains do not reliably ship). Named S3XMLElement because macOS Foundation has an XMLElement.

/// One XML element: its local name (namespace prefix dropped), child elements and text content.
public struct S3XMLElement: Sendable, Equatable {
    public var name: String
    public var children: [S3XMLElement]
    /// The element's own text with entities decoded (text between child elements is joined).
    public var text: String

    public init(name: String, children: [S3XMLElement] = [], text: String = "") {
        self.name = name
        self.children = children
        self.text = text
    }

    /// The first child called `name`.
    public func child(_ name: String) -> S3XMLElement? {
        children.first { $0.name == name }
    }

    /// Every child called `name`.
    public func children(_ name: String) -> [S3XMLElement] {
        children.filter { $0.name == name }
    }

    /// The text of the first child called `name`.
    public func value(_ name: String) -> String? {
        child(name)?.text
    }

    /// Parses a document and returns its root element; nil when the bytes are not well-formed enough to read.
    public static func parse(_ bytes: [UInt8]) -> S3XMLElement? {
        var reader = XMLReader(bytes: bytes)
        return reader.document()
    }

    /// Escapes text for inclusion in an element.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }
}

/// A cursor over the document's bytes.
private struct XMLReader {
    let bytes: [UInt8]
    var position = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func document() -> S3XMLElement? {
        while position < bytes.count {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "<") else { return nil }
            if starts(with: "<?") {
                guard skip(past: "?>") else { return nil }
            } else if starts(with: "<!--") {
                guard skip(past: "-->") else { return nil }
            } else if starts(with: "<!") {
                guard skip(past: ">") else { return nil }
            } else {
                return element()
            }
        }
        return nil
    }

    /// Reads an element starting at `<`.
    mutating func element() -> S3XMLElement? {
        position += 1
        let nameStart = position
        while position < bytes.count, !isNameEnd(bytes[position]) { position += 1 }
        var name = String(decoding: bytes[nameStart..<position], as: UTF8.self)
        if let colon = name.lastIndex(of: ":") { name = String(name[name.index(after: colon)...]) }
        // Attributes are not needed for S3 responses; skip to the end of the tag, minding quoted values.
        var quote: UInt8? = nil
        while position < bytes.count {
            let byte = bytes[position]
            if let open = quote {
                if byte == open { quote = nil }
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                quote = byte
            } else if byte == UInt8(ascii: ">") {
                break
            }
            position += 1
        }
        guard position < bytes.count else { return nil }
        let selfClosing = bytes[position - 1] == UInt8(ascii: "/")
        position += 1
        var result = S3XMLElement(name: name)
        if selfClosing { return result }
        var text: [UInt8] = []
        while position < bytes.count {
            if bytes[position] != UInt8(ascii: "<") {
                let start = position
                while position < bytes.count, bytes[position] != UInt8(ascii: "<") { position += 1 }
                text.append(contentsOf: Self.decodeEntities(bytes[start..<position]))
            } else if starts(with: "</") {
                guard skip(past: ">") else { return nil }
                result.text = String(decoding: text, as: UTF8.self)
                return result
            } else if starts(with: "<![CDATA[") {
                let start = position + 9
                guard skip(past: "]]>") else { return nil }
                text.append(contentsOf: bytes[start..<(position - 3)])
            } else if starts(with: "<!--") {
                guard skip(past: "-->") else { return nil }
            } else if starts(with: "<?") {
                guard skip(past: "?>") else { return nil }
            } else {
                guard let child = element() else { return nil }
                result.children.append(child)
            }
        }
        return nil
    }

    private func isNameEnd(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "\t")
            || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
    }

    private mutating func skipWhitespace() {
        while position < bytes.count,
            bytes[position] == 0x20 || bytes[position] == 0x09 || bytes[position] == 0x0A || bytes[position] == 0x0D
                || bytes[position] == 0xEF || bytes[position] == 0xBB || bytes[position] == 0xBF  // a UTF-8 BOM
        {
            position += 1
        }
    }

    private func starts(with marker: StaticString) -> Bool {
        let count = marker.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        let pointer = marker.utf8Start
        for offset in 0..<count where bytes[position + offset] != pointer[offset] { return false }
        return true
    }

    /// Moves past the next occurrence of `marker`; false if there is none.
    private mutating func skip(past marker: StaticString) -> Bool {
        while position < bytes.count {
            if starts(with: marker) {
                position += marker.utf8CodeUnitCount
                return true
            }
            position += 1
        }
        return false
    }

    /// Decodes the five named entities and numeric character references; unknown ones stay as written.
    static func decodeEntities(_ slice: ArraySlice<UInt8>) -> [UInt8] {
        guard slice.contains(UInt8(ascii: "&")) else { return Array(slice) }
        var out: [UInt8] = []
        out.reserveCapacity(slice.count)
        var index = slice.startIndex
        while index < slice.endIndex {
            let byte = slice[index]
            guard byte == UInt8(ascii: "&"),
                let semicolon = slice[index...].prefix(12).firstIndex(of: UInt8(ascii: ";"))
            else {
                out.append(byte)
                index += 1
                continue
            }
            let entity = String(decoding: slice[(index + 1)..<semicolon], as: UTF8.self)
            var replacement: String?
            switch entity {
            case "amp": replacement = "&"
            case "lt": replacement = "<"
            case "gt": replacement = ">"
            case "quot": replacement = "\""
            case "apos": replacement = "'"
            default:
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    replacement = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String($0) }
                } else if entity.hasPrefix("#") {
                    replacement = UInt32(entity.dropFirst(1)).flatMap(Unicode.Scalar.init).map { String($0) }
                }
            }
            if let replacement {
                out.append(contentsOf: replacement.utf8)
                index = semicolon + 1
            } else {
                out.append(byte)
                index += 1
            }
        }
        return out
    }
}
