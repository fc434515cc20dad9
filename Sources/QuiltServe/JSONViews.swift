// JSON as pages show it: metadata as a tree of nested lists, a JSON file pretty-printed, and two values' difference
// as the fields that differ. Values are written in the manifest form (`JSONWriter`), so numbers look as quilt3
// stores them; every text is escaped.
import QuiltFormat

enum JSONViews {
    /// At most this many values of a tree are shown; the rest are counted.
    static let treeLimit = 2000

    /// `value` as nested `<ul class="tree">` lists: an object's keys (in stored order) with their values, an array's
    /// items numbered; scalars in the manifest form.
    static func tree(_ value: JSONValue) -> String {
        var out = ""
        var budget = treeLimit
        appendTree(value, to: &out, budget: &budget)
        if budget < 0 { out += "<p class=\"note\">\(Format.count(-budget)) more values not shown</p>" }
        return out
    }

    private static func appendTree(_ value: JSONValue, to out: inout String, budget: inout Int) {
        switch value {
        case .object(let object) where !object.isEmpty:
            out += "<ul class=\"tree\">"
            for (key, item) in object {
                budget -= 1
                if budget < 0 { continue }
                out += "<li><span class=\"key\">" + escapeHTML(key) + "</span>"
                appendItem(item, to: &out, budget: &budget)
                out += "</li>"
            }
            out += "</ul>"
        case .array(let items) where !items.isEmpty:
            out += "<ol class=\"tree\" start=\"0\">"
            for item in items {
                budget -= 1
                if budget < 0 { continue }
                out += "<li>"
                appendItem(item, to: &out, budget: &budget)
                out += "</li>"
            }
            out += "</ol>"
        default:
            out += scalar(value)
        }
    }

    private static func appendItem(_ value: JSONValue, to out: inout String, budget: inout Int) {
        switch value {
        case .object(let object) where !object.isEmpty: appendTree(value, to: &out, budget: &budget)
        case .array(let items) where !items.isEmpty: appendTree(value, to: &out, budget: &budget)
        default: out += " " + scalar(value)
        }
    }

    private static func scalar(_ value: JSONValue) -> String {
        let kind: String
        switch value {
        case .string: kind = "string"
        case .integer, .float: kind = "number"
        case .bool: kind = "bool"
        case .null: kind = "null"
        case .array, .object: kind = "empty"
        }
        return "<code class=\"value \(kind)\">" + escapeHTML(JSONWriter.manifestForm(value)) + "</code>"
    }

    /// `value` indented by two spaces per level, keys in stored order (escaped, for a `<pre>`).
    static func pretty(_ value: JSONValue) -> String {
        var out = ""
        appendPretty(value, indent: 0, to: &out)
        return escapeHTML(out)
    }

    private static func appendPretty(_ value: JSONValue, indent: Int, to out: inout String) {
        let pad = String(repeating: "  ", count: indent + 1), close = String(repeating: "  ", count: indent)
        switch value {
        case .object(let object) where !object.isEmpty:
            out += "{\n"
            for (i, (key, item)) in object.enumerated() {
                out += pad + JSONWriter.manifestForm(.string(key)) + ": "
                appendPretty(item, indent: indent + 1, to: &out)
                out += i + 1 < object.count ? ",\n" : "\n"
            }
            out += close + "}"
        case .array(let items) where !items.isEmpty:
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += pad
                appendPretty(item, indent: indent + 1, to: &out)
                out += i + 1 < items.count ? ",\n" : "\n"
            }
            out += close + "]"
        default:
            out += JSONWriter.manifestForm(value)
        }
    }

    /// One field that differs between two values.
    struct Change: Equatable {
        enum Kind: String { case added, removed, changed }
        var path: String
        var kind: Kind
        var old: String?
        var new: String?
    }

    /// The leaves of two values that differ, by path (`a.b`, `list[2]`), in the order of `old` then the new ones:
    /// objects are compared key by key, anything else as a whole value (Python's equality: `1 == 1.0`).
    static func changes(_ old: JSONValue?, _ new: JSONValue?, path: String = "") -> [Change] {
        switch (old, new) {
        case (nil, nil): return []
        case (let a?, nil): return [Change(path: path, kind: .removed, old: JSONWriter.manifestForm(a), new: nil)]
        case (nil, let b?): return [Change(path: path, kind: .added, old: nil, new: JSONWriter.manifestForm(b))]
        case (.object(let a)?, .object(let b)?):
            var out: [Change] = []
            for (key, value) in a { out += changes(value, b[key], path: join(path, key)) }
            for (key, value) in b where a[key] == nil { out += changes(nil, value, path: join(path, key)) }
            return out
        case (let a?, let b?):
            return a == b ? [] : [Change(path: path, kind: .changed, old: JSONWriter.manifestForm(a), new: JSONWriter.manifestForm(b))]
        }
    }

    private static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }
}
