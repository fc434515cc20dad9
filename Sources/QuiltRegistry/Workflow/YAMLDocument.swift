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

    /// The one document in `text` as JSON (nil for an empty document). Mapping keys become strings; a
    /// timestamp becomes its text.
    public static func load(_ text: String) throws(Failure) -> JSONValue {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text, pyyamlResolver)
        } catch {
            throw Failure(reason: String(describing: error).split(separator: "\n").first.map(String.init) ?? "not YAML")
        }
        guard let node else { return .null }
        return try json(node)
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

    private static func json(_ node: Node) throws(Failure) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            return try scalarValue(scalar.string, tag: pyyamlResolver.resolveTag(of: node).rawValue)
        case .sequence(let sequence):
            var items: [JSONValue] = []
            for item in sequence { items.append(try json(item)) }
            return .array(items)
        case .mapping(let mapping):
            var object = JSONObject()
            // `<<` merges are applied first, so keys given explicitly win, as in PyYAML.
            for (key, value) in mergedPairs(mapping) {
                let name: String
                switch try json(key) {
                case .string(let s): name = s
                case .integer(let digits): name = digits
                case .float(let d): name = pythonFloatRepr(d)
                case .bool(let b): name = b ? "True" : "False"
                case .null: name = "None"
                default: throw Failure(reason: "a mapping key must be a scalar")
                }
                object[name] = try json(value)  // a repeated key keeps its place and takes the last value
            }
            return .object(object)
        case .alias:
            throw Failure(reason: "unresolved alias")
        }
    }

    private static func mergedPairs(_ mapping: Node.Mapping) -> [(Node, Node)] {
        var merged: [(Node, Node)] = []
        var own: [(Node, Node)] = []
        for (key, value) in mapping {
            guard pyyamlResolver.resolveTag(of: key) == .merge else { own.append((key, value)); continue }
            switch value {
            case .mapping(let inner): merged += mergedPairs(inner)
            case .sequence(let list):
                for case .mapping(let inner) in list { merged += mergedPairs(inner) }
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
