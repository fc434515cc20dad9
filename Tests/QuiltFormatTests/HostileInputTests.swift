// Hostile manifests, JSON and package names: each is refused with the expected typed error, never a trap.
import Testing
@testable import QuiltSupport
@testable import QuiltFormat
#if canImport(Glibc)
import Glibc
#endif

private let hash64 = String(repeating: "ab", count: 32)
private let header = #"{"version": "v0", "message": "m"}"#

private func entryLine(key: String = #""a""#, size: String = "1", hash: String? = nil, meta: String = "{}") -> String {
    let h = hash ?? #"{"type": "sha2-256-chunked", "value": "\#(hash64)"}"#
    return #"{"logical_key": \#(key), "physical_keys": ["file:///x"], "size": \#(size), "hash": \#(h), "meta": \#(meta)}"#
}

private func read(_ lines: [String]) throws(ManifestError) -> Manifest {
    try Manifest(parsing: Array(lines.joined(separator: "\n").utf8))
}

@Suite struct HostilePackageNameTests {
    @Test(arguments: ["", "a", "a/", "/b", "a/b/c", "../b", "a/..", "a b/c", "a/b\n", "a/b\u{0}", "a\\b", "a/b.c",
                      ".quilt/packages", "a//b"])
    func refused(name: String) {
        do {
            try PackageName.validate(name)
            Issue.record("accepted package name \(name.debugDescription)")
        } catch {
            guard case .invalidPackageName = error else { Issue.record("wrong error \(error)"); return }
        }
    }
}

@Suite struct HostileJSONTests {
    @Test func deepNestingIsRefusedNotAStackOverflow() {
        for open in ["[", "{\"a\":"] {
            let text = String(repeating: open, count: 10_000) + "1"
            #expect(throws: JSONError.self) { try JSONParser.parse(text) }
        }
        let ok = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: Never.self) { try JSONParser.parse(ok) }
    }

    @Test func hugeNumbers() throws {
        // 1e400 overflows a double: Python reads it as inf, which the format cannot hold; refused.
        #expect(throws: JSONError.self) { try JSONParser.parse("1e400") }
        #expect(throws: JSONError.self) { try JSONParser.parse("[-1e400]") }
        #expect(throws: JSONError.self) { try JSONParser.parse("NaN") }
        #expect(throws: JSONError.self) { try JSONParser.parse("-Infinity") }
        // Big integers are kept digit for digit.
        let big = String(repeating: "9", count: 400)
        #expect(try JSONParser.parse(big) == .integer(big))
    }

    @Test func negativeZero() throws {
        let v = try JSONParser.parse("[-0, -0.0]")
        #expect(JSONWriter.manifestForm(v) == "[0, -0.0]")  // Python: json.dumps(json.loads("[-0, -0.0]"))
    }

    @Test func duplicateKeysKeepTheLastValue() throws {
        let v = try JSONParser.parse(#"{"a": 1, "b": 2, "a": 3}"#)
        #expect(JSONWriter.manifestForm(v) == #"{"a": 3, "b": 2}"#)  // as Python's dict
    }

    @Test func invalidUTF8AndControlCharacters() {
        #expect(throws: JSONError.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
        #expect(throws: JSONError.self) { try JSONParser.parse([0x22, 0xC0, 0x80, 0x22]) }  // overlong NUL
        #expect(throws: JSONError.self) { try JSONParser.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }  // encoded surrogate
        #expect(throws: JSONError.self) { try JSONParser.parse([0x22, 0x00, 0x22]) }  // raw NUL in a string
        #expect(throws: JSONError.self) { try JSONParser.parse([0x22, 0x0A, 0x22]) }  // raw newline
        #expect(throws: JSONError.self) { try JSONParser.parse("\"abc") }
        #expect(throws: JSONError.self) { try JSONParser.parse("") }
        #expect(throws: JSONError.self) { try JSONParser.parse("{} {}") }
    }

    @Test func loneSurrogatesNeverTrap() {
        // Python accepts lone surrogates; a Swift String cannot hold one. Either a typed error or a value, not a trap.
        for text in [#""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, #""\ud83d""#, #"{"\udfff": 1}"#] {
            do { _ = try JSONParser.parse(text) } catch { _ = error.message }
        }
        // The escaped NUL is a valid JSON string, but not a valid logical key.
        #expect(throws: Never.self) { try JSONParser.parse(#""a\u0000b""#) }
    }
}

@Suite struct HostileManifestTests {
    private func expectLineError(_ lines: [String], line: Int? = nil, _ comment: Comment? = nil,
                                 sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try read(lines)
            Issue.record("accepted: \(lines.joined(separator: "\\n").prefix(300))", sourceLocation: sourceLocation)
        } catch {
            switch error {
            case .invalidLine(let l, _), .missingField(let l, _):
                if let line { #expect(l == line, sourceLocation: sourceLocation) }
            case .invalidMessage, .empty, .duplicateLogicalKey, .logicalKeyCollision, .recordTooLarge, .invalidLogicalKey: break
            default: Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func headerMustBeAnObject() {
        for h in ["[]", "1", "\"v0\"", "null", "true"] { expectLineError([h, entryLine()], line: 1) }
        expectLineError([#"{"version": "v0", "message": 5}"#])
        expectLineError([])
        expectLineError([""])
        expectLineError([header, "", entryLine()], line: 2)
    }

    @Test func sizeMustBeANonNegativeInteger() {
        for size in ["-1", "1.5", "1e3", "\"1\"", "null", "99999999999999999999999", "-0.0", "true"] {
            expectLineError([header, entryLine(size: size)], line: 2, "size \(size)")
        }
    }

    @Test func hashShapes() throws {
        for h in ["7", "\"abc\"", "[]", #"{"type": "SHA256"}"#, #"{"value": "x"}"#, #"{"type": 1, "value": "x"}"#] {
            expectLineError([header, entryLine(hash: h)], line: 2, "hash \(h)")
        }
        // An unknown hash type reads (quilt3 reads it too) but cannot be verified or installed.
        let m = try read([header, entryLine(hash: #"{"type": "MD5", "value": "abc"}"#)])
        #expect(m.entries[0].hash?.hashType == nil)
    }

    @Test func duplicateAndCollidingKeys() {
        expectLineError([header, entryLine(key: "\"a\""), entryLine(key: "\"a\"")])
        expectLineError([header, entryLine(key: "\"a\""), entryLine(key: "\"a/b\"")])
    }

    @Test func missingFieldsAndWrongTypes() {
        expectLineError([header, #"{"physical_keys": ["file:///x"], "size": 1, "hash": null, "meta": {}}"#], line: 2)
        expectLineError([header, #"{"logical_key": 5, "physical_keys": ["file:///x"], "size": 1}"#], line: 2)
        expectLineError([header, #"{"logical_key": "a", "physical_keys": "file:///x", "size": 1, "hash": null, "meta": {}}"#], line: 2)
        expectLineError([header, #"{"logical_key": "a", "physical_keys": [5], "size": 1, "hash": null, "meta": {}}"#], line: 2)
        expectLineError([header, #"{"logical_key": "a", "physical_keys": ["file:///x"], "hash": null, "meta": {}}"#], line: 2)
        expectLineError([header, "[1, 2]"], line: 2)
        expectLineError([header, entryLine() + " trailing"], line: 2)
    }

    @Test func deepMetadataAndHugeLines() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        expectLineError([header, entryLine(meta: #"{"x": \#(deep)}"#)], line: 2)
        expectLineError([#"{"version": "v0", "user_meta": \#(deep)}"#], line: 1)
    }

    @Test func writerRefusesRecordsOverTheLimit() throws {
        let big = String(repeating: "x", count: 2_000)
        var manifest = try read([header, entryLine(meta: #"{"user_meta": {"k": "\#(big)"}}"#)])
        let error = try #require(throws: ManifestError.self) { try ManifestWriter(maxRecordSize: 1_000).serialize(&manifest) }
        if case .recordTooLarge = error {} else { Issue.record("wrong error \(error)") }
        #expect(throws: Never.self) { try ManifestWriter(maxRecordSize: 1_000_000).serialize(&manifest) }
    }

    @Test func readerToleratesAManifestLineLongerThanTheWriteLimit() throws {
        // A stored manifest written with a raised QUILT_MANIFEST_MAX_RECORD_SIZE must stay readable.
        let big = String(repeating: "y", count: 1_200_000)
        let m = try read([header, entryLine(meta: #"{"user_meta": {"k": "\#(big)"}}"#)])
        #expect(m.entries.count == 1)
    }

    @Test func entryStreamRefusesTheSameShapes() {
        for line in [entryLine(size: "-1"), entryLine(hash: "7"), "[]", #"{"physical_keys": ["file:///x"]}"#, "{"] {
            #expect(throws: ManifestError.self) { try EntryStream.parse(Array(line.utf8)) { _ in } }
        }
    }
}
