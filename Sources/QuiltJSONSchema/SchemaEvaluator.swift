// Runs a compiled schema over an instance and stops at the first error jsonschema's `iter_errors` would yield:
// keywords in the schema's key order, `properties` in the schema's order, array items and `patternProperties`
// matches in the instance's order. Sub-evaluations that only decide validity (`anyOf`, `oneOf`, `not`, `if`,
// `contains`) build no messages.
import QuiltSupport
import QuiltFormat

struct SchemaEvaluator {
    private let program: SchemaProgram
    private let nodes: [SchemaNode]
    /// Assert `"format": "regex"` (meta-schema checks only).
    private let assertsRegexFormat: Bool
    /// Whether failures need their message (false inside validity-only sub-evaluations).
    private var detailed = true
    /// The instance location being evaluated, from the root.
    private var path: [JSONSchemaPathElement] = []
    /// The nodes entered on the current instance, innermost last, from `chainStart`. Entering one of them again on
    /// the same instance can only recurse for ever (Python's jsonschema dies with RecursionError there).
    private var chain: [Int] = []
    private var chainStart = 0
    /// The failure that ends everything once a loop is found.
    private var loopFailure: JSONSchemaFailure?

    /// What validity-only evaluations return: nothing is built.
    private static let invalid = JSONSchemaFailure(location: [], message: "", keyword: nil)

    init(program: SchemaProgram, assertsRegexFormat: Bool = false) {
        self.program = program
        self.nodes = program.nodes
        self.assertsRegexFormat = assertsRegexFormat
        path.reserveCapacity(16)
        chain.reserveCapacity(32)
    }

    /// The first failure, or nil when `instance` is valid.
    mutating func firstFailure(_ instance: JSONValue) -> JSONSchemaFailure? {
        detailed = true
        let failure = enter(program.root, instance)
        return loopFailure ?? failure
    }

    mutating func isValid(_ instance: JSONValue) -> Bool {
        detailed = false
        return enter(program.root, instance) == nil && loopFailure == nil
    }

    // MARK: Descending

    /// Applies `node` to the instance currently being evaluated.
    private mutating func enter(_ node: Int, _ instance: JSONValue) -> JSONSchemaFailure? {
        if loopFailure != nil { return Self.invalid }
        if chain[chainStart...].contains(node) {
            loopFailure = JSONSchemaFailure(
                location: path,
                message: "the schema at \(quoted(program.locations[node])) applies to this value again without "
                    + "descending into it, and would recurse for ever",
                keyword: "$ref")
            return Self.invalid
        }
        chain.append(node)
        defer { chain.removeLast() }
        return evaluate(node, instance)
    }

    /// Applies `node` to a part of the current instance: an item, a property value, or a property name (no path step).
    ///
    /// A `false` subschema's error is located at the container, without the step to the item or property: jsonschema's
    /// `descend` yields that error before it prepends the step (so `{"properties": {"a": false}}` reports `$`, not
    /// `$.a`); matched deliberately, so that locations are jsonschema's `json_path`.
    private mutating func descend(_ node: Int, _ instance: JSONValue, at step: JSONSchemaPathElement?) -> JSONSchemaFailure? {
        if case .reject = nodes[node] {
            return loopFailure != nil ? Self.invalid : fail(nil, "False schema does not allow \(pythonRepr(instance))")
        }
        let savedStart = chainStart
        chainStart = chain.count
        if let step { path.append(step) }
        defer {
            if step != nil { path.removeLast() }
            chainStart = savedStart
        }
        return enter(node, instance)
    }

    /// Whether `node` accepts the current instance, without building messages.
    private mutating func accepts(_ node: Int, _ instance: JSONValue) -> Bool {
        let saved = detailed
        detailed = false
        defer { detailed = saved }
        return enter(node, instance) == nil
    }

    private mutating func accepts(_ node: Int, item instance: JSONValue, at step: JSONSchemaPathElement) -> Bool {
        let saved = detailed
        detailed = false
        defer { detailed = saved }
        return descend(node, instance, at: step) == nil
    }

    @inline(__always)
    private func fail(_ keyword: String?, _ message: @autoclosure () -> String) -> JSONSchemaFailure {
        detailed ? JSONSchemaFailure(location: path, message: message(), keyword: keyword) : Self.invalid
    }

    // MARK: Keywords

    private mutating func evaluate(_ node: Int, _ instance: JSONValue) -> JSONSchemaFailure? {
        switch nodes[node] {
        case .accept:
            return nil
        case .reject:
            return fail(nil, "False schema does not allow \(pythonRepr(instance))")
        case .reference(let target):
            return enter(target, instance)
        case .keywords(let keywords):
            for keyword in keywords {
                if let failure = apply(keyword, instance) { return failure }
            }
            return nil
        }
    }

    private mutating func apply(_ keyword: SchemaKeyword, _ instance: JSONValue) -> JSONSchemaFailure? {
        switch keyword {
        case .type(let types, let names):
            if instanceMatches(types, instance) { return nil }
            let typeNames = names.map(pythonStringRepr).joined(separator: ", ")
            return fail("type", "\(pythonRepr(instance)) is not of type \(typeNames)")

        case .enumeration(let values, let raw):
            if values.contains(where: { jsonSchemaEqual($0, instance) }) { return nil }
            return fail("enum", "\(pythonRepr(instance)) is not one of \(pythonRepr(raw))")

        case .constant(let value):
            if jsonSchemaEqual(value, instance) { return nil }
            return fail("const", "\(pythonRepr(value)) was expected")

        case .multipleOf(let divisor):
            guard isNumber(instance), !isPythonMultiple(instance, of: divisor) else { return nil }
            return fail("multipleOf", "\(pythonRepr(instance)) is not a multiple of \(pythonRepr(divisor))")

        case .maximum(let limit):
            guard isNumber(instance), pythonCompareNumbers(instance, limit) > 0 else { return nil }
            return fail("maximum", "\(pythonRepr(instance)) is greater than the maximum of \(pythonRepr(limit))")

        case .exclusiveMaximum(let limit):
            guard isNumber(instance), pythonCompareNumbers(instance, limit) >= 0 else { return nil }
            return fail("exclusiveMaximum",
                        "\(pythonRepr(instance)) is greater than or equal to the maximum of \(pythonRepr(limit))")

        case .minimum(let limit):
            guard isNumber(instance), pythonCompareNumbers(instance, limit) < 0 else { return nil }
            return fail("minimum", "\(pythonRepr(instance)) is less than the minimum of \(pythonRepr(limit))")

        case .exclusiveMinimum(let limit):
            guard isNumber(instance), pythonCompareNumbers(instance, limit) <= 0 else { return nil }
            return fail("exclusiveMinimum",
                        "\(pythonRepr(instance)) is less than or equal to the minimum of \(pythonRepr(limit))")

        case .maxLength(let limit):
            // Python's len counts code points; UTF-8 bytes are an upper bound that usually settles it.
            guard case .string(let s) = instance, Double(s.utf8.count) > limit,
                  Double(s.unicodeScalars.count) > limit else { return nil }
            return fail("maxLength", "\(pythonRepr(instance)) \(limit == 0 ? "is expected to be empty" : "is too long")")

        case .minLength(let limit):
            guard case .string(let s) = instance else { return nil }
            if Double(s.utf8.count) >= limit && Double(s.unicodeScalars.count) >= limit { return nil }
            return fail("minLength", "\(pythonRepr(instance)) \(limit == 1 ? "should be non-empty" : "is too short")")

        case .pattern(let regex):
            guard case .string(let s) = instance, !regex.search(s) else { return nil }
            return fail("pattern", "\(pythonRepr(instance)) does not match \(pythonStringRepr(regex.pattern))")

        case .regexFormat:
            guard assertsRegexFormat, case .string(let s) = instance else { return nil }
            if (try? PythonRegex(s)) != nil { return nil }
            return fail("format", "\(pythonRepr(instance)) is not a 'regex'")

        case .items(let node):
            guard case .array(let items) = instance else { return nil }
            for (i, item) in items.enumerated() {
                if let failure = descend(node, item, at: .index(i)) { return failure }
            }
            return nil

        case .itemsByPosition(let positional):
            guard case .array(let items) = instance else { return nil }
            for (i, node) in positional.enumerated() where i < items.count {
                if let failure = descend(node, items[i], at: .index(i)) { return failure }
            }
            return nil

        case .additionalItems(let node, let after):
            guard case .array(let items) = instance, items.count > after else { return nil }
            guard let node else {
                let extras = items[after...]
                let listed = extras.map(pythonRepr).joined(separator: ", ")
                return fail("additionalItems",
                            "Additional items are not allowed (\(listed) \(extras.count == 1 ? "was" : "were") unexpected)")
            }
            for i in after..<items.count {
                if let failure = descend(node, items[i], at: .index(i)) { return failure }
            }
            return nil

        case .maxItems(let limit):
            guard case .array(let items) = instance, Double(items.count) > limit else { return nil }
            return fail("maxItems", "\(pythonRepr(instance)) \(limit == 0 ? "is expected to be empty" : "is too long")")

        case .minItems(let limit):
            guard case .array(let items) = instance, Double(items.count) < limit else { return nil }
            return fail("minItems", "\(pythonRepr(instance)) \(limit == 1 ? "should be non-empty" : "is too short")")

        case .uniqueItems:
            guard case .array(let items) = instance, !jsonSchemaItemsAreUnique(items) else { return nil }
            return fail("uniqueItems", "\(pythonRepr(instance)) has non-unique elements")

        case .contains(let node):
            guard case .array(let items) = instance else { return nil }
            for (i, item) in items.enumerated() where accepts(node, item: item, at: .index(i)) { return nil }
            return fail("contains", "None of \(pythonRepr(instance)) are valid under the given schema")

        case .maxProperties(let limit):
            guard case .object(let object) = instance, Double(object.count) > limit else { return nil }
            return fail("maxProperties",
                        "\(pythonRepr(instance)) \(limit == 0 ? "is expected to be empty" : "has too many properties")")

        case .minProperties(let limit):
            guard case .object(let object) = instance, Double(object.count) < limit else { return nil }
            return fail("minProperties",
                        "\(pythonRepr(instance)) \(limit == 1 ? "should be non-empty" : "does not have enough properties")")

        case .required(let names):
            guard case .object(let object) = instance else { return nil }
            for name in names where object[name] == nil {
                return fail("required", "\(pythonStringRepr(name)) is a required property")
            }
            return nil

        case .properties(let members):
            guard case .object(let object) = instance else { return nil }
            for member in members {
                guard let value = object[member.name] else { continue }
                if let failure = descend(member.node, value, at: .key(member.name)) { return failure }
            }
            return nil

        case .patternProperties(let members):
            guard case .object(let object) = instance else { return nil }
            for member in members {
                for (key, value) in object where member.regex.search(key) {
                    if let failure = descend(member.node, value, at: .key(key)) { return failure }
                }
            }
            return nil

        case .additionalProperties(let node, let named, let patterns):
            guard case .object(let object) = instance else { return nil }
            if let node {
                // jsonschema walks a set here, whose order Python varies from run to run; this takes instance order.
                for (key, value) in object where isAdditional(key, named, patterns) {
                    if let failure = descend(node, value, at: .key(key)) { return failure }
                }
                return nil
            }
            var extras: [String] = []
            for (key, _) in object where isAdditional(key, named, patterns) { extras.append(key) }
            if extras.isEmpty { return nil }
            return fail("additionalProperties", additionalPropertiesMessage(extras, patterns: patterns))

        case .dependencies(let dependencies):
            guard case .object(let object) = instance else { return nil }
            for (name, dependency) in dependencies where object[name] != nil {
                switch dependency {
                case .properties(let required):
                    for each in required where object[each] == nil {
                        return fail("dependencies", "\(pythonStringRepr(each)) is a dependency of \(pythonStringRepr(name))")
                    }
                case .schema(let node):
                    if let failure = enter(node, instance) { return failure }
                }
            }
            return nil

        case .propertyNames(let node):
            guard case .object(let object) = instance else { return nil }
            for (key, _) in object {
                if let failure = descend(node, .string(key), at: nil) { return failure }
            }
            return nil

        case .conditional(let condition, let then, let otherwise):
            if accepts(condition, instance) {
                if let then { return enter(then, instance) }
            } else if let otherwise {
                return enter(otherwise, instance)
            }
            return nil

        case .allOf(let children):
            for child in children {
                if let failure = enter(child, instance) { return failure }
            }
            return nil

        case .anyOf(let children):
            for child in children where accepts(child, instance) { return nil }
            return fail("anyOf", "\(pythonRepr(instance)) is not valid under any of the given schemas")

        case .oneOf(let children, let raw):
            guard let first = children.indices.first(where: { accepts(children[$0], instance) }) else {
                return fail("oneOf", "\(pythonRepr(instance)) is not valid under any of the given schemas")
            }
            var alsoValid: [Int] = []
            for i in (first + 1)..<children.count where accepts(children[i], instance) {
                alsoValid.append(i)
                if !detailed { break }
            }
            if alsoValid.isEmpty { return nil }
            // jsonschema lists the later valid subschemas, then the first one.
            alsoValid.append(first)
            return fail("oneOf", "\(pythonRepr(instance)) is valid under each of "
                + alsoValid.map { pythonRepr(raw[$0]) }.joined(separator: ", "))

        case .not(let node, let raw):
            guard accepts(node, instance) else { return nil }
            return fail("not", "\(pythonRepr(instance)) should not be valid under \(pythonRepr(raw))")
        }
    }

    private func isAdditional(_ key: String, _ named: Set<ExactString>, _ patterns: [PythonRegex]?) -> Bool {
        if named.contains(ExactString(key)) { return false }
        if let patterns, patterns.contains(where: { $0.search(key) }) { return false }
        return true
    }

    private func additionalPropertiesMessage(_ extras: [String], patterns: [PythonRegex]?) -> String {
        // Python sorts str by code point, which is UTF-8 byte order.
        let sorted = extras.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            .map(pythonStringRepr).joined(separator: ", ")
        if let patterns {
            let sortedPatterns = patterns.map(\.pattern).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                .map(pythonStringRepr).joined(separator: ", ")
            return "\(sorted) \(extras.count == 1 ? "does" : "do") not match any of the regexes: \(sortedPatterns)"
        }
        return "Additional properties are not allowed (\(sorted) \(extras.count == 1 ? "was" : "were") unexpected)"
    }

    private func isNumber(_ instance: JSONValue) -> Bool {
        switch instance {
        case .integer, .float: return true
        default: return false
        }
    }

    /// jsonschema's draft-7 type checker: booleans are not numbers, and a float with no fractional part (`1.0`)
    /// is an integer.
    private func instanceMatches(_ types: SchemaTypes, _ instance: JSONValue) -> Bool {
        switch instance {
        case .null: return types.contains(.null)
        case .bool: return types.contains(.boolean)
        case .integer: return !types.isDisjoint(with: [.integer, .number])
        case .float(let d): return types.contains(.number) || (types.contains(.integer) && d.rounded(.towardZero) == d)
        case .string: return types.contains(.string)
        case .array: return types.contains(.array)
        case .object: return types.contains(.object)
        }
    }
}
