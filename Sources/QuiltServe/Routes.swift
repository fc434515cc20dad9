// The browser's URLs, parsed and made in one place. A path names a registry (by its slug), a package, a revision
// and a logical key; the key is percent-decoded and looked up in the revision's index, never opened as a file, so
// `..`, `%2e%2e`, `//etc/passwd` or a NUL name nothing and answer 404.
//
//     /                                              every registry's packages
//     /-/style.css                                   the stylesheet
//     /<slug>/                                       one registry's packages
//     /<slug>/<ns>/<name>/                           the package at its latest revision
//     /<slug>/<ns>/<name>/@<rev>/                    the package at a revision (a top hash, a prefix, latest, a timestamp)
//     /<slug>/<ns>/<name>/@<rev>/tree/<dir>/         a directory
//     /<slug>/<ns>/<name>/@<rev>/file/<key>          a file, previewed
//     /<slug>/<ns>/<name>/@<rev>/raw/<key>           an image's verified bytes, shown inline
//     /<slug>/<ns>/<name>/@<rev>/download/<key>      a file's verified bytes, as an attachment
//     /<slug>/<ns>/<name>/revisions                  the revision list
//     /<slug>/<ns>/<name>/compare?from=<rev>&to=<rev>
import QuiltSupport
import QuiltFormat

enum Route: Equatable, Sendable {
    case home
    case style
    case registry(String)
    case package(Place)
    case tree(Place, String)
    case file(Place, String)
    case raw(Place, String)
    case download(Place, String)
    case revisions(slug: String, name: String)
    case compare(slug: String, name: String, from: String?, to: String?)

    /// A package at a revision (nil: latest).
    struct Place: Equatable, Sendable {
        var slug: String
        var name: String
        var revision: String?
    }

    /// The route of a request target (`/path?query`); nil when it names nothing the browser has.
    init?(target: String) {
        let (path, query) = Self.split(target)
        guard path.hasPrefix("/") else { return nil }
        let segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if segments == [""] { self = .home; return }
        if segments == ["-", "style.css"] { self = .style; return }
        guard let slug = Self.decode(segments[0]), !slug.isEmpty, slug != "-" else { return nil }
        if segments.count == 2 && segments[1] == "" { self = .registry(slug); return }
        guard segments.count >= 4, let namespace = Self.decode(segments[1]), let base = Self.decode(segments[2]),
              (try? PackageName.validate(namespace + "/" + base)) != nil else { return nil }
        let name = namespace + "/" + base
        let rest = Array(segments[3...])
        switch rest.first! {
        case "" where rest.count == 1:
            self = .package(Place(slug: slug, name: name, revision: nil))
        case "revisions" where rest.count == 1:
            self = .revisions(slug: slug, name: name)
        case "compare" where rest.count == 1:
            let parameters = Self.parameters(query)
            self = .compare(slug: slug, name: name, from: parameters["from"].flatMap(nonEmpty), to: parameters["to"].flatMap(nonEmpty))
        case let first where first.hasPrefix("@") && rest.count >= 2:
            guard let revision = Self.decode(String(first.dropFirst())), Self.isRevision(revision) else { return nil }
            let place = Place(slug: slug, name: name, revision: revision)
            if rest.count == 2 && rest[1] == "" { self = .package(place); return }
            guard rest.count >= 3, let key = Self.decode(rest[2...].joined(separator: "/")) else { return nil }
            switch rest[1] {
            case "tree": self = .tree(place, key)
            case "file" where !key.isEmpty: self = .file(place, key)
            case "raw" where !key.isEmpty: self = .raw(place, key)
            case "download" where !key.isEmpty: self = .download(place, key)
            default: return nil
            }
        default:
            return nil
        }
    }

    /// `latest`, a timestamp, or 6 to 64 hex digits.
    static func isRevision(_ text: String) -> Bool {
        if text == "latest" { return true }
        let bytes = Array(text.utf8)
        if !bytes.isEmpty && bytes.count <= 20 && bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { return true }
        return bytes.count >= 6 && bytes.count <= 64 && bytes.allSatisfy(Hex.isDigit)
    }

    static func split(_ target: String) -> (path: String, query: String) {
        guard let mark = target.firstIndex(of: "?") else { return (target, "") }
        return (String(target[..<mark]), String(target[target.index(after: mark)...]))
    }

    /// `%XX` decoded; nil for bytes that are not UTF-8 or hold a NUL (no key has either).
    static func decode(_ text: String) -> String? {
        let bytes = PercentEncoding.decodedBytes(text)
        guard !bytes.contains(0), let decoded = String(validating: bytes, as: UTF8.self) else { return nil }
        return decoded
    }

    /// `a=1&b=x+y` as a dictionary (form encoding: `+` is a space); the first of a repeated name wins.
    static func parameters(_ query: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = PercentEncoding.decode(parts[0], plusIsSpace: true)
            if out[name] == nil { out[name] = parts.count > 1 ? PercentEncoding.decode(parts[1], plusIsSpace: true) : "" }
        }
        return out
    }
}

/// The URLs pages link to, every segment percent-encoded (a key may hold `?`, `#`, `%` or spaces).
enum Link {
    static let style = "/-/style.css"

    static func registry(_ slug: String) -> String { "/" + encode(slug) + "/" }

    static func package(_ slug: String, _ name: String) -> String { registry(slug) + encode(name) + "/" }

    static func revision(_ place: Route.Place) -> String {
        package(place.slug, place.name) + (place.revision.map { "@" + encode($0) + "/" } ?? "")
    }

    static func tree(_ place: Route.Place, _ path: String) -> String {
        path.isEmpty ? revision(withRevision(place)) : revision(withRevision(place)) + "tree/" + encode(path) + "/"
    }

    static func file(_ place: Route.Place, _ key: String) -> String { revision(withRevision(place)) + "file/" + encode(key) }
    static func raw(_ place: Route.Place, _ key: String) -> String { revision(withRevision(place)) + "raw/" + encode(key) }
    static func download(_ place: Route.Place, _ key: String) -> String { revision(withRevision(place)) + "download/" + encode(key) }
    static func revisions(_ slug: String, _ name: String) -> String { package(slug, name) + "revisions" }

    static func compare(_ slug: String, _ name: String, from: String, to: String) -> String {
        package(slug, name) + "compare?from=" + PercentEncoding.encode(from) + "&to=" + PercentEncoding.encode(to)
    }

    private static func withRevision(_ place: Route.Place) -> Route.Place {
        var place = place
        if place.revision == nil { place.revision = "latest" }
        return place
    }

    /// Every byte but `A-Za-z0-9-_.~` and `/` as `%XX`.
    static func encode(_ text: String) -> String { PercentEncoding.encode(text, keepSlash: true) }
}
