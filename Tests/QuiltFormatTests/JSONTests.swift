// The JSON value type, parser and both writers against Python's json module's exact output.
import Testing
@testable import QuiltSupport
@testable import QuiltFormat

@Suite struct PythonFloatReprTests {
    @Test(arguments: [
        (1e-05, "1e-05"), (1e+16, "1e+16"), (1e15, "1000000000000000.0"), (0.1 + 0.2, "0.30000000000000004"),
        (-0.0, "-0.0"), (0.0, "0.0"), (2.5, "2.5"), (1.5e-07, "1.5e-07"), (100000.0, "100000.0"), (1.0, "1.0"),
        (0.0001, "0.0001"), (0.00001234, "1.234e-05"), (1.2345678901234568e+17, "1.2345678901234568e+17"),
        (5e-324, "5e-324"), (1.7976931348623157e+308, "1.7976931348623157e+308"), (123.456, "123.456"),
        (-1e100, "-1e+100"), (9007199254740993.0, "9007199254740992.0"), (1e22, "1e+22"), (0.5, "0.5"),
        (1234567890123456.7, "1234567890123456.8"), (12345678901234567.0, "1.2345678901234568e+16"),
    ])
    func repr(value: Double, expected: String) {
        #expect(pythonFloatRepr(value) == expected)
    }
}

@Suite struct JSONParserTests {
    @Test func keepsIntegerFloatDistinctionAndBigIntegers() throws {
        let value = try JSONParser.parse(#"[1, 1.0, 2.50, 1E5, -0, -0.0, 123456789012345678901234567890]"#)
        #expect(JSONWriter.canonicalForm(value) == "[1,1.0,2.5,100000.0,0,-0.0,123456789012345678901234567890]")
    }

    @Test func rejectsNonFiniteAndMalformed() {
        for text in ["NaN", "Infinity", "-Infinity", "1e400", "[1,]", "{\"a\":1,}", "01", "1.", "\"\\ud800\"", "\"a\u{1}\"",
                     "{\"a\" 1}", "", "[", "\"abc", "tru", "1 2", "\"\\x\""] {
            #expect(throws: JSONError.self, "\(text)") { try JSONParser.parse(text) }
        }
    }

    @Test func duplicateKeysKeepFirstPositionAndLastValue() throws {
        let value = try JSONParser.parse(#"{"b": 1, "a": 2, "b": 3}"#)
        #expect(JSONWriter.manifestForm(value) == #"{"b": 3, "a": 2}"#)
    }

    @Test func keysThatAreCanonicallyEquivalentStayDistinct() throws {
        let value = try JSONParser.parse("{\"\u{E9}\": 1, \"e\u{301}\": 2}")
        #expect(value.objectValue?.count == 2)
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try JSONParser.parse(#""\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00""#)
        #expect(value == .string("\"\\/\u{8}\u{c}\n\r\t\u{e9}\u{1F600}"))
    }

    @Test func rejectsDeepNesting() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONError.self) { try JSONParser.parse(deep) }
    }
}

@Suite struct JSONWriterTests {
    let sample = JSONValue.object(JSONObject([
        ("z", .int(1)), ("a", .string("\u{E9}\u{1F600}\u{7F}\u{2028}/\"\\\n\u{1}")), ("f", .float(1.0)), ("n", .null),
        ("l", .array([.bool(true), .bool(false), .object(JSONObject()), .array([])])),
    ]))

    @Test func manifestFormIsPythonEnsureAsciiFalse() {
        #expect(JSONWriter.manifestForm(sample)
            == "{\"z\": 1, \"a\": \"\u{E9}\u{1F600}\u{7F}\u{2028}/\\\"\\\\\\n\\u0001\", \"f\": 1.0, \"n\": null, \"l\": [true, false, {}, []]}")
    }

    @Test func canonicalFormIsSortedCompactAscii() {
        #expect(JSONWriter.canonicalForm(sample)
            == #"{"a":"\u00e9\ud83d\ude00\u007f\u2028/\"\\\n\u0001","f":1.0,"l":[true,false,{},[]],"n":null,"z":1}"#)
    }

    @Test func canonicalKeysSortByCodePointNotByUnicodeCollation() {
        let value = JSONValue.object(JSONObject([("\u{E9}", .int(1)), ("z", .int(2)), ("\u{1F600}", .int(3)), ("\u{FF61}", .int(4)), ("Z", .int(5))]))
        #expect(JSONWriter.canonicalForm(value) == #"{"Z":5,"z":2,"\u00e9":1,"\uff61":4,"\ud83d\ude00":3}"#)
    }
}
