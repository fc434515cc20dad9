// JSON Schema draft 7, validated the way quilt3 validates workflow configs, package metadata and entries: with
// Python's jsonschema `Draft7Validator(schema)` and no format checker (`format` is an annotation).
//
// What quilt3 8.0.0 does (quilt3/workflows/__init__.py):
// - the workflows config is validated with `Draft7Validator(config-1.schema.json).validate(config)`; that schema is
//   bundled with quilt3 and uses `$ref`s to "#/definitions/...", which this supports;
// - a workflow's metadata and entries schemas are loaded with a JSON decoder that rejects any object with a "$ref"
//   key ("Currently we don't support $ref in schema."), checked with `Draft7Validator.check_schema(schema)` (the
//   draft-07 meta-schema, with jsonschema's format checker, which asserts "regex"), then applied with
//   `validator.validate(instance)`;
// - `validate` raises the first error `iter_errors` yields (not `best_match`), and quilt3 shows only its message:
//   "Metadata failed validation: 'version' is a required property." — `err.message` then a full stop.
//   `check_schema` likewise raises its first error: "Schema 'x' is not valid: ...".
//
// So `validate` returns that first error: keywords in the schema's key order, messages in jsonschema's words with
// Python reprs of the values, and the failing instance location as jsonschema's `ValidationError.json_path` (even
// where that is one step short: a `false` subschema's error carries its container's location). On the official
// draft-07 suite and on randomly generated schemas and instances, verdicts, messages and paths are jsonschema
// 4.26.0's, except where jsonschema itself is not deterministic or does not answer:
//
// - `additionalProperties` with a schema walks the additional properties in the instance's order; jsonschema walks a
//   Python set, whose order changes with the process's hash seed, so which one it reports first varies by run.
//   The same goes for `check_schema` failures under `definitions`, `properties`, `patternProperties`, `dependencies`.
// - `uniqueItems` compares every pair; jsonschema's sort-then-compare-neighbours shortcut misses `[[1], [True], [1]]`.
// - `additionalItems` beside a boolean `items` is ignored (jsonschema raises TypeError: `len(True)`).
// - a schema that applies itself to the same value without end (`{"$ref": "#"}`) fails validation with a message
//   saying so (jsonschema raises RecursionError).
// - `multipleOf` with an integer instance beyond the float range is decided exactly (Python raises OverflowError).
// - patterns run on ICU, rewritten from Python's `re` dialect (see PythonRegex.swift for what may still differ).
// - `$ref`s resolve within the schema and to the bundled draft-07 meta-schema only; jsonschema would fetch others.
import QuiltSupport
import QuiltFormat

/// A step in an instance location: an object key or an array index.
public enum JSONSchemaPathElement: Sendable, Equatable {
    case key(String)
    case index(Int)

    /// Keys compare by code point, as Python compares them.
    public static func == (lhs: JSONSchemaPathElement, rhs: JSONSchemaPathElement) -> Bool {
        switch (lhs, rhs) {
        case (.key(let a), .key(let b)): return a.isIdentical(to: b)
        case (.index(let a), .index(let b)): return a == b
        default: return false
        }
    }
}

/// Why an instance (or, from `JSONSchema.init`, a schema) is not valid: the first error jsonschema reports.
public struct JSONSchemaFailure: Sendable, Equatable, CustomStringConvertible {
    /// Where the failing value is, from the root.
    public let location: [JSONSchemaPathElement]
    /// jsonschema's message, e.g. `'version' is a required property` or `1 is not of type 'string'`.
    public let message: String
    /// The keyword that failed (`"type"`, `"required"`, ...); nil for a `false` schema.
    public let keyword: String?

    public init(location: [JSONSchemaPathElement], message: String, keyword: String?) {
        self.location = location
        self.message = message
        self.keyword = keyword
    }

    /// The location as jsonschema's `json_path`: `$` for the root, `$.version`, `$[0].meta.x`, `$['a b']`.
    public var path: String {
        var out = "$"
        for element in location {
            switch element {
            case .index(let i):
                out += "[\(i)]"
            case .key(let key) where isPlainPathKey(key):
                out += "." + key
            case .key(let key):
                out += "['"
                for scalar in key.unicodeScalars {
                    switch scalar {
                    case "\\": out += "\\\\"
                    case "'": out += "\\'"
                    default: out.unicodeScalars.append(scalar)
                    }
                }
                out += "']"
            }
        }
        return out
    }

    public var description: String { "\(path): \(message)" }

    public static func == (lhs: JSONSchemaFailure, rhs: JSONSchemaFailure) -> Bool {
        lhs.location == rhs.location && lhs.message.isIdentical(to: rhs.message) && lhs.keyword == rhs.keyword
    }
}

/// jsonschema writes a key as `.key` when it matches `^[a-zA-Z][a-zA-Z0-9_]*$` with Python's `re.match`, whose `$`
/// also matches before a final "\n"; other keys are quoted.
private func isPlainPathKey(_ key: String) -> Bool {
    var bytes = key.utf8[...]
    if bytes.last == UInt8(ascii: "\n") { bytes = bytes.dropLast() }
    guard let first = bytes.first, isASCIILetter(first) else { return false }
    return bytes.dropFirst().allSatisfy { isASCIILetter($0) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "_") }
}

private func isASCIILetter(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) }

/// Why a schema cannot be used.
public enum JSONSchemaError: QuiltError, Equatable {
    /// The schema does not conform to the draft-07 meta-schema (the failure locates the offending part of the
    /// schema), or has a part the validator cannot run.
    case invalidSchema(JSONSchemaFailure)
    /// A `$ref` to another document: only references within the schema itself (its `#` pointers, its `$id`s) and to
    /// the draft-07 meta-schema are supported; nothing is fetched.
    case unsupportedReference(String)
    /// A `$ref` within the schema to a location that does not exist.
    case unresolvableReference(String)

    public var kind: FailureKind { .badInput }

    public var message: String {
        switch self {
        case .invalidSchema(let failure):
            return "invalid JSON Schema: \(failure.message) (at \(failure.path))"
        case .unsupportedReference(let reference):
            return "unsupported $ref \(quoted(reference)): only references within the same schema are supported"
        case .unresolvableReference(let reference):
            return "unresolvable $ref \(quoted(reference)): nothing in the schema at that location"
        }
    }
}

/// A compiled draft-07 JSON Schema.
public struct JSONSchema: Sendable {
    private let program: SchemaProgram

    /// Checks `schema` against the draft-07 meta-schema (as `Draft7Validator.check_schema` does, "regex" formats
    /// asserted) and compiles it.
    public init(_ schema: JSONValue) throws(JSONSchemaError) {
        if let failure = JSONSchema.checkSchema(schema) { throw JSONSchemaError.invalidSchema(failure) }
        program = try SchemaCompiler.compile(schema)
    }

    /// The first error jsonschema's `Draft7Validator(schema).iter_errors(instance)` yields, or nil when `instance`
    /// is valid.
    public func validate(_ instance: JSONValue) -> JSONSchemaFailure? {
        var evaluator = SchemaEvaluator(program: program)
        return evaluator.firstFailure(instance)
    }

    /// Whether `instance` is valid; faster than `validate` when the reason is not wanted.
    public func isValid(_ instance: JSONValue) -> Bool {
        var evaluator = SchemaEvaluator(program: program)
        return evaluator.isValid(instance)
    }

    /// The first error of `schema` against the draft-07 meta-schema (jsonschema's `check_schema`), or nil.
    public static func checkSchema(_ schema: JSONValue) -> JSONSchemaFailure? {
        var evaluator = SchemaEvaluator(program: metaSchemaProgram, assertsRegexFormat: true)
        return evaluator.firstFailure(schema)
    }

    private static let metaSchemaProgram: SchemaProgram = {
        do {
            return try SchemaCompiler.compile(try JSONParser.parse(DraftSevenMetaSchema.text))
        } catch {
            fatalError("the bundled draft-07 meta-schema does not compile: \(error)")
        }
    }()
}
