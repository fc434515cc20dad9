// Compiles a draft-07 schema (a JSONValue) into a flat array of nodes the evaluator walks: keywords in the schema's
// own key order (the order jsonschema applies them, so the first error is the same), patterns compiled once, `$ref`s
// resolved to node indices. A location reached both by nesting and by `$ref` is compiled once, which is also what
// lets recursive `$ref`s ("#") refer back to a node still being compiled.
import QuiltSupport
import QuiltFormat

/// The JSON Schema types of the `type` keyword.
struct SchemaTypes: OptionSet, Sendable {
    let rawValue: UInt8
    static let null = SchemaTypes(rawValue: 1)
    static let boolean = SchemaTypes(rawValue: 2)
    static let object = SchemaTypes(rawValue: 4)
    static let array = SchemaTypes(rawValue: 8)
    static let number = SchemaTypes(rawValue: 16)
    static let integer = SchemaTypes(rawValue: 32)
    static let string = SchemaTypes(rawValue: 64)

    init(rawValue: UInt8) { self.rawValue = rawValue }

    init?(name: String) {
        switch name {
        case "null": self = .null
        case "boolean": self = .boolean
        case "object": self = .object
        case "array": self = .array
        case "number": self = .number
        case "integer": self = .integer
        case "string": self = .string
        default: return nil
        }
    }
}

/// One compiled (sub)schema.
enum SchemaNode: Sendable {
    /// `true`, or an object with no keyword that validates.
    case accept
    /// `false`.
    case reject
    /// `{"$ref": ...}`: in draft 7 its siblings are ignored.
    case reference(Int)
    case keywords([SchemaKeyword])
}

enum SchemaDependency: Sendable {
    case properties([String])
    case schema(Int)
}

/// A validating keyword with its value compiled. Numbers stay `JSONValue`s (`.integer` or `.float`) so they compare
/// exactly and print as Python prints them.
enum SchemaKeyword: Sendable {
    case type(SchemaTypes, names: [String])
    case enumeration([JSONValue], raw: JSONValue)
    case constant(JSONValue)
    case multipleOf(JSONValue)
    case maximum(JSONValue)
    case exclusiveMaximum(JSONValue)
    case minimum(JSONValue)
    case exclusiveMinimum(JSONValue)
    case maxLength(Double)
    case minLength(Double)
    case pattern(PythonRegex)
    /// `items` as one schema for every item.
    case items(Int)
    /// `items` as an array: one schema per position.
    case itemsByPosition([Int])
    /// `additionalItems` after an `items` array of `after` schemas; nil is `false`.
    case additionalItems(Int?, after: Int)
    case maxItems(Double)
    case minItems(Double)
    case uniqueItems
    case contains(Int)
    case maxProperties(Double)
    case minProperties(Double)
    case required([String])
    case properties([(name: String, node: Int)])
    case patternProperties([(regex: PythonRegex, node: Int)])
    /// `additionalProperties` with what decides which properties are additional: the sibling `properties` names and
    /// `patternProperties` patterns. A nil node is `false`.
    case additionalProperties(Int?, named: Set<ExactString>, patterns: [PythonRegex]?)
    case dependencies([(name: String, dependency: SchemaDependency)])
    case propertyNames(Int)
    case conditional(if: Int, then: Int?, else: Int?)
    case allOf([Int])
    case anyOf([Int])
    case oneOf([Int], raw: [JSONValue])
    case not(Int, raw: JSONValue)
    /// `"format": "regex"`, asserted only when checking schemas against the meta-schema (as jsonschema's
    /// `check_schema` does with its format checker); every other format is an annotation.
    case regexFormat
}

/// A compiled schema: its nodes and where each came from.
final class SchemaProgram: Sendable {
    let nodes: [SchemaNode]
    /// For messages: each node's location, `#/definitions/a` (prefixed by the document's URI when not the schema's).
    let locations: [String]
    let root: Int

    init(nodes: [SchemaNode], locations: [String], root: Int) {
        self.nodes = nodes
        self.locations = locations
        self.root = root
    }
}

struct SchemaCompiler {
    private struct Location {
        var document: Int
        var tokens: [String]

        /// Keys compare code points: Swift's String == would merge canonically equivalent property names.
        var key: ExactString { ExactString(String(document) + "#" + JSONPointer.text(tokens)) }

        func appending(_ more: String...) -> Location {
            var copy = self
            copy.tokens.append(contentsOf: more)
            return copy
        }
    }

    private var documents: [JSONValue] = []
    /// Resource URIs (without fragment) to where they are: the root ("" and its `$id`) and every subschema `$id`.
    private var resources: [ExactString: Location] = [:]
    /// Draft-07 plain-name fragments (`"$id": "#name"`), keyed "resource-uri#name".
    private var anchors: [ExactString: Location] = [:]
    /// The base URI in effect inside each scanned schema location, by location key.
    private var bases: [ExactString: String] = [:]
    private var nodes: [SchemaNode] = []
    private var locations: [String] = []
    private var compiled: [ExactString: Int] = [:]
    /// Patterns compiled so far (`patternProperties` patterns also decide `additionalProperties`).
    private var regexes: [ExactString: PythonRegex] = [:]

    /// Compiles `schema`. Assumes it conforms to the meta-schema; anything the evaluator could not run still throws.
    static func compile(_ schema: JSONValue) throws(JSONSchemaError) -> SchemaProgram {
        var compiler = SchemaCompiler()
        compiler.addDocument(schema, uri: "")
        let root = try compiler.compile(schema, at: Location(document: 0, tokens: []))
        return SchemaProgram(nodes: compiler.nodes, locations: compiler.locations, root: root)
    }

    // MARK: Documents and their resources

    private mutating func addDocument(_ value: JSONValue, uri: String) {
        let document = documents.count
        documents.append(value)
        let root = Location(document: document, tokens: [])
        if resources[ExactString(uri)] == nil { resources[ExactString(uri)] = root }
        scan(value, at: root, base: uri)
    }

    /// Records the base URI of every subschema and the resources and anchors their `$id`s declare, walking the
    /// keywords that hold subschemas in draft 7 (so an `$id` inside `enum` or `const` declares nothing).
    private mutating func scan(_ value: JSONValue, at location: Location, base: String) {
        var base = base
        if case .object(let object) = value, case .string(let id)? = object["$id"] {
            let resolved = SchemaURI.resolve(id, against: base)
            let (uri, fragment) = SchemaURI.splitFragment(resolved)
            if id.hasPrefix("#") {
                // A location-independent identifier, even beside "$ref" (as the referencing library has it).
                if let fragment, !fragment.isEmpty, anchors[ExactString(resolved)] == nil {
                    anchors[ExactString(resolved)] = location
                }
            } else if object["$ref"] == nil {
                // Beside "$ref" an "$id" is ignored, like every other sibling.
                base = uri
                if resources[ExactString(uri)] == nil { resources[ExactString(uri)] = location }
            }
        }
        bases[location.key] = base
        guard case .object(let object) = value else { return }
        for (keyword, child) in object {
            switch keyword {
            case "additionalItems", "additionalProperties", "contains", "else", "if", "not", "propertyNames", "then":
                scan(child, at: location.appending(keyword), base: base)
            case "items":
                if case .array(let items) = child {
                    for (i, item) in items.enumerated() { scan(item, at: location.appending(keyword, String(i)), base: base) }
                } else {
                    scan(child, at: location.appending(keyword), base: base)
                }
            case "allOf", "anyOf", "oneOf":
                if case .array(let items) = child {
                    for (i, item) in items.enumerated() { scan(item, at: location.appending(keyword, String(i)), base: base) }
                }
            case "definitions", "patternProperties", "properties", "dependencies":
                if case .object(let members) = child {
                    for (name, member) in members {
                        if keyword == "dependencies", case .array = member { continue }
                        scan(member, at: location.appending(keyword, name), base: base)
                    }
                }
            default:
                break
            }
        }
    }

    /// The base URI at a location: its own when scanned, else that of the nearest scanned enclosing location.
    private func base(of location: Location) -> String {
        var tokens = location.tokens
        while true {
            if let base = bases[Location(document: location.document, tokens: tokens).key] { return base }
            if tokens.isEmpty { return "" }
            tokens.removeLast()
        }
    }

    /// Where a `$ref` found at `location` points: a JSON pointer or plain name within this schema's resources (the
    /// document itself and every subschema with an `$id`), or within the bundled draft-07 meta-schema.
    private mutating func resolveReference(
        _ reference: String, at location: Location
    ) throws(JSONSchemaError) -> (Location, JSONValue) {
        let resolved = SchemaURI.resolve(reference, against: base(of: location))
        let (uri, fragment) = SchemaURI.splitFragment(resolved)
        if resources[ExactString(uri)] == nil && uri == DraftSevenMetaSchema.uri {
            guard let metaSchema = try? JSONParser.parse(DraftSevenMetaSchema.text) else {
                throw JSONSchemaError.unresolvableReference(reference)
            }
            addDocument(metaSchema, uri: uri)
        }
        guard let resource = resources[ExactString(uri)] else { throw JSONSchemaError.unsupportedReference(reference) }
        var target = resource
        if let fragment, !fragment.isEmpty {
            if let tokens = JSONPointer.tokens(fromFragment: fragment) {
                target.tokens += tokens
            } else if let anchor = anchors[ExactString(uri + "#" + fragment)] {
                target = anchor
            } else {
                throw JSONSchemaError.unresolvableReference(reference)
            }
        }
        guard let value = JSONPointer.resolve(target.tokens[...], in: documents[target.document]) else {
            throw JSONSchemaError.unresolvableReference(reference)
        }
        return (target, value)
    }

    // MARK: Compiling

    private mutating func compile(_ value: JSONValue, at location: Location) throws(JSONSchemaError) -> Int {
        let key = location.key
        if let index = compiled[key] { return index }
        let index = nodes.count
        compiled[key] = index
        nodes.append(.accept)
        locations.append(describe(location))
        nodes[index] = try compileNode(value, at: location)
        return index
    }

    private func describe(_ location: Location) -> String {
        let pointer = "#" + JSONPointer.text(location.tokens)
        if location.document == 0 { return pointer }
        let uri = resources.first { $0.value.document == location.document && $0.value.tokens.isEmpty }?.key.string ?? ""
        return uri + pointer
    }

    private mutating func compileNode(_ value: JSONValue, at location: Location) throws(JSONSchemaError) -> SchemaNode {
        let object: JSONObject
        switch value {
        case .bool(let b): return b ? .accept : .reject
        case .object(let o): object = o
        default: throw invalid(location, "\(pythonRepr(value)) is not of type 'object', 'boolean'")
        }
        if let reference = object["$ref"] {
            guard case .string(let text) = reference else {
                throw invalid(location.appending("$ref"), "\(pythonRepr(reference)) is not of type 'string'")
            }
            let (target, targetValue) = try resolveReference(text, at: location)
            return .reference(try compile(targetValue, at: target))
        }
        var keywords: [SchemaKeyword] = []
        for (name, keywordValue) in object {
            if let keyword = try compileKeyword(name, keywordValue, in: object, at: location) {
                keywords.append(keyword)
            }
        }
        return keywords.isEmpty ? .accept : .keywords(keywords)
    }

    private mutating func compileKeyword(
        _ name: String, _ value: JSONValue, in schema: JSONObject, at parent: Location
    ) throws(JSONSchemaError) -> SchemaKeyword? {
        let location = parent.appending(name)
        switch name {
        case "type":
            var names: [String] = []
            switch value {
            case .string(let s): names = [s]
            case .array(let items):
                for item in items {
                    guard case .string(let s) = item else {
                        throw invalid(location, "\(pythonRepr(item)) is not a type name")
                    }
                    names.append(s)
                }
            default: throw invalid(location, "\(pythonRepr(value)) is not a type name or a list of them")
            }
            var types: SchemaTypes = []
            for typeName in names {
                guard let type = SchemaTypes(name: typeName) else {
                    throw invalid(location, "\(pythonStringRepr(typeName)) is not a known type")
                }
                types.insert(type)
            }
            return .type(types, names: names)
        case "enum":
            guard case .array(let items) = value else { throw notOfType("array", value, at: location) }
            return .enumeration(items, raw: value)
        case "const":
            return .constant(value)
        case "multipleOf":
            let divisor = try number(value, at: location)
            guard pythonCompareNumbers(divisor, .integer("0")) > 0 else {
                throw invalid(location, "\(pythonRepr(value)) is less than or equal to the minimum of 0")
            }
            return .multipleOf(divisor)
        case "maximum": return .maximum(try number(value, at: location))
        case "exclusiveMaximum": return .exclusiveMaximum(try number(value, at: location))
        case "minimum": return .minimum(try number(value, at: location))
        case "exclusiveMinimum": return .exclusiveMinimum(try number(value, at: location))
        case "maxLength": return .maxLength(try count(value, at: location))
        case "minLength": return .minLength(try count(value, at: location))
        case "maxItems": return .maxItems(try count(value, at: location))
        case "minItems": return .minItems(try count(value, at: location))
        case "maxProperties": return .maxProperties(try count(value, at: location))
        case "minProperties": return .minProperties(try count(value, at: location))
        case "pattern":
            guard case .string(let pattern) = value else { throw notOfType("string", value, at: location) }
            return .pattern(try regex(pattern, at: location))
        case "format":
            return value == .string("regex") ? .regexFormat : nil
        case "items":
            if case .array(let items) = value {
                var children: [Int] = []
                for (i, item) in items.enumerated() {
                    children.append(try compile(item, at: location.appending(String(i))))
                }
                return .itemsByPosition(children)
            }
            return .items(try compile(value, at: location))
        case "additionalItems":
            // jsonschema applies additionalItems only beside an `items` array (an absent `items` is `{}`, a schema).
            // Beside a boolean `items` it would fail with a TypeError (`len(True)`); here that `items` counts as the
            // schema it is, so additionalItems is ignored, as the specification says.
            guard case .array(let items)? = schema["items"] else { return nil }
            switch value {
            case .bool(true): return nil
            case .bool(false): return .additionalItems(nil, after: items.count)
            default: return .additionalItems(try compile(value, at: location), after: items.count)
            }
        case "uniqueItems":
            return value.isTruthy ? .uniqueItems : nil
        case "contains":
            return .contains(try compile(value, at: location))
        case "required":
            guard case .array(let items) = value else { throw notOfType("array", value, at: location) }
            return .required(try strings(items, at: location))
        case "properties":
            guard case .object(let members) = value else { throw notOfType("object", value, at: location) }
            var compiledMembers: [(name: String, node: Int)] = []
            for (property, member) in members {
                compiledMembers.append((property, try compile(member, at: location.appending(property))))
            }
            return .properties(compiledMembers)
        case "patternProperties":
            guard case .object(let members) = value else { throw notOfType("object", value, at: location) }
            var compiledMembers: [(regex: PythonRegex, node: Int)] = []
            for (pattern, member) in members {
                let regex = try regex(pattern, at: location)
                compiledMembers.append((regex, try compile(member, at: location.appending(pattern))))
            }
            return .patternProperties(compiledMembers)
        case "additionalProperties":
            if value == .bool(true) { return nil }
            var named = Set<ExactString>()
            if case .object(let properties)? = schema["properties"] {
                for (property, _) in properties { named.insert(ExactString(property)) }
            }
            var patterns: [PythonRegex]? = nil
            if let patternProperties = schema["patternProperties"] {
                guard case .object(let members) = patternProperties else {
                    throw notOfType("object", patternProperties, at: parent.appending("patternProperties"))
                }
                var compiledPatterns: [PythonRegex] = []
                for (pattern, _) in members {
                    compiledPatterns.append(try regex(pattern, at: parent.appending("patternProperties")))
                }
                patterns = compiledPatterns
            }
            let node: Int? = value == .bool(false) ? nil : try compile(value, at: location)
            return .additionalProperties(node, named: named, patterns: patterns)
        case "dependencies":
            guard case .object(let members) = value else { throw notOfType("object", value, at: location) }
            var dependencies: [(name: String, dependency: SchemaDependency)] = []
            for (property, member) in members {
                if case .array(let items) = member {
                    dependencies.append((property, .properties(try strings(items, at: location.appending(property)))))
                } else {
                    dependencies.append((property, .schema(try compile(member, at: location.appending(property)))))
                }
            }
            return .dependencies(dependencies)
        case "propertyNames":
            return .propertyNames(try compile(value, at: location))
        case "if":
            let condition = try compile(value, at: location)
            var then: Int? = nil
            var otherwise: Int? = nil
            if let thenValue = schema["then"] { then = try compile(thenValue, at: parent.appending("then")) }
            if let elseValue = schema["else"] { otherwise = try compile(elseValue, at: parent.appending("else")) }
            return .conditional(if: condition, then: then, else: otherwise)
        case "allOf", "anyOf", "oneOf":
            guard case .array(let items) = value, !items.isEmpty else {
                throw invalid(location, "\(pythonRepr(value)) is not a non-empty array of schemas")
            }
            var children: [Int] = []
            for (i, item) in items.enumerated() { children.append(try compile(item, at: location.appending(String(i)))) }
            switch name {
            case "allOf": return .allOf(children)
            case "anyOf": return .anyOf(children)
            default: return .oneOf(children, raw: items)
            }
        case "not":
            return .not(try compile(value, at: location), raw: value)
        default:
            // Annotations ("title", "default", "examples", "$comment", "definitions", ...) and unknown keywords.
            return nil
        }
    }

    private func number(_ value: JSONValue, at location: Location) throws(JSONSchemaError) -> JSONValue {
        switch value {
        case .integer, .float: return value
        default: throw notOfType("number", value, at: location)
        }
    }

    /// A length or count limit. Compared with lengths far below 2^53, so a double is exact enough even for
    /// integers of any size.
    private func count(_ value: JSONValue, at location: Location) throws(JSONSchemaError) -> Double {
        switch value {
        case .integer(let digits): return Double(digits) ?? .infinity
        case .float(let d): return d
        default: throw notOfType("integer", value, at: location)
        }
    }

    private func strings(_ items: [JSONValue], at location: Location) throws(JSONSchemaError) -> [String] {
        var result: [String] = []
        result.reserveCapacity(items.count)
        for item in items {
            guard case .string(let s) = item else { throw notOfType("string", item, at: location) }
            result.append(s)
        }
        return result
    }

    private mutating func regex(_ pattern: String, at location: Location) throws(JSONSchemaError) -> PythonRegex {
        if let known = regexes[ExactString(pattern)] { return known }
        do {
            let regex = try PythonRegex(pattern)
            regexes[ExactString(pattern)] = regex
            return regex
        } catch {
            throw invalid(location, "\(pythonStringRepr(pattern)) is not a 'regex'")
        }
    }

    private func notOfType(_ type: String, _ value: JSONValue, at location: Location) -> JSONSchemaError {
        invalid(location, "\(pythonRepr(value)) is not of type '\(type)'")
    }

    /// A schema the evaluator cannot run, located in the schema the way validation failures are located in
    /// instances (array positions as indices).
    private func invalid(_ location: Location, _ message: String) -> JSONSchemaError {
        var path: [JSONSchemaPathElement] = []
        var current: JSONValue? = documents[location.document]
        for token in location.tokens {
            if case .array(let items)? = current, let index = Int(token) {
                path.append(.index(index))
                current = items.indices.contains(index) ? items[index] : nil
            } else {
                path.append(.key(token))
                current = current?.objectValue?[token]
            }
        }
        return .invalidSchema(JSONSchemaFailure(location: path, message: message, keyword: nil))
    }
}
