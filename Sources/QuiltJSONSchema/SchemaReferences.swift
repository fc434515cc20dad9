// What `$id` and `$ref` need: URI-reference resolution (RFC 3986 section 5) and JSON pointers (RFC 6901) written
// in URI fragments.
import QuiltSupport
import QuiltFormat
import Foundation

enum SchemaURI {
    /// The parts of a URI reference: scheme ":" "//" authority path "?" query "#" fragment, each optional but path.
    struct Parts {
        var scheme: Substring?
        var authority: Substring?
        var path: Substring
        var query: Substring?
        var fragment: Substring?

        init(_ text: String) {
            var rest = text[...]
            if let hash = rest.firstIndex(of: "#") {
                fragment = rest[rest.index(after: hash)...]
                rest = rest[..<hash]
            }
            if let question = rest.firstIndex(of: "?") {
                query = rest[rest.index(after: question)...]
                rest = rest[..<question]
            }
            if let colon = rest.firstIndex(of: ":"), colon != rest.startIndex,
               !rest[..<colon].contains(where: { $0 == "/" }) {
                scheme = rest[..<colon]
                rest = rest[rest.index(after: colon)...]
            }
            if rest.hasPrefix("//") {
                rest = rest.dropFirst(2)
                let end = rest.firstIndex(of: "/") ?? rest.endIndex
                authority = rest[..<end]
                rest = rest[end...]
            }
            path = rest
        }

        var text: String {
            var out = ""
            if let scheme { out += scheme + ":" }
            if let authority { out += "//" + authority }
            out += path
            if let query { out += "?" + query }
            if let fragment { out += "#" + fragment }
            return out
        }
    }

    /// `reference` resolved against `base` (RFC 3986 section 5.2.2).
    static func resolve(_ reference: String, against base: String) -> String {
        let r = Parts(reference)
        if r.scheme != nil {
            var t = r
            t.path = Substring(removeDotSegments(r.path))
            return t.text
        }
        let b = Parts(base)
        var t = Parts("")
        t.scheme = b.scheme
        t.fragment = r.fragment
        if r.authority != nil {
            t.authority = r.authority
            t.path = Substring(removeDotSegments(r.path))
            t.query = r.query
            return t.text
        }
        t.authority = b.authority
        if r.path.isEmpty {
            t.path = b.path
            t.query = r.query ?? b.query
        } else {
            if r.path.hasPrefix("/") {
                t.path = Substring(removeDotSegments(r.path))
            } else {
                // Merge: the base path up to its last "/" (or "/" alone when the base has an authority and no path).
                let merged: String
                if b.authority != nil && b.path.isEmpty {
                    merged = "/" + r.path
                } else if let slash = b.path.lastIndex(of: "/") {
                    merged = String(b.path[...slash]) + r.path
                } else {
                    merged = String(r.path)
                }
                t.path = Substring(removeDotSegments(Substring(merged)))
            }
            t.query = r.query
        }
        return t.text
    }

    /// RFC 3986 section 5.2.4.
    static func removeDotSegments(_ path: Substring) -> String {
        guard path.contains(".") else { return String(path) }
        var input = path
        var output: [Substring] = []
        while !input.isEmpty {
            if input.hasPrefix("../") {
                input = input.dropFirst(3)
            } else if input.hasPrefix("./") {
                input = input.dropFirst(2)
            } else if input.hasPrefix("/./") {
                input = input.dropFirst(2)
            } else if input == "/." {
                input = "/"
            } else if input.hasPrefix("/../") {
                input = input.dropFirst(3)
                if !output.isEmpty { output.removeLast() }
            } else if input == "/.." {
                input = "/"
                if !output.isEmpty { output.removeLast() }
            } else if input == "." || input == ".." {
                input = ""
            } else {
                // Move the first segment (with its leading "/", if any) to the output.
                let start = input.hasPrefix("/") ? input.index(after: input.startIndex) : input.startIndex
                let end = input[start...].firstIndex(of: "/") ?? input.endIndex
                output.append(input[..<end])
                input = input[end...]
            }
        }
        return output.joined()
    }

    /// Splits a URI into the part before `#` and the fragment (nil without a `#`).
    static func splitFragment(_ uri: String) -> (String, String?) {
        guard let hash = uri.firstIndex(of: "#") else { return (uri, nil) }
        return (String(uri[..<hash]), String(uri[uri.index(after: hash)...]))
    }
}

enum JSONPointer {
    /// The reference tokens of a JSON pointer written in a URI fragment: percent-decoded, then split at "/" with
    /// `~1` → "/" and `~0` → "~". Nil when the text is not a pointer (does not start with "/") or the percent
    /// encoding is not UTF-8.
    static func tokens(fromFragment fragment: String) -> [String]? {
        guard let decoded = percentDecoded(fragment) else { return nil }
        if decoded.isEmpty { return [] }
        guard decoded.hasPrefix("/") else { return nil }
        return decoded.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map { token in
            token.contains("~") ? token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
                : String(token)
        }
    }

    /// The pointer text for tokens (for locations in messages and as dictionary keys).
    static func text(_ tokens: [String]) -> String {
        var out = ""
        for token in tokens {
            out += "/"
            out += token.contains("~") || token.contains("/")
                ? token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") : token
        }
        return out
    }

    /// The value `tokens` point at, if any (array tokens are decimal indices without leading zeros).
    static func resolve(_ tokens: ArraySlice<String>, in value: JSONValue) -> JSONValue? {
        var current = value
        for token in tokens {
            switch current {
            case .object(let object):
                guard let next = object[token] else { return nil }
                current = next
            case .array(let items):
                guard let index = Int(token), String(index) == token, items.indices.contains(index) else { return nil }
                current = items[index]
            default:
                return nil
            }
        }
        return current
    }

    static func percentDecoded(_ text: String) -> String? {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return text }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let b = iterator.next() {
            guard b == UInt8(ascii: "%") else { bytes.append(b); continue }
            guard let high = iterator.next().flatMap(hexValue),
                  let low = iterator.next().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }
}
