// YAMLDocument reads YAML as PyYAML's safe_load does (values checked against PyYAML 6.0 by hand).
import Testing
import QuiltFormat
@testable import QuiltRegistry

@Suite struct YAMLDocumentTests {
    private func value(_ yaml: String) throws -> JSONValue? {
        try YAMLDocument.load(yaml).objectValue?["a"]
    }

    @Test func scalarsResolveAsInYAML11() throws {
        let cases: [(String, JSONValue)] = [
            ("a: yes", .bool(true)), ("a: On", .bool(true)), ("a: off", .bool(false)), ("a: \"false\"", .string("false")),
            ("a: 1e5", .string("1e5")), ("a: 1.0e+5", .float(100000)), ("a: 0o17", .string("0o17")), ("a: 017", .integer("15")),
            ("a: 1_000", .integer("1000")), ("a: 0x1F", .integer("31")), ("a: 1:30", .integer("90")), ("a: .5", .float(0.5)),
            ("a: ~", .null), ("a:", .null), ("a: -0", .integer("0")), ("a: +12", .integer("12")), ("a: 1.", .float(1)),
            ("a: 123456789012345678901234567890", .integer("123456789012345678901234567890")),
            ("a: 2024-01-02", .string("2024-01-02")), ("a: '1.0'", .string("1.0")), ("a: !!str 12", .string("12")),
        ]
        for (yaml, expected) in cases {
            #expect(try value(yaml) == expected, "\(yaml)")
        }
    }

    @Test func anchorsMergesFoldedAndFlowStyles() throws {
        let document = try YAMLDocument.load("""
            # a comment
            base: &b {x: 1, y: 2}
            d:
              <<: *b
              y: 3
            f: >
              folded
              text
            l: [1, two, {k: v}]
            """)
        let d = try #require(document.objectValue?["d"]?.objectValue)
        #expect(d.keys == ["x", "y"])
        #expect(d["y"] == .integer("3"))
        #expect(document.objectValue?["f"] == .string("folded text\n"))
        #expect(document.objectValue?["l"] == .array([.integer("1"), .string("two"), .object(JSONObject([("k", .string("v"))]))]))
        #expect(document.objectValue?.keys == ["base", "d", "f", "l"])
    }

    @Test func emptyDocumentIsNullAndBrokenYAMLFails() throws {
        #expect(try YAMLDocument.load("") == .null)
        #expect(throws: YAMLDocument.Failure.self) { try YAMLDocument.load("a: [unclosed") }
    }
}

@Suite struct YAMLDuplicateKeyTests {
    /// PyYAML keeps a repeated key's last value; libyaml (through Yams) refuses the document. Refusing is the safe
    /// side of the difference (workflows(7), DIFFERENCES FROM QUILT3): the reason names the key.
    @Test func repeatedKeyIsRefusedByName() throws {
        do {
            _ = try YAMLDocument.load("version: \"1\"\nother: 2\nversion: \"9\"\n")
            Issue.record("a repeated key was accepted")
        } catch {
            #expect(error.reason.contains("version"))
        }
    }
}
