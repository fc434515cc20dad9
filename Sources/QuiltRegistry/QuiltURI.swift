// Quilt+ URIs, as Quilt's catalog copies them and quilt-rs reads them (quilt's docs/Catalog/URI.md):
//
//     quilt+s3://BUCKET#package=NS/NAME[@TOPHASH|:TAG][&path=LOGICAL_KEY][&catalog=HOST]
//
// and, for local registries, `quilt+file:///dir#package=…`. The fragment is form-encoded (`%XX`, `+` for a space),
// as both readers decode it; `catalog` (the catalog's host) is accepted and not used. The one parser and the one
// writer of them; `Revision` takes one wherever a revision is taken.
import QuiltSupport
import QuiltFormat

public struct QuiltURI: Sendable, Equatable {
    public var registry: RegistryLocation
    /// `NS/NAME`, `NS/NAME@<hash>` or `NS/NAME:<tag>`, decoded.
    public var package: String
    /// The `path` parameter, decoded; nil when absent or empty.
    public var path: String?
    /// The `catalog` parameter (a host), kept for what prints the URI again.
    public var catalog: String?

    static let schemes = ["quilt+s3://", "quilt+file://"]

    /// Whether `text` is meant as a Quilt+ URI (then it is parsed as one, and refused if malformed).
    public static func isURI(_ text: String) -> Bool { text.hasPrefix("quilt+") }

    public init(_ text: String) throws(RegistryError) {
        func refuse(_ reason: String) -> RegistryError { .invalidRevision(text, reason: reason) }
        guard Self.schemes.contains(where: { text.hasPrefix($0) }) else {
            throw refuse("a Quilt+ URI is quilt+s3://BUCKET#package=NS/NAME or quilt+file:///DIR#package=NS/NAME")
        }
        guard let hashMark = text.firstIndex(of: "#") else { throw refuse("missing #package=NS/NAME") }
        let location = String(text[text.index(text.startIndex, offsetBy: "quilt+".count)..<hashMark])
        if location.contains("?") { throw refuse("a Quilt+ URI takes no query string") }
        do {
            registry = try RegistryLocation(location)
        } catch {
            throw refuse(error.message)
        }
        var package: String?, path: String?, catalog: String?
        for pair in text[text.index(after: hashMark)...].split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = PercentEncoding.decode(parts[0], plusIsSpace: true)
            let value = parts.count > 1 ? PercentEncoding.decode(parts[1], plusIsSpace: true) : ""
            switch name {
            case "package":
                guard package == nil else { throw refuse("package= is given twice") }
                package = value
            case "path":
                guard path == nil else { throw refuse("path= is given twice") }
                path = value
            case "catalog":
                catalog = value
            default:
                throw refuse("unknown parameter \(quoted(name)) (a Quilt+ URI takes package, path and catalog)")
            }
        }
        guard let package, !package.isEmpty else { throw refuse("missing #package=NS/NAME") }
        if package.contains("@") && package.contains(":") { throw refuse("package= takes either @TOPHASH or :TAG, not both") }
        self.package = package
        self.path = path?.isEmpty == true ? nil : path
        self.catalog = catalog
    }

    public init(registry: RegistryLocation, package: String, path: String? = nil, catalog: String? = nil) {
        self.registry = registry
        self.package = package
        self.path = path
        self.catalog = catalog
    }

    /// The URI of revision `topHash` of `name` in `registry` (with `path`, an entry or directory of it).
    public init(registry: RegistryLocation, name: String, topHash: String, path: String? = nil) {
        self.init(registry: registry, package: name + "@" + topHash, path: path)
    }

    /// The URI as text: the registry as a URL after `quilt+`, the package spec as is (names and hashes need no
    /// escaping), the path percent-encoded but for `/` (the catalog encodes `/` too; both forms read the same).
    public var text: String {
        var out = "quilt+" + registry.url + "#package=" + package
        if let path { out += "&path=" + PercentEncoding.encode(path, keepSlash: true) }
        if let catalog { out += "&catalog=" + PercentEncoding.encode(catalog) }
        return out
    }
}

extension QuiltContext {
    /// The registry `revision` is read from: a Quilt+ URI's own, else `text` (`--registry`), else the default local
    /// registry. A URI together with a `--registry` naming another registry is a usage error.
    public func registry(_ text: String?, for revision: Revision) throws -> Registry {
        guard let named = revision.registry else { return try registry(text) }
        if let text {
            let given = try RegistryLocation(text)
            guard given == named else {
                throw RegistryError.invalidRevision(revision.text,
                                                    reason: "the URI names the registry \(quoted(named.url)), not \(quoted(given.url))")
            }
        }
        let registry = try registry(named)
        trace?("registry \(registry.url) (Quilt+ URI)")
        return registry
    }
}
