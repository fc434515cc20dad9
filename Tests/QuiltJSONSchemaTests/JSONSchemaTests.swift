// The draft-07 validator against the official JSON-Schema-Test-Suite (fetched by scripts/fetch-json-schema-suite)
// and against what Python's jsonschema 4.26.0 reports: first error, its json_path and its message.
import Foundation
import Testing
@testable import QuiltSupport
@testable import QuiltFormat
@testable import QuiltJSONSchema

private func compile(_ schemaText: String) throws -> JSONSchema {
    try JSONSchema(JSONParser.parse(schemaText))
}

private func firstFailure(_ schemaText: String, _ instanceText: String) throws -> JSONSchemaFailure? {
    try compile(schemaText).validate(JSONParser.parse(instanceText))
}

// MARK: - JSON-Schema-Test-Suite

/// Runs every draft-07 case of the official suite (the top-level files, not optional/), and for every invalid one
/// compares the first failure's path and message with what jsonschema 4.26.0 reports for it.
///
/// Skipped, and only these: the 23 cases of refRemote.json, whose schemas `$ref` documents the suite serves from
/// http://localhost:1234 (another document: `JSONSchema.init` throws `unsupportedReference`, which is checked).
/// Every other case runs, `$ref` or not: pointers ("#", "#/definitions/x", escapes ~0 ~1 and %25), `$id`-based
/// resolution within the schema (relative and absolute URIs, URNs, plain-name fragments "#foo") and the bundled
/// draft-07 meta-schema ("http://json-schema.org/draft-07/schema#", as in definitions.json).
@Suite struct JSONSchemaTestSuiteTests {
    /// The cases the suite of jsonschema 4.26.0 holds outside refRemote.json; fewer means the loader broke.
    static let expectedRun = 890
    static let expectedSkipped = 23

    static var suiteDirectory: String {
        if let configured = ProcessInfo.processInfo.environment["QUILT_JSON_SCHEMA_SUITE"], !configured.isEmpty {
            return configured
        }
        // #filePath is <package>/Tests/QuiltCoreTests/JSONSchemaTests.swift.
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return packageRoot.appendingPathComponent(".build/json-schema-suite/draft7").path
    }

    static let skipped = ProcessInfo.processInfo.environment["QUILT_SKIP_SCHEMA_SUITE"] == "1"

    @Test(.disabled(if: skipped, "QUILT_SKIP_SCHEMA_SUITE=1"))
    func draft7() throws {
        let directory = Self.suiteDirectory
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".json") }.sorted()
        guard !names.isEmpty else {
            Issue.record("""
                no JSON-Schema-Test-Suite draft-07 files in \(directory): run scripts/fetch-json-schema-suite \
                (or set QUILT_JSON_SCHEMA_SUITE to a directory of them, or QUILT_SKIP_SCHEMA_SUITE=1 to skip)
                """)
            return
        }
        // What jsonschema 4.26.0 reports for each invalid case (JSONSchemaSuitePythonErrors.swift).
        guard case .object(let pythonErrors) = try JSONParser.parse(jsonSchemaSuitePythonErrors) else {
            Issue.record("JSONSchemaSuitePythonErrors.swift: not a JSON object")
            return
        }
        var run = 0, passed = 0, skipped = 0, messagesCompared = 0
        for name in names {
            let bytes = try #require(FileManager.default.contents(atPath: directory + "/" + name), "\(name)")
            guard case .array(let groups) = try JSONParser.parse([UInt8](bytes)) else {
                Issue.record("\(name): not an array of groups")
                continue
            }
            for group in groups {
                let object = try #require(group.objectValue, "\(name)")
                let description = object["description"]?.stringValue ?? "?"
                guard case .array(let tests)? = object["tests"], let schemaValue = object["schema"] else {
                    Issue.record("\(name): \(description): no schema or tests")
                    continue
                }
                let schema: JSONSchema
                do {
                    schema = try JSONSchema(schemaValue)
                } catch {
                    if name == "refRemote.json", case .unsupportedReference = error {
                        skipped += tests.count
                    } else {
                        Issue.record("\(name): \(description): \(error)")
                    }
                    continue
                }
                if name == "refRemote.json" {
                    // Only the remote-less parts of a remote group compile; nothing of refRemote.json should.
                    Issue.record("\(name): \(description): compiled, but it refers to a remote document")
                }
                for test in tests {
                    guard let data = test.objectValue?["data"], case .bool(let expected)? = test.objectValue?["valid"] else {
                        Issue.record("\(name): \(description): malformed test")
                        continue
                    }
                    let testDescription = test.objectValue?["description"]?.stringValue ?? "?"
                    run += 1
                    let failure = schema.validate(data)
                    #expect(schema.isValid(data) == (failure == nil), "\(name): \(description): \(testDescription)")
                    if (failure == nil) == expected {
                        passed += 1
                        if let failure {
                            let key = "\(name) | \(description) | \(testDescription)"
                            let python = pythonErrors[key]
                            #expect(python == .array([.string(failure.path), .string(failure.message)]),
                                    "\(key): jsonschema reports \(python.map(JSONWriter.manifestForm) ?? "nothing")")
                            messagesCompared += 1
                        }
                    } else {
                        Issue.record("""
                            \(name): \(description): \(testDescription): expected \(expected ? "valid" : "invalid"), \
                            got \(failure.map { "\($0)" } ?? "valid")
                            """)
                    }
                }
            }
        }
        #expect(run >= Self.expectedRun, "only \(run) suite cases ran")
        #expect(passed == run)
        #expect(skipped == Self.expectedSkipped)
        #expect(messagesCompared == pythonErrors.count, "every invalid case has jsonschema's error to compare with")
    }
}

// MARK: - Messages and locations as Python's jsonschema reports them

struct PythonReportedError: Sendable, CustomTestStringConvertible {
    let schema: String
    let instance: String
    let path: String
    let message: String

    init(_ schema: String, _ instance: String, _ path: String, _ message: String) {
        self.schema = schema
        self.instance = instance
        self.path = path
        self.message = message
    }

    var testDescription: String { "\(schema) | \(instance)" }
}

@Suite struct JSONSchemaMessageTests {
    /// `e = next(Draft7Validator(schema).iter_errors(instance))` with jsonschema 4.26.0: `e.json_path`, `e.message`.
    static let pythonErrors: [PythonReportedError] = [
        .init(#"{"type": "object", "required": ["version"]}"#, #"{}"#,
              #"$"#, #"'version' is a required property"#),
        .init(#"{"properties": {"version": {"type": "string", "pattern": "^[0-9]+\\.[0-9]+\\.[0-9]+$"}}}"#, #"{"version": "1.0"}"#,
              #"$.version"#, #"'1.0' does not match '^[0-9]+\\.[0-9]+\\.[0-9]+$'"#),
        .init(#"{"items": {"properties": {"meta": {"properties": {"x": {"type": "string"}}}}}}"#, #"[{"meta": {"x": 1}}]"#,
              #"$[0].meta.x"#, #"1 is not of type 'string'"#),
        .init(#"{"enum": [1, "a", null, true, {"k": [1.5]}]}"#, #"2"#,
              #"$"#, #"2 is not one of [1, 'a', None, True, {'k': [1.5]}]"#),
        .init(#"{"const": {"a": "it's"}}"#, #"{}"#,
              #"$"#, #"{'a': "it's"} was expected"#),
        .init(#"{"properties": {"a": {}}, "additionalProperties": false}"#, #"{"a": 1, "c": 2, "b": 3}"#,
              #"$"#, #"Additional properties are not allowed ('b', 'c' were unexpected)"#),
        .init(#"{"patternProperties": {"^x": {}, "^a": {}}, "additionalProperties": false}"#, #"{"b": 1}"#,
              #"$"#, #"'b' does not match any of the regexes: '^a', '^x'"#),
        .init(#"{"oneOf": [{"type": "integer"}, {"minimum": 0}, {"maximum": 5}]}"#, #"1"#,
              #"$"#, #"1 is valid under each of {'minimum': 0}, {'maximum': 5}, {'type': 'integer'}"#),
        .init(#"{"anyOf": [{"type": "integer"}, {"type": "null"}]}"#, #""x""#,
              #"$"#, #"'x' is not valid under any of the given schemas"#),
        .init(#"{"not": {"type": "string"}}"#, #""x""#,
              #"$"#, #"'x' should not be valid under {'type': 'string'}"#),
        .init(#"{"properties": {"a b": {"type": "integer"}, "it's": {"type": "integer"}, "x\\y": {"type": "integer"}}}"#, #"{"a b": "1"}"#,
              #"$['a b']"#, #"'1' is not of type 'integer'"#),
        .init(#"{"properties": {"it's": {"type": "integer"}}}"#, #"{"it's": "1"}"#,
              #"$['it\'s']"#, #"'1' is not of type 'integer'"#),
        .init(#"{"properties": {"x\\y": {"type": "integer"}}}"#, #"{"x\\y": "1"}"#,
              #"$['x\\y']"#, #"'1' is not of type 'integer'"#),
        .init(#"{"properties": {"_x": {"type": "integer"}, "a1_": {"type": "integer"}}}"#, #"{"_x": "1"}"#,
              #"$['_x']"#, #"'1' is not of type 'integer'"#),
        .init(#"{"minLength": 5, "type": "integer"}"#, #""ab""#,
              #"$"#, #"'ab' is too short"#),
        .init(#"{"type": "integer", "minLength": 5}"#, #""ab""#,
              #"$"#, #"'ab' is not of type 'integer'"#),
        .init(#"{"properties": {"a": false}}"#, #"{"a": 1}"#,
              #"$"#, #"False schema does not allow 1"#),
        .init(#"{"type": "integer"}"#, #""tab\there\u00e9\u0001'\u2028\ud83d\ude00\u00a0\\""#,
              #"$"#, #""tab\thereé\x01'\u2028😀\xa0\\" is not of type 'integer'"#),
        .init(#"{"type": ["integer", "null"]}"#, #"{"a": [true, null, 1.5, 1e+100, -0.0]}"#,
              #"$"#, #"{'a': [True, None, 1.5, 1e+100, -0.0]} is not of type 'integer', 'null'"#),
        .init(#"{"type": "integer"}"#, #""say \"hi\"""#,
              #"$"#, #"'say "hi"' is not of type 'integer'"#),
        .init(#"{"type": "integer"}"#, #""it's \"x\"""#,
              #"$"#, #"'it\'s "x"' is not of type 'integer'"#),
        .init(#"{"propertyNames": {"maxLength": 3}}"#, #"{"ab": 1, "abcd": 1}"#,
              #"$"#, #"'abcd' is too long"#),
        .init(#"{"contains": {"type": "string"}}"#, #"[1, 2]"#,
              #"$"#, #"None of [1, 2] are valid under the given schema"#),
        .init(#"{"dependencies": {"a": ["b", "c"]}}"#, #"{"a": 1, "c": 2}"#,
              #"$"#, #"'b' is a dependency of 'a'"#),
        .init(#"{"multipleOf": 2}"#, #"4.5"#,
              #"$"#, #"4.5 is not a multiple of 2"#),
        .init(#"{"multipleOf": 0.01}"#, #"0.075"#,
              #"$"#, #"0.075 is not a multiple of 0.01"#),
        .init(#"{"multipleOf": 0.01}"#, #"0.07"#,
              #"$"#, #"0.07 is not a multiple of 0.01"#),
        .init(#"{"multipleOf": 0.1}"#, #"0.3"#,
              #"$"#, #"0.3 is not a multiple of 0.1"#),
        .init(#"{"maximum": 18446744073709551616}"#, #"18446744073709551617"#,
              #"$"#, #"18446744073709551617 is greater than the maximum of 18446744073709551616"#),
        .init(#"{"exclusiveMinimum": 9007199254740993}"#, #"9007199254740992.0"#,
              #"$"#, #"9007199254740992.0 is less than or equal to the minimum of 9007199254740993"#),
        .init(#"{"minimum": 1.5}"#, #"1"#,
              #"$"#, #"1 is less than the minimum of 1.5"#),
        .init(#"{"exclusiveMaximum": 3}"#, #"3.0"#,
              #"$"#, #"3.0 is greater than or equal to the maximum of 3"#),
        .init(#"{"uniqueItems": true}"#, #"[1, 1.0]"#,
              #"$"#, #"[1, 1.0] has non-unique elements"#),
        .init(#"{"maxItems": 0}"#, #"[1]"#,
              #"$"#, #"[1] is expected to be empty"#),
        .init(#"{"minItems": 1}"#, #"[]"#,
              #"$"#, #"[] should be non-empty"#),
        .init(#"{"minItems": 2}"#, #"[1]"#,
              #"$"#, #"[1] is too short"#),
        .init(#"{"maxItems": 1}"#, #"[1, 2]"#,
              #"$"#, #"[1, 2] is too long"#),
        .init(#"{"maxProperties": 0}"#, #"{"a": 1}"#,
              #"$"#, #"{'a': 1} is expected to be empty"#),
        .init(#"{"minProperties": 1}"#, #"{}"#,
              #"$"#, #"{} should be non-empty"#),
        .init(#"{"minProperties": 2}"#, #"{"a": 1}"#,
              #"$"#, #"{'a': 1} does not have enough properties"#),
        .init(#"{"maxProperties": 1}"#, #"{"a": 1, "b": 2}"#,
              #"$"#, #"{'a': 1, 'b': 2} has too many properties"#),
        .init(#"{"maxLength": 0}"#, #""a""#,
              #"$"#, #"'a' is expected to be empty"#),
        .init(#"{"items": [{"type": "integer"}], "additionalItems": false}"#, #"[1, "a", null]"#,
              #"$"#, #"Additional items are not allowed ('a', None were unexpected)"#),
        .init(#"{"items": [{"type": "integer"}], "additionalItems": false}"#, #"[1, "a"]"#,
              #"$"#, #"Additional items are not allowed ('a' was unexpected)"#),
        .init(#"{"if": {"type": "integer"}, "then": {"minimum": 10}, "else": {"type": "string"}}"#, #"5"#,
              #"$"#, #"5 is less than the minimum of 10"#),
        .init(#"{"if": {"type": "integer"}, "then": {"minimum": 10}, "else": {"type": "string"}}"#, #"null"#,
              #"$"#, #"None is not of type 'string'"#),
        .init(#"{"allOf": [{"type": "array"}, {"items": {"const": 1}}]}"#, #"[1, 2]"#,
              #"$[1]"#, #"1 was expected"#),
        .init(##"{"definitions": {"v": {"type": "string"}}, "properties": {"v": {"$ref": "#/definitions/v"}}}"##, #"{"v": 1}"#,
              #"$.v"#, #"1 is not of type 'string'"#),
    ]

    @Test(arguments: pythonErrors)
    func firstErrorIsPythons(_ expected: PythonReportedError) throws {
        let failure = try #require(try firstFailure(expected.schema, expected.instance))
        #expect(failure.path == expected.path)
        #expect(failure.message == expected.message)
    }

    @Test func falseSubschemaErrorsKeepTheParentLocation() throws {
        // jsonschema yields a `false` subschema's error before adding the step to it: the path stops one short.
        let failure = try #require(try firstFailure(#"{"properties": {"a": {"properties": {"b": false}}}}"#, #"{"a": {"b": 1}}"#))
        #expect(failure.path == "$.a")
        #expect(failure.message == "False schema does not allow 1")
        // Through a $ref the step is there (the $ref's schema is not `false` itself).
        let viaReference = try #require(try firstFailure(
            ##"{"definitions": {"no": false}, "properties": {"a": {"$ref": "#/definitions/no"}}}"##, #"{"a": 1}"#))
        #expect(viaReference.path == "$.a")
    }

    @Test func failureDescriptionAndKeyword() throws {
        let failure = try #require(try firstFailure(#"{"required": ["version"]}"#, "{}"))
        #expect(failure.keyword == "required")
        #expect(failure.description == "$: 'version' is a required property")
        #expect(failure.location.isEmpty)
    }
}

// MARK: - Numbers as Python compares them

@Suite struct JSONSchemaNumberTests {
    @Test func bigIntegersCompareExactly() throws {
        let schema = try compile(#"{"maximum": 18446744073709551616}"#)
        #expect(schema.isValid(try JSONParser.parse("18446744073709551616")))
        #expect(!schema.isValid(try JSONParser.parse("18446744073709551617")))
        #expect(schema.isValid(try JSONParser.parse("-18446744073709551617")))
        // 2^64 as a float is exactly the limit; the next float up is above it.
        #expect(schema.isValid(.float(18446744073709551616.0)))
        #expect(!schema.isValid(.float(18446744073709551616.0.nextUp)))
        let huge = try compile(#"{"minimum": 123456789012345678901234567890123456789}"#)
        #expect(!huge.isValid(try JSONParser.parse("123456789012345678901234567890123456788")))
        #expect(huge.isValid(try JSONParser.parse("123456789012345678901234567890123456789")))
        #expect(!huge.isValid(.float(1.2345678901234567e38)))
        #expect(huge.isValid(.float(1.2345678901234568e38)))
    }

    @Test func integersAndFloatsCompareExactlyNotThroughRounding() throws {
        // 9007199254740993 rounds to the float 9007199254740992.0, but Python compares exactly.
        let schema = try compile(#"{"exclusiveMinimum": 9007199254740993}"#)
        #expect(!schema.isValid(.float(9007199254740992.0)))
        #expect(schema.isValid(try JSONParser.parse("9007199254740994")))
        #expect(try !compile(#"{"maximum": 9007199254740992.0}"#).isValid(try JSONParser.parse("9007199254740993")))
        #expect(try compile(#"{"const": 1152921504606846976}"#).isValid(.float(1152921504606846976.0)))
        #expect(try !compile(#"{"const": 1152921504606846977}"#).isValid(.float(1152921504606846976.0)))
    }

    @Test func wholeFloatsAreIntegers() throws {
        let schema = try compile(#"{"type": "integer"}"#)
        #expect(schema.isValid(try JSONParser.parse("1.0")))
        #expect(schema.isValid(try JSONParser.parse("-0.0")))
        #expect(schema.isValid(try JSONParser.parse("1e300")))
        #expect(!schema.isValid(try JSONParser.parse("1.5")))
        #expect(!schema.isValid(.bool(true)))
        #expect(try !compile(#"{"type": "number"}"#).isValid(.bool(false)))
    }

    @Test func multipleOfFollowsPythonFloatArithmetic() throws {
        let cents = try compile(#"{"multipleOf": 0.01}"#)
        #expect(!cents.isValid(try JSONParser.parse("0.075")))  // 0.075 / 0.01 == 7.499999999999999
        #expect(!cents.isValid(try JSONParser.parse("0.07")))   // 7.000000000000001
        #expect(cents.isValid(try JSONParser.parse("0.5")))
        #expect(cents.isValid(try JSONParser.parse("12")))
        #expect(try !compile(#"{"multipleOf": 0.1}"#).isValid(try JSONParser.parse("0.3")))
        // Quotients beyond the float range: exact fractions, as jsonschema falls back to.
        #expect(try compile(#"{"multipleOf": 0.5}"#).isValid(try JSONParser.parse("1e308")))
        #expect(try !compile(#"{"multipleOf": 0.123456789}"#).isValid(try JSONParser.parse("1e308")))
        // An integer instance beyond the float range (Python raises OverflowError): exact.
        let big = "1" + String(repeating: "0", count: 400)
        #expect(try compile(#"{"multipleOf": 0.5}"#).isValid(try JSONParser.parse(big)))
        #expect(try !compile(#"{"multipleOf": 0.3}"#).isValid(try JSONParser.parse(big)))
        #expect(try compile(#"{"multipleOf": 0.25}"#).isValid(try JSONParser.parse(big)))
        // Integer divisors: float instances by fmod, integers exactly at any size.
        let two = try compile(#"{"multipleOf": 2}"#)
        #expect(two.isValid(try JSONParser.parse("4.0")))
        #expect(!two.isValid(try JSONParser.parse("4.5")))
        #expect(try !compile(#"{"multipleOf": 3}"#).isValid(try JSONParser.parse(big)))
        #expect(try compile(#"{"multipleOf": 5}"#).isValid(try JSONParser.parse(big)))
        let prime = "18446744073709551629"
        #expect(try compile(#"{"multipleOf": \#(prime)}"#).isValid(try JSONParser.parse("-92233720368547758145")))
        #expect(try !compile(#"{"multipleOf": \#(prime)}"#).isValid(try JSONParser.parse("92233720368547758146")))
        #expect(try compile(#"{"multipleOf": 1e-300}"#).isValid(try JSONParser.parse("0")))
    }

    @Test func bigUnsignedArithmetic() {
        let a = BigUnsigned(decimalDigits: "340282366920938463463374607431768211457"[...].utf8)  // 2^128 + 1
        #expect(a.remainder(dividingBy: UInt64(3)) == 2)  // 2^128 ≡ 1 (mod 3)
        #expect(BigUnsigned(decimalDigits: "1024"[...].utf8).trailingZeroBitCount == 10)
        let twoTo64 = BigUnsigned(wholeDouble: 18446744073709551616.0)
        #expect(twoTo64.compare(to: BigUnsigned(decimalDigits: "18446744073709551616"[...].utf8)) == 0)
        #expect(twoTo64.compare(to: BigUnsigned(decimalDigits: "18446744073709551617"[...].utf8)) == -1)
        let divisor = BigUnsigned(decimalDigits: "18446744073709551629"[...].utf8)
        #expect(BigUnsigned(decimalDigits: "92233720368547758145"[...].utf8).remainder(dividingBy: divisor).isZero)
        #expect(BigUnsigned(decimalDigits: "92233720368547758146"[...].utf8).remainder(dividingBy: divisor)
            .compare(to: BigUnsigned(decimalDigits: "1"[...].utf8)) == 0)
    }
}

// MARK: - Strings, patterns, equality

@Suite struct JSONSchemaStringTests {
    @Test func lengthsCountCodePoints() throws {
        let two = try compile(#"{"maxLength": 2}"#)
        #expect(two.isValid(.string("\u{1F600}\u{1F600}")))       // 8 UTF-8 bytes, 4 UTF-16 units, 2 code points
        #expect(!two.isValid(.string("e\u{301}e")))                // 2 characters, 3 code points
        #expect(try compile(#"{"minLength": 2}"#).isValid(.string("e\u{301}")))
        #expect(try !compile(#"{"minLength": 2}"#).isValid(.string("\u{E9}")))
    }

    @Test func canonicallyEquivalentNamesStayDistinct() throws {
        let schema = try JSONSchema(.object(JSONObject([("properties", .object(JSONObject([
            ("\u{E9}", .object(JSONObject([("type", .string("integer"))]))),
            ("e\u{301}", .object(JSONObject([("type", .string("string"))]))),
        ])))])))
        #expect(schema.isValid(.object(JSONObject([("\u{E9}", .int(1)), ("e\u{301}", .string("s"))]))))
        let failure = try #require(schema.validate(.object(JSONObject([("\u{E9}", .string("s")), ("e\u{301}", .int(1))]))))
        #expect(failure.location == [.key("\u{E9}")])
        #expect(failure.location != [.key("e\u{301}")])
        #expect(failure.message == "'s' is not of type 'integer'")
        let patterns = try JSONSchema(.object(JSONObject([("items", .array([
            .object(JSONObject([("pattern", .string("^\u{E9}$"))])), .object(JSONObject([("pattern", .string("^e\u{301}$"))])),
        ]))])))
        #expect(patterns.isValid(.array([.string("\u{E9}"), .string("e\u{301}")])))
        #expect(!patterns.isValid(.array([.string("e\u{301}"), .string("\u{E9}")])))
    }

    @Test func patternsSearchWithPythonSemantics() throws {
        func matches(_ pattern: String, _ text: String) throws -> Bool {
            try compile(JSONWriter.manifestForm(.object(JSONObject([("pattern", .string(pattern))])))).isValid(.string(text))
        }
        #expect(try matches("b", "abc"))                 // search, not match
        #expect(try !matches("^b", "abc"))
        #expect(try matches("^a$", "a\n"))               // Python's $ also matches before a final newline
        #expect(try !matches("^a$", "a\r"))              // ... but only "\n" is a line end
        #expect(try !matches("^a$", "a\u{2028}"))
        #expect(try matches("a.c", "a\rc"))              // . excludes only "\n"
        #expect(try !matches("a.c", "a\nc"))
        #expect(try !matches("a\\Z", "a\n"))             // \Z is the very end
        #expect(try matches("a{", "xa{"))                // a { that starts no repeat is a literal
        #expect(try matches("^{foo}$", "{foo}"))
        #expect(try matches("^x{,2}$", "xx"))            // {,n} is {0,n}
        #expect(try !matches("^x{,2}$", "xxx"))
        #expect(try matches("^[]a]+$", "]a"))            // ] first in a class is a member
        #expect(try matches("^[[a]+$", "[a"))            // [ in a class is a member
        #expect(try matches("^[a&&b]+$", "&&"))
        #expect(try matches("^(?P<x>a)(?P=x)$", "aa"))   // Python's named groups
        #expect(try matches("^\\d+$", "\u{663}"))        // \d is Unicode in Python 3 str patterns
        #expect(try matches("^[\\b]$", "\u{8}"))
        #expect(try matches("^.$", "\u{1F600}"))         // one code point, two UTF-16 units
    }

    @Test func patternPropertiesAndAdditionalProperties() throws {
        let schema = try compile(#"{"patternProperties": {"^x-": {"type": "integer"}}, "additionalProperties": {"type": "string"}}"#)
        #expect(schema.isValid(try JSONParser.parse(#"{"x-a": 1, "b": "s"}"#)))
        let failure = try #require(schema.validate(try JSONParser.parse(#"{"b": "s", "x-a": "1"}"#)))
        #expect(failure.path == "$['x-a']")
        #expect(failure.message == "'1' is not of type 'integer'")
        let extra = try #require(schema.validate(try JSONParser.parse(#"{"b": 1}"#)))
        #expect(extra.path == "$.b")
    }

    @Test func equalityIsJsonschemas() throws {
        let unique = try compile(#"{"uniqueItems": true}"#)
        #expect(unique.isValid(try JSONParser.parse("[1, true]")))
        #expect(unique.isValid(try JSONParser.parse("[0, false]")))
        #expect(unique.isValid(try JSONParser.parse("[[1], [true]]")))
        #expect(!unique.isValid(try JSONParser.parse("[1, 1.0]")))
        #expect(!unique.isValid(try JSONParser.parse(#"[{"a": 1, "b": [2]}, {"b": [2.0], "a": 1}]"#)))
        #expect(unique.isValid(.array([.string("\u{E9}"), .string("e\u{301}")])))  // code points, not characters
        // Python's sort-based shortcut would miss this duplicate (its sort sees [1] == [True]); every pair is compared.
        #expect(!unique.isValid(try JSONParser.parse("[[1], [true], [1]]")))
        // Many items take the hashing path.
        let many = (0..<100).map { JSONValue.int($0) }
        #expect(unique.isValid(.array(many)))
        #expect(!unique.isValid(.array(many + [.float(42.0)])))
        #expect(!unique.isValid(.array(many.map { .object(JSONObject([("k", $0), ("z", .null)])) }
            + [.object(JSONObject([("z", .null), ("k", .float(7))]))])))
        let constant = try compile(#"{"const": {"a": [1, "x"], "b": null}}"#)
        #expect(constant.isValid(try JSONParser.parse(#"{"b": null, "a": [1.0, "x"]}"#)))
        #expect(!constant.isValid(try JSONParser.parse(#"{"b": null, "a": [true, "x"]}"#)))
        #expect(try !compile(#"{"enum": [1]}"#).isValid(.bool(true)))
        #expect(try !compile(#"{"enum": [false]}"#).isValid(.int(0)))
    }

    @Test func pythonReprOfValues() {
        #expect(pythonRepr(try! JSONParser.parse(#"{"a": [1, 1.5, 1e+16, -0.0, true, false, null], "b": {}}"#))
            == "{'a': [1, 1.5, 1e+16, -0.0, True, False, None], 'b': {}}")
        #expect(pythonStringRepr("it's") == #""it's""#)
        #expect(pythonStringRepr("it's \"x\"") == #"'it\'s "x"'"#)
        #expect(pythonStringRepr("\u{7F}\u{85}\u{AD}\u{FFFF}\u{E000}\u{10FFFF}") == #"'\x7f\x85\xad\uffff\ue000\U0010ffff'"#)
    }
}

// MARK: - References

@Suite struct JSONSchemaReferenceTests {
    @Test func internalPointers() throws {
        let schema = try compile(#"""
            {"definitions": {"a~b/c%d": {"type": "integer"}, "list": {"type": "array", "items": {"$ref": "#"}}},
             "anyOf": [{"$ref": "#/definitions/a~0b~1c%25d"}, {"$ref": "#/definitions/list"}]}
            """#)
        #expect(schema.isValid(try JSONParser.parse("[1, [2, [3]], []]")))
        #expect(!schema.isValid(try JSONParser.parse(#"[1, [2, ["3"]]]"#)))
    }

    @Test func referenceSiblingsAreIgnored() throws {
        let schema = try compile(##"{"definitions": {"s": {"type": "string"}}, "properties": {"a": {"$ref": "#/definitions/s", "maxLength": 1}}}"##)
        #expect(schema.isValid(try JSONParser.parse(#"{"a": "long"}"#)))
        let failure = try #require(schema.validate(try JSONParser.parse(#"{"a": 1}"#)))
        #expect(failure.path == "$.a")
        #expect(failure.message == "1 is not of type 'string'")
    }

    @Test func otherDocumentsAreUnsupported() {
        for reference in ["http://example.com/schema.json", "other.json#/definitions/a", "http://localhost:1234/integer.json"] {
            #expect(throws: JSONSchemaError.unsupportedReference(reference)) {
                try JSONSchema(.object(JSONObject([("$ref", .string(reference))])))
            }
        }
        #expect(JSONSchemaError.unsupportedReference("x.json").message.hasPrefix("unsupported $ref 'x.json'"))
        #expect(throws: JSONSchemaError.unresolvableReference("#/definitions/missing")) {
            try compile(##"{"$ref": "#/definitions/missing"}"##)
        }
        #expect(throws: JSONSchemaError.unresolvableReference("#nowhere")) { try compile(##"{"$ref": "#nowhere"}"##) }
    }

    @Test func theMetaSchemaIsBundled() throws {
        let schema = try compile(#"{"$ref": "http://json-schema.org/draft-07/schema#"}"#)
        #expect(schema.isValid(try JSONParser.parse(#"{"type": "string", "minLength": 1}"#)))
        // format is an annotation when validating, even the meta-schema's "regex".
        #expect(schema.isValid(try JSONParser.parse(#"{"pattern": "("}"#)))
        let failure = try #require(schema.validate(try JSONParser.parse(#"{"minLength": -1}"#)))
        #expect(failure.path == "$.minLength")
        #expect(failure.message == "-1 is less than the minimum of 0")
    }

    @Test func endlessRecursionIsReportedNotRun() throws {
        // Python's jsonschema dies with RecursionError on these; here validation fails with a message saying why.
        let schema = try compile(##"{"definitions": {"a": {"anyOf": [{"type": "string"}, {"$ref": "#/definitions/a"}]}}, "properties": {"x": {"$ref": "#/definitions/a"}}}"##)
        #expect(schema.isValid(try JSONParser.parse(#"{"x": "s"}"#)))
        let failure = try #require(schema.validate(try JSONParser.parse(#"{"x": 1}"#)))
        #expect(failure.path == "$.x")
        #expect(failure.message.contains("'#/definitions/a'"))
        #expect(!schema.isValid(try JSONParser.parse(#"{"x": 1}"#)))
        #expect(try compile(##"{"$ref": "#"}"##).validate(.null) != nil)
        // Recursion that descends into the instance is fine, however deep.
        let tree = try compile(##"{"type": "array", "items": {"$ref": "#"}}"##)
        var deep = JSONValue.array([])
        for _ in 0..<200 { deep = .array([deep]) }
        #expect(tree.isValid(deep))
    }
}

// MARK: - Schemas checked against the meta-schema

@Suite struct JSONSchemaCheckTests {
    @Test(arguments: [
        // Draft7Validator.check_schema(schema) with jsonschema 4.26.0: the SchemaError's json_path and message.
        (#"{"type": "strin"}"#, "$.type", "'strin' is not valid under any of the given schemas"),
        (#"{"pattern": "("}"#, "$.pattern", "'(' is not a 'regex'"),
        (#"{"minLength": -1}"#, "$.minLength", "-1 is less than the minimum of 0"),
        (#"{"properties": {"a": {"required": "x"}}}"#, "$.properties.a.required", "'x' is not of type 'array'"),
        (#"{"patternProperties": {"(": {}}}"#, "$.patternProperties", "'(' is not a 'regex'"),
        (#"{"items": [{"type": 1}]}"#, "$.items", "[{'type': 1}] is not valid under any of the given schemas"),
        (#"{"type": ["string", "string"]}"#, "$.type", "['string', 'string'] is not valid under any of the given schemas"),
        (#"{"allOf": []}"#, "$.allOf", "[] should be non-empty"),
    ])
    func invalidSchemas(schema: String, path: String, message: String) throws {
        let value = try JSONParser.parse(schema)
        let failure = try #require(JSONSchema.checkSchema(value))
        #expect(failure.path == path)
        #expect(failure.message == message)
        #expect(throws: JSONSchemaError.invalidSchema(failure)) { try JSONSchema(value) }
    }

    @Test func validSchemasPass() throws {
        for schema in [#"{"enum": []}"#, "true", "false", "{}", #"{"format": "anything", "x-custom": [1]}"#,
                       #"{"minLength": 2.0}"#] {
            #expect(JSONSchema.checkSchema(try JSONParser.parse(schema)) == nil, "\(schema)")
        }
    }

}
