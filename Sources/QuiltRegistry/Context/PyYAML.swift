// config.yml as PyYAML reads and writes it (quilt3 uses `yaml.safe_load` and `yaml.dump`), through Yams: the
// YAML 1.1 implicit types PyYAML resolves plain scalars to (`yes`/`on` are booleans, `2001-01-01` a date, `0o7`
// a string; the resolver and number constructors are YAMLDocument's), and `yaml.dump`'s defaults when writing
// (block style, keys sorted, strings quoted exactly when they would read back as something else, non-ASCII
// escaped, lines folded at 80 columns). libyaml, under Yams, is the C original of PyYAML's emitter, so the bytes
// agree.
import QuiltFormat
import Foundation
import Yams

enum PyYAML {
    /// PyYAML's implicit resolvers, shared with workflow configs (YAMLDocument).
    static var resolver: Resolver { YAMLDocument.pyyamlResolver }

    /// Whether PyYAML reads `text`, written plain, back as this same string.
    static func readsBackAsString(_ text: String) -> Bool {
        resolver.resolveTag(of: Node(text, Tag(.implicit, resolver), .plain)) == .str
    }

    // MARK: reading

    /// The top-level mapping of a document, in file order; nil for an empty document.
    /// (Bounded as workflow configs are: YAMLDocument's document size and alias expansion budget.)
    static func loadMapping(_ text: String) throws -> [(String, ConfigValue)]? {
        let root: Node?
        do { root = try YAMLDocument.compose(text) } catch { throw YAMLShapeError(message: error.reason) }
        guard let root else { return nil }
        guard case .mapping(let mapping) = root else { throw YAMLShapeError(message: "the top level is not a mapping") }
        var budget = YAMLDocument.Budget(text)
        do {
            return try mapping.map { (key, value) in (key.string ?? "", try self.value(value, &budget)) }
        } catch let error as YAMLDocument.Failure {
            throw YAMLShapeError(message: error.reason)
        }
    }

    struct YAMLShapeError: Error { let message: String }

    /// The value PyYAML's safe constructor builds, in our terms.
    static func value(_ node: Node, _ budget: inout YAMLDocument.Budget) throws(YAMLDocument.Failure) -> ConfigValue {
        try budget.spend()
        switch node {
        case .scalar(let scalar):
            return scalarValue(scalar.string, tag: resolver.resolveTag(of: node))
        case .sequence(let sequence):
            var items: [ConfigValue] = []
            for item in sequence { items.append(try budget.nested { (b) throws(YAMLDocument.Failure) in try value(item, &b) }) }
            return .list(items)
        case .mapping(let mapping):
            var result: [String: ConfigValue] = [:]
            for (key, item) in mapping { result[key.string ?? ""] = try budget.nested { (b) throws(YAMLDocument.Failure) in try value(item, &b) } }
            return .mapping(result)
        case .alias:
            return .null
        }
    }

    static func scalarValue(_ text: String, tag: Tag.Name) -> ConfigValue {
        switch tag {
        case .null: return .null
        case .bool: return .bool(["yes", "true", "on"].contains(text.lowercased()))
        case .int:
            // PyYAML's ints have no size limit: one beyond 64 bits is kept as its decimal digits.
            guard case .integer(let digits)? = YAMLDocument.integer(text) else { return .string(text) }
            return Int(digits).map(ConfigValue.int) ?? .plain(digits)
        case .float: return YAMLDocument.float(text).map(ConfigValue.double) ?? .plain(text)
        case .timestamp: return .plain(text)
        default: return .string(text)
        }
    }

    // MARK: writing

    /// `yaml.dump(mapping)` with PyYAML's defaults.
    static func dump(_ mapping: [String: ConfigValue]) throws -> String {
        try Yams.serialize(node: node(.mapping(mapping)))
    }

    static func node(_ value: ConfigValue) -> Node {
        switch value {
        case .null: return Node("null", Tag(.null), .plain)
        case .bool(let b): return Node(b ? "true" : "false", Tag(.bool), .plain)
        case .int(let i): return Node(String(i), Tag(.int), .plain)
        case .double(let d): return Node(floatText(d), Tag(.float), .plain)
        case .plain(let text): return Node(text, Tag(.implicit), .plain)
        case .string(let s):
            // A string that would read back as another type is quoted; libyaml falls back to double quotes where
            // single ones cannot hold it, as PyYAML does.
            return Node(s, Tag(.str), readsBackAsString(s) ? .any : .singleQuoted)
        case .list(let items):
            return .sequence(Node.Sequence(items.map(node)))
        case .mapping(let mapping):
            // PyYAML sorts keys as Python sorts str: by code point, i.e. UTF-8 byte order.
            let keys = mapping.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            return .mapping(Node.Mapping(keys.map { (node(.string($0)), node(mapping[$0]!)) }))
        }
    }

    /// PyYAML's `represent_float`: Python's `repr`, lowercased, with `.0` before an exponent that has no point.
    static func floatText(_ d: Double) -> String {
        if d.isNaN { return ".nan" }
        if d.isInfinite { return d > 0 ? ".inf" : "-.inf" }
        var text = pythonFloatRepr(d).lowercased()
        if !text.contains("."), let e = text.firstIndex(of: "e") { text.replaceSubrange(e...e, with: ".0e") }
        return text
    }
}
