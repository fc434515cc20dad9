// Markdown (a README, a .md file) rendered by Ink, then made safe to put in a page. Ink trusts its input: it passes
// raw HTML through, puts link and image URLs into attributes unescaped, and escapes text by Characters. So its
// output goes through an allowlist of the tags and attributes Ink itself writes: any other tag is shown as text,
// every kept attribute value is escaped again, links and images are resolved here (relative ones to the package's
// own pages, `javascript:` and other schemes dropped), and tags left open are closed. No HTML sanitizer is among
// the project's libraries, and this one need only know Ink's output, not HTML at large.
import Ink
import QuiltSupport

enum Markdown {
    /// How a page turns a Markdown link or image target into a URL of its own (nil: dropped).
    struct Resolver {
        var link: (String) -> String?
        var image: (String) -> String?
    }

    static func html(_ markdown: String, resolver: Resolver) -> String {
        var parser = MarkdownParser()
        // A block of raw HTML is shown as the text it is.
        parser.addModifier(Modifier(target: .html) { escapeHTML(String($0.markdown)) })
        return sanitize(parser.html(from: markdown), resolver: resolver)
    }

    static let allowedTags: Set<String> = [
        "a", "img", "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "b", "i", "del", "s", "code",
        "pre", "blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "sup", "sub",
    ]
    static let voidTags: Set<String> = ["br", "hr", "img"]

    /// Ink's HTML with every tag and attribute outside the allowlist removed or shown as text.
    static func sanitize(_ html: String, resolver: Resolver) -> String {
        let bytes = Array(html.utf8)
        var out = ""
        out.reserveCapacity(bytes.count + 64)
        var open: [String] = []
        var text: [UInt8] = []
        func flushText() {
            out += String(decoding: text, as: UTF8.self)
            text.removeAll(keepingCapacity: true)
        }
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "<") {
                guard let tag = Tag.parse(bytes, at: i) else {
                    text.append(contentsOf: "&lt;".utf8)
                    i += 1
                    continue
                }
                flushText()
                if !allowedTags.contains(tag.name) {
                    out += escapeHTML(String(decoding: bytes[i..<tag.end], as: UTF8.self))
                } else if tag.closing {
                    if let at = open.lastIndex(of: tag.name) {
                        while open.count > at { out += "</" + open.removeLast() + ">" }
                    }
                } else {
                    out += "<" + tag.name + attributes(tag, resolver: resolver) + ">"
                    if !voidTags.contains(tag.name) { open.append(tag.name) }
                }
                i = tag.end
            } else if byte == UInt8(ascii: ">") {
                text.append(contentsOf: "&gt;".utf8)
                i += 1
            } else {
                text.append(byte)
                i += 1
            }
        }
        flushText()
        while let name = open.popLast() { out += "</" + name + ">" }
        return out
    }

    /// The attributes of `tag` that are kept, escaped again.
    static func attributes(_ tag: Tag, resolver: Resolver) -> String {
        var out = ""
        for (name, value) in tag.attributes {
            let kept: String?
            switch (tag.name, name) {
            case ("a", "href"): kept = resolver.link(value)
            case ("img", "src"): kept = resolver.image(value)
            case ("img", "alt"), ("a", "title"), ("img", "title"): kept = value
            case ("ol", "start"): kept = value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) && !value.isEmpty ? value : nil
            case ("code", "class"):
                kept = value.hasPrefix("language-") && value.utf8.allSatisfy({ isNameByte($0) || $0 == UInt8(ascii: "+") }) ? value : nil
            case ("th", "align"), ("td", "align"): kept = ["left", "center", "right"].contains(value) ? value : nil
            default: kept = nil
            }
            if let kept { out += " " + name + "=\"" + escapeHTML(kept) + "\"" }
        }
        return out
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    /// One tag as Ink writes them: `<name attr="v" attr='v' attr=v attr>`, `</name>`, `<name/>`.
    struct Tag {
        var name: String
        var closing: Bool
        var attributes: [(String, String)]
        /// Just past its `>`.
        var end: Int

        static func parse(_ bytes: [UInt8], at start: Int) -> Tag? {
            var j = start + 1
            let closing = j < bytes.count && bytes[j] == UInt8(ascii: "/")
            if closing { j += 1 }
            let nameStart = j
            guard j < bytes.count, isLetter(bytes[j]) else { return nil }
            while j < bytes.count && (isLetter(bytes[j]) || (bytes[j] >= 0x30 && bytes[j] <= 0x39)) { j += 1 }
            let name = String(decoding: bytes[nameStart..<j], as: UTF8.self).lowercased()
            var attributes: [(String, String)] = []
            while j < bytes.count {
                while j < bytes.count && isSpace(bytes[j]) { j += 1 }
                guard j < bytes.count else { return nil }
                if bytes[j] == UInt8(ascii: ">") { return Tag(name: name, closing: closing, attributes: attributes, end: j + 1) }
                if bytes[j] == UInt8(ascii: "/") {
                    j += 1
                    continue
                }
                let attributeStart = j
                while j < bytes.count && !isSpace(bytes[j]) && ![UInt8(ascii: "="), UInt8(ascii: ">"), UInt8(ascii: "/")].contains(bytes[j]) {
                    j += 1
                }
                let attribute = String(decoding: bytes[attributeStart..<j], as: UTF8.self).lowercased()
                while j < bytes.count && isSpace(bytes[j]) { j += 1 }
                var value = ""
                if j < bytes.count && bytes[j] == UInt8(ascii: "=") {
                    j += 1
                    while j < bytes.count && isSpace(bytes[j]) { j += 1 }
                    guard j < bytes.count else { return nil }
                    if bytes[j] == UInt8(ascii: "\"") || bytes[j] == UInt8(ascii: "'") {
                        let quote = bytes[j]
                        guard let close = bytes[(j + 1)...].firstIndex(of: quote) else { return nil }
                        value = String(decoding: bytes[(j + 1)..<close], as: UTF8.self)
                        j = close + 1
                    } else {
                        let valueStart = j
                        while j < bytes.count && !isSpace(bytes[j]) && bytes[j] != UInt8(ascii: ">") { j += 1 }
                        value = String(decoding: bytes[valueStart..<j], as: UTF8.self)
                    }
                }
                if !attribute.isEmpty { attributes.append((attribute, value)) }
            }
            return nil
        }

        static func isLetter(_ byte: UInt8) -> Bool { (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) }
        static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C }
    }

    // MARK: Link targets

    /// What a link or image target in a Markdown file names.
    enum Target: Equatable {
        /// `#section`, kept as is.
        case anchor(String)
        /// `http(s):` or `mailto:`: kept (an image from elsewhere is not loaded: the pages' policy refuses it).
        case external(String)
        /// A logical key of the package, resolved against the Markdown file's directory.
        case key(String)
    }

    /// The target `url`, written in a Markdown file in `directory` (a logical key's directory, "" for the root);
    /// nil for another scheme (`javascript:`, `data:`, `file:`) or a path above the package's root.
    static func target(_ url: String, in directory: String) -> Target? {
        let trimmed = url.trimmingWhitespace
        if trimmed.hasPrefix("#") { return .anchor(trimmed) }
        if trimmed.hasPrefix("//") { return .external("https:" + trimmed) }
        if let colon = trimmed.firstIndex(of: ":"),
           !trimmed[..<colon].contains(where: { $0 == "/" || $0 == "?" || $0 == "#" }) {
            let scheme = trimmed[..<colon].lowercased()
            return ["http", "https", "mailto"].contains(scheme) ? .external(trimmed) : nil
        }
        var path = Substring(trimmed)
        if let end = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<end] }
        guard let decoded = Route.decode(String(path)), !decoded.isEmpty else { return nil }
        var segments = decoded.hasPrefix("/") ? [] : directory.split(separator: "/").map(String.init)
        for segment in decoded.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..":
                guard !segments.isEmpty else { return nil }
                segments.removeLast()
            default: segments.append(String(segment))
            }
        }
        return .key(segments.joined(separator: "/"))
    }
}
