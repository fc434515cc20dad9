// YAML read as PyYAML's `safe_load` reads it (YAML 1.1: `yes`/`no`/`on`/`off` are booleans, `1e5` is a string,
// `0o17` is not an int), into the project's JSON model with mapping order kept: the order of a schema's
// keywords decides which error comes first. Parsing is Yams (libyaml); only the scalar resolution is ours,
// because Yams' default rules are YAML 1.2's for floats and octals.
import Foundation
import QuiltSupport
import QuiltFormat
import Yams

public enum YAMLDocument {
    /// Why a text is not a YAML document we can use.
    public struct Failure: Error, Sendable {
        public let reason: String
    }

    /// The largest document read: a config (or settings file) of more is refused before it is parsed.
    public static let maxDocumentBytes = 1 << 20

    /// Values a document may stand for once its aliases are expanded: a few per byte of text, so that an alias
    /// bomb (a few hundred bytes that expand to billions of values) is refused at once, not after hours and
    /// gigabytes, while a config that reuses an anchor a few times reads as PyYAML reads it.
    static func valueBudget(forBytes count: Int) -> Int { 10_000 + 8 * count }

    /// Nesting of the values made (libyaml's own limit for the text): aliases of nested anchors can nest deeper
    /// than the text, and the values are made by recursion.
    static let maxDepth = 1000

    /// Counts the values made from a document against its budget, and their depth.
    struct Budget {
        var left: Int
        var depth = 0
        init(_ text: String) { left = YAMLDocument.valueBudget(forBytes: text.utf8.count) }
        mutating func spend() throws(Failure) {
            left -= 1
            if left < 0 { throw Failure(reason: "its aliases expand to too many values (more than a few per byte of the document)") }
        }
        /// Runs `body` one level deeper.
        mutating func nested<T>(_ body: (inout Budget) throws(Failure) -> T) throws(Failure) -> T {
            depth += 1
            defer { depth -= 1 }
            if depth > YAMLDocument.maxDepth { throw Failure(reason: "its values nest more than \(YAMLDocument.maxDepth) deep (with aliases expanded)") }
            return try body(&self)
        }
    }

    /// Parses `text` as one YAML document into Yams' nodes (aliases shared, not yet expanded), refusing a
    /// document over the size bound.
    static func compose(_ text: String) throws(Failure) -> Node? {
        guard text.utf8.count <= maxDocumentBytes else {
            throw Failure(reason: "\(text.utf8.count) bytes, more than the \(maxDocumentBytes) a document may have")
        }
        do {
            return try Yams.compose(yaml: text, pyyamlResolver)
        } catch {
            throw Failure(reason: reason(error))
        }
    }

    /// A parse error in one line: libyaml's problem, where it is, and what it was in the middle of (Yams'
    /// description spreads them over lines, and its first line can be only the context).
    static func reason(_ error: any Error) -> String {
        func context(_ context: YamlError.Context?) -> String {
            context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
        }
        switch error as? YamlError {
        case .scanner(let c, let problem, let mark, _)?, .parser(let c, let problem, let mark, _)?,
             .composer(let c, let problem, let mark, _)?:
            // (libyaml's words for its nesting limit name a C function.)
            let said = problem.hasPrefix("Maximum nesting level reached") ? "nested more than 1000 levels deep" : problem
            return "line \(mark.line), column \(mark.column): \(said)\(context(c))"
        case .reader(let problem, let offset, _, _)?:
            return problem + (offset.map { " at character \($0)" } ?? "")
        default:
            return String(describing: error).split(separator: "\n").first.map(String.init) ?? "not YAML"
        }
    }

    /// The one document in `text` as JSON (nil for an empty document). Mapping keys become strings; a
    /// timestamp becomes its text. Aliases are expanded within the document's value budget.
    public static func load(_ text: String) throws(Failure) -> JSONValue {
        guard let node = try compose(text) else { return .null }
        var budget = Budget(text)
        return try json(node, &budget)
    }

    /// PyYAML's implicit resolvers (resolver.py), in its order of precedence; config.yml (PyYAML.swift) shares them.
    static let pyyamlResolver: Resolver = pyyamlRules.reduce(Resolver.basic) { $0.appending($1) }

    private static let pyyamlRules: [Resolver.Rule] = [
        try! Resolver.Rule(.bool, "^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$"),
        try! Resolver.Rule(.float, #"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"#),
        try! Resolver.Rule(.int, #"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$"#),
        try! Resolver.Rule(.merge, "^(?:<<)$"),
        try! Resolver.Rule(.null, "^(?:~|null|Null|NULL|)$"),
        try! Resolver.Rule(.timestamp, #"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$"#),
        // `=` reads as a string under safe_load, but `yaml.dump` quotes it: config.yml's writer needs to know.
        try! Resolver.Rule(.value, "^(?:=)$"),
    ]

    private static func json(_ node: Node, _ budget: inout Budget) throws(Failure) -> JSONValue {
        try budget.spend()
        switch node {
        case .scalar(let scalar):
            return try scalarValue(scalar.string, tag: pyyamlResolver.resolveTag(of: node).rawValue)
        case .sequence(let sequence):
            var items: [JSONValue] = []
            for item in sequence { items.append(try budget.nested { (b) throws(Failure) in try json(item, &b) }) }
            return .array(items)
        case .mapping(let mapping):
            var object = JSONObject()
            // `<<` merges are applied first, so keys given explicitly win, as in PyYAML.
            for (key, value) in try mergedPairs(mapping, &budget) {
                let name: String
                switch try json(key, &budget) {
                case .string(let s): name = s
                case .integer(let digits): name = digits
                case .float(let d): name = pythonFloatRepr(d)
                case .bool(let b): name = b ? "True" : "False"
                case .null: name = "None"
                default: throw Failure(reason: "a mapping key must be a scalar")
                }
                object[name] = try budget.nested { (b) throws(Failure) in try json(value, &b) }  // a repeated key keeps its place and takes the last value
            }
            return .object(object)
        case .alias:
            throw Failure(reason: "unresolved alias")
        }
    }

    /// (Merged pairs count against the budget too: merges of merges expand as aliases do.)
    private static func mergedPairs(_ mapping: Node.Mapping, _ budget: inout Budget) throws(Failure) -> [(Node, Node)] {
        var merged: [(Node, Node)] = []
        var own: [(Node, Node)] = []
        for (key, value) in mapping {
            try budget.spend()
            guard pyyamlResolver.resolveTag(of: key) == .merge else { own.append((key, value)); continue }
            switch value {
            case .mapping(let inner): merged += try mergedPairs(inner, &budget)
            case .sequence(let list):
                for case .mapping(let inner) in list { merged += try mergedPairs(inner, &budget) }
            default: own.append((key, value))
            }
        }
        return merged + own
    }

    private static func scalarValue(_ text: String, tag: String) throws(Failure) -> JSONValue {
        switch tag {
        case Tag.Name.null.rawValue: return .null
        case Tag.Name.bool.rawValue: return .bool(["yes", "true", "on"].contains(text.lowercased()))
        case Tag.Name.int.rawValue:
            guard let value = integer(text) else { return .string(text) }
            return value
        case Tag.Name.float.rawValue:
            // JSON has no infinities or NaN; such a value can only fail a schema, as its text does.
            guard let value = float(text), value.isFinite else { return .string(text) }
            return .float(value)
        default:
            return .string(text)
        }
    }

    /// PyYAML's `construct_yaml_int`: underscores dropped, sign, `0b`, `0x`, leading-zero octal, base 60.
    static func integer(_ text: String) -> JSONValue? {
        var digits = text.replacingAll("_", with: "")
        var negative = false
        if digits.hasPrefix("-") { negative = true; digits.removeFirst() } else if digits.hasPrefix("+") { digits.removeFirst() }
        var value: Int?
        if digits == "0" {
            value = 0
        } else if digits.hasPrefix("0b") {
            value = Int(digits.dropFirst(2), radix: 2)
        } else if digits.hasPrefix("0x") {
            value = Int(digits.dropFirst(2), radix: 16)
        } else if digits.hasPrefix("0") {
            value = Int(digits.dropFirst(), radix: 8)
        } else if digits.contains(":") {
            value = digits.split(separator: ":").reduce(0) { total, part in total.flatMap { t in Int(part).map { t * 60 + $0 } } }
        } else {
            // Plain decimal: any length, as Python's int.
            guard digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            return .integer(negative ? "-" + digits : digits)
        }
        return value.map { .integer(String(negative ? -$0 : $0)) }
    }

    /// PyYAML's `construct_yaml_float`.
    static func float(_ text: String) -> Double? {
        var digits = text.replacingAll("_", with: "").lowercased()
        var sign = 1.0
        if digits.hasPrefix("-") { sign = -1; digits.removeFirst() } else if digits.hasPrefix("+") { digits.removeFirst() }
        if digits == ".inf" { return sign * .infinity }
        if digits == ".nan" { return .nan }
        if digits.contains(":") {
            var total = 0.0
            for part in digits.split(separator: ":") { total = total * 60 + (Double(part) ?? 0) }
            return sign * total
        }
        return Double(digits).map { sign * $0 }
    }
}
