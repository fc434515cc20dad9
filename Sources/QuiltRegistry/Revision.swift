// Revisions as the command line names them: `ns/name`, `ns/name@<hash prefix>`, `ns/name:latest`,
// `ns/name:<timestamp>`, or a bare 64-hex top hash.
import QuiltSupport
import QuiltFormat

public struct Revision: Sendable, Equatable, CustomStringConvertible {
    public enum Selector: Sendable, Equatable {
        /// The `latest` pointer.
        case latest
        /// A top hash or a prefix of at least 6 hex digits.
        case hash(String)
        /// A timestamp pointer.
        case pointer(String)
    }

    /// nil for a bare top hash.
    public var name: String?
    public var selector: Selector
    public let text: String

    /// Parses `text`; `allowBareHash` is for plumbing, which also takes a 64-hex top hash alone.
    public init(_ text: String, allowBareHash: Bool = true) throws(RegistryError) {
        self.text = text
        if Hex.isTopHash(text) {
            // Refused as a usage error, not taken for a package name that is merely invalid (bad input).
            guard allowBareHash else { throw .invalidRevision(text, reason: "a bare top hash has no package name; give ns/name@<hash>") }
            name = nil
            selector = .hash(text)
            return
        }
        var namePart = Substring(text)
        var selector = Selector.latest
        if let at = text.firstIndex(of: "@") {
            namePart = text[..<at]
            let hash = String(text[text.index(after: at)...]).lowercased()
            guard hash.utf8.count >= 6, hash.utf8.count <= 64, hash.utf8.allSatisfy(Hex.isDigit) else {
                throw .invalidRevision(text, reason: "a hash needs at least 6 hex digits")
            }
            selector = .hash(hash)
        } else if let colon = text.firstIndex(of: ":") {
            namePart = text[..<colon]
            let tag = String(text[text.index(after: colon)...])
            if tag == "latest" {
                selector = .latest
            } else if !tag.isEmpty, tag.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                selector = .pointer(tag)
            } else {
                throw .invalidRevision(text, reason: "a tag is 'latest' or a Unix timestamp")
            }
        }
        do {
            try PackageName.validate(String(namePart))
        } catch {
            throw .invalidPackageName(String(namePart))
        }
        name = String(namePart)
        self.selector = selector
    }

    public var description: String { text }
}
