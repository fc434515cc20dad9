// Revisions as the command line names them: `ns/name`, `ns/name@<hash prefix>`, `ns/name:latest`,
// `ns/name:<timestamp>`, a bare 64-hex top hash, or a Quilt+ URI (QuiltURI.swift), which names its registry and may
// name a path in the package too.
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
    /// The registry a Quilt+ URI names; nil for the other forms (the command's `--registry` or default decides).
    public var registry: RegistryLocation?
    /// The logical key or directory key a Quilt+ URI's `path` names, as given (a trailing `/` kept).
    public var path: String?

    /// Parses `text`; `allowBareHash` is for plumbing, which also takes a 64-hex top hash alone.
    public init(_ text: String, allowBareHash: Bool = true) throws(RegistryError) {
        self.text = text
        if QuiltURI.isURI(text) {
            let uri = try QuiltURI(text)
            let spec = try Revision(uri.package, allowBareHash: false)
            name = spec.name
            selector = spec.selector
            registry = uri.registry
            path = uri.path
            return
        }
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

    /// Refuses a URI's `path` where the command has no use for one (`show`, `diff`, a `--from`).
    public func requireNoPath() throws(RegistryError) {
        if path != nil { throw .invalidRevision(text, reason: "a path in the URI has no meaning here") }
    }
}
