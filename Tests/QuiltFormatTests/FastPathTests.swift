// The fast paths of manifest reading and writing, each checked against the general path it stands in for.
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltFormat

/// Everything an item turns into: its manifest line, its canonical (hashed) form, and the stored hash key order.
private func render(_ item: ManifestLine.Item) -> String {
    var out: [UInt8] = []
    switch item {
    case .entry(let entry):
        EntryStream.write(entry, to: &out)
        if let hash = entry.hash {
            CanonicalEntry.append(entry, hash: hash, to: &out)
            out.append(contentsOf: " valueFirst=\(hash.valueFirst)".utf8)
        }
    case .directory(let key, let meta):
        out.append(contentsOf: "dir ".utf8)
        EntryStream.writeDirectory(key: key, meta: meta, to: &out)
        JSONWriter.writeCanonicalForm(meta, to: &out)
    case .shardTrailer(let trailer):
        out.append(contentsOf: "trailer ".utf8)
        ManifestLine.appendShardTrailer(trailer, to: &out)
    case .header(let header):
        out.append(contentsOf: "header ".utf8)
        JSONWriter.writeManifestForm(.object(header), to: &out)
    }
    return String(decoding: out, as: UTF8.self)
}

/// The outcome of parsing a line: its rendering, or the error message.
private func outcome(_ line: String, _ parse: (UnsafeRawBufferPointer) throws -> ManifestLine.Item) -> String {
    Array(line.utf8).withUnsafeBytes { raw in
        do { return render(try parse(raw)) } catch let error as QuiltError { return "error: " + error.message } catch {
            return "error: \(error)"
        }
    }
}

@Suite struct EntryLineFastPathTests {
    static let hash = #"{"type": "sha2-256-chunked", "value": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}"#

    /// Lines the fast path must read itself, giving exactly what the general path gives.
    static let plainLines = [
        #"{"logical_key": "a/b.csv", "physical_keys": ["s3://b/a/b.csv"], "size": 12, "hash": \#(hash), "meta": {}}"#,
        #"{"logical_key":"a","physical_keys":["file:///a"],"size":0,"hash":\#(hash),"meta":{}}"#,
        // Any field order, extra fields at any depth, whitespace anywhere JSON allows it.
        #"{"meta": {"user_meta": {"z": 1, "a": [1.50, 1E5, -0, null, true]}}, "size": 7, "hash": \#(hash), "physical_keys": ["s3://b/k"], "logical_key": "k"}"#,
        #" { "extra": {"deep": [1, {"x": "y"}]}, "logical_key" : "k" , "physical_keys" : [ "s3://b/k" ] , "size" : 1 } "#,
        // Hash with value before type, another type, extra keys inside.
        #"{"logical_key": "k", "physical_keys": ["s3://b/k"], "size": 3, "hash": {"value": "abc", "type": "SHA256"}, "meta": {}}"#,
        #"{"logical_key": "k", "physical_keys": ["s3://b/k"], "size": 3, "hash": {"x": 1, "value": "abc", "type": "SHA256"}}"#,
        #"{"logical_key": "k", "physical_keys": ["s3://b/k"], "size": 3, "hash": {"type": "sha2-256-chunked-x", "value": "v"}}"#,
        // Missing meta, missing or null hash and size (computed later), null and falsy meta.
        #"{"logical_key": "k", "physical_keys": ["s3://b/k"]}"#,
        #"{"logical_key": "k", "physical_keys": ["s3://b/k"], "size": null, "hash": null, "meta": null}"#,
        #"{"logical_key": "k", "physical_keys": ["s3://b/k"], "size": 5, "meta": []}"#,
        #"{"logical_key": "k", "physical_keys": ["s3://b/k"], "size": 999999999999999999, "meta": ""}"#,
        // Escapes and Unicode in values.
        #"{"logical_key": "we ird/\u00fc+%.txt", "physical_keys": ["file:///we%20ird/%C3%BC%2B%25.txt"], "size": 1}"#,
        #"{"logical_key": "é/😀/\"q\"\\\t\u2028", "physical_keys": ["s3://b/\ud83d\ude00"], "size": 1, "meta": {"ü": "\u0000"}}"#,
        // Directory lines: no or empty physical keys.
        #"{"logical_key": "d/", "meta": {"x": 1}}"#,
        #"{"logical_key": "d/", "physical_keys": [], "meta": {"x": 1}}"#,
        #"{"logical_key": "d/", "physical_keys": null}"#,
        #"{"logical_key": "d/"}"#,
    ]

    /// Lines outside the fast path's plain forms (or invalid): the general path must decide, with its own errors.
    static let unusualLines = [
        #"{"logical_key": "k", "physical_keys": ["s3://b/k", "s3://b/other"], "size": 1}"#,
        #"{"logical_key": "k", "logical_key": "k2", "physical_keys": ["s3://b/k"], "size": 1}"#,
        #"{"logical_\u006bey": "k", "physical_keys": ["s3://b/k"], "size": 1}"#,
        #"{"logical_key": "k", "physical_keys": ["s3://b/k"], "size": -0}"#,
        #"{"logical_key": "k", "physical_keys": ["s3://b/k"], "size": 1000000000000000000000}"#,
        #"{"logical_key": "k", "physical_keys": ["s3://b/k"], "size": 1.0}"#,
        #"{"logical_key": "k", "physical_keys": ["s3://b/k"], "size": 1e3}"#,
        #"{"logical_key": "k", "physical_keys": ["s3://b/k"], "size": 012}"#,
        #"{"logical_key": "k", "physical_keys": ["s3://b/k"], "size": -3}"#,
        #"{"logical_key": "k", "physical_keys": ["s3://b/k"], "size": "3"}"#,
        #"{"logical_key": "k", "physical_keys": ["s3://b/k"], "hash": {"type": "SHA256"}}"#,
        #"{"logical_key": "k", "physical_keys": ["s3://b/k"], "hash": {"type": "SHA256", "value": 1}}"#,
        #"{"logical_key": "k", "physical_keys": ["s3://b/k"], "hash": {"type": "a", "value": "b", "type": "c"}}"#,
        #"{"logical_key": "k", "physical_keys": ["s3://b/k"], "hash": "abc"}"#,
        #"{"logical_key": "k", "physical_keys": "s3://b/k"}"#,
        #"{"logical_key": "k", "physical_keys": [1]}"#,
        #"{"logical_key": 1, "physical_keys": ["s3://b/k"]}"#,
        #"{"physical_keys": ["s3://b/k"], "size": 1}"#,
        #"{"logical_key": "k", "physical_keys": ["s3://b/k"], "meta": {"x": NaN}}"#,
        #"{"logical_key": "k", "physical_keys": ["s3://b/k"],}"#,
        #"{"logical_key": "k", "physical_keys": ["s3://b/k"]} x"#,
        #"{"logical_key": "k\x01", "physical_keys": ["s3://b/k"]}"#,
        #"["logical_key"]"#,
        #"{}"#,
        #"{"#,
    ]

    @Test(arguments: plainLines)
    func fastPathReadsPlainLines(line: String) throws {
        let fast = outcome(line) { raw in
            guard let item = ManifestLine.parseDirectly(raw)?.item else { throw ManifestError.empty }
            return item
        }
        let general = outcome(line) { try ManifestLine.parseInGeneral($0, lineNumber: 1, rules: .entryStream) }
        #expect(!general.hasPrefix("error"))
        #expect(fast == general)
    }

    @Test(arguments: plainLines + unusualLines)
    func parseLineEqualsGeneralPath(line: String) {
        let chosen = outcome(line) { try ManifestLine.parse($0, lineNumber: 1, rules: .entryStream) }
        let general = outcome(line) { try ManifestLine.parseInGeneral($0, lineNumber: 1, rules: .entryStream) }
        #expect(chosen == general)
    }

    @Test func invalidUTF8GoesToTheGeneralPath() {
        let line: [UInt8] = Array(#"{"logical_key": ""#.utf8) + [0xC3, 0x28] + Array(#"", "physical_keys": ["s3://b/k"]}"#.utf8)
        line.withUnsafeBytes { raw in
            #expect(ManifestLine.parseDirectly(raw)?.item == nil)
            #expect(throws: ManifestError.self) { try ManifestLine.parse(raw, lineNumber: 1, rules: .entryStream) }
        }
    }

    @Test func defaultHashTypeIsShared() throws {
        let line = Self.plainLines[0]
        let item = Array(line.utf8).withUnsafeBytes { ManifestLine.parseDirectly($0)?.item }
        guard case .entry(let entry)? = item else { Issue.record("no entry"); return }
        #expect(entry.hash?.type == HashType.sha2256Chunked.rawValue)
        #expect(entry.hash?.valueFirst == false)
    }
}

@Suite struct EntryStreamParserTests {
    /// Feeding the stream in blocks of any size gives the same items as parsing it whole.
    @Test(arguments: [1, 2, 7, 64, 1000])
    func blocksOfAnySize(blockSize: Int) throws {
        let lines = EntryLineFastPathTests.plainLines + ["", "  \r", #"{"logical_key": "last", "physical_keys": ["s3://b/l"]}"#]
        let text = Array(lines.joined(separator: "\n").utf8)  // the last line has no newline
        var whole: [String] = []
        try EntryStream.parse(text) { whole.append(render($0)) }
        #expect(whole.count == lines.count - 2)

        var parser = EntryStream.Parser()
        var pieces: [String] = []
        try text.withUnsafeBytes { raw in
            var start = 0
            while start < raw.count {
                let end = min(start + blockSize, raw.count)
                try parser.feed(UnsafeRawBufferPointer(rebasing: raw[start..<end])) { pieces.append(render($0)) }
                start = end
            }
        }
        try parser.finish { pieces.append(render($0)) }
        #expect(pieces == whole)
    }

    @Test func errorsNameTheLine() {
        let text = Array("{\"logical_key\": \"a\", \"physical_keys\": [\"s3://b/a\"]}\n\n{\"logical_key\": 1}\n".utf8)
        var parser = EntryStream.Parser()
        let error = #expect(throws: ManifestError.self) {
            try text.withUnsafeBytes { raw in
                try parser.feed(UnsafeRawBufferPointer(rebasing: raw[0..<30])) { _ in }
                try parser.feed(UnsafeRawBufferPointer(rebasing: raw[30...])) { _ in }
            }
        }
        #expect(error?.message == ManifestError.missingField(line: 3, field: "logical_key").message)
    }
}

@Suite struct TreeOrderFastPathTests {
    /// The definition: byte order with `/` below every other byte, one byte at a time.
    static func referencePrecedes(_ lhs: String, _ rhs: String) -> Bool {
        var l = lhs.utf8.makeIterator()
        var r = rhs.utf8.makeIterator()
        while true {
            guard let a = l.next() else { return r.next() != nil }
            guard let b = r.next() else { return false }
            if a != b {
                if a == UInt8(ascii: "/") { return true }
                if b == UInt8(ascii: "/") { return false }
                return a < b
            }
        }
    }

    @Test func precedesMatchesTheDefinition() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [String] = ["a", "b", "/", "-", ".", "0", "é", "😀", "\u{1}", "\u{7F}", "z", "aaaaaaa/"]
        var keys = ["", "a", "a/", "a/b", "a-c", "a.txt", "abcdefgh", "abcdefgh/", "abcdefgh-", "abcdefghi",
                    "abcdefgh12345678", "abcdefgh12345678/x", "abcdefgh1234567-"]
        for _ in 0..<400 {
            let length = Int.random(in: 0...24, using: &generator)
            keys.append((0..<length).map { _ in alphabet.randomElement(using: &generator)! }.joined())
        }
        for lhs in keys {
            for rhs in keys {
                #expect(LogicalKey.precedes(lhs, rhs) == Self.referencePrecedes(lhs, rhs), "\(lhs) vs \(rhs)")
            }
        }
    }

    @Test func sortNamesMatchesTheDefinition() {
        var generator = SystemRandomNumberGenerator()
        // Names of one directory: no '/', no NUL; shared prefixes longer and shorter than eight bytes.
        let alphabet: [String] = ["a", "b", "-", ".", "0", "é", "😀", "\u{1}", "\u{7F}", "z", "abcdefgh", "abcdefg"]
        var names = ["a", "a-c", "a.txt", "abcdefgh", "abcdefgh-", "abcdefghi", "abcdefgh12345678", "abcdefg", "b", "é"]
        for _ in 0..<300 {
            let length = Int.random(in: 1...6, using: &generator)
            names.append((0..<length).map { _ in alphabet.randomElement(using: &generator)! }.joined())
        }
        names = Array(Set(names)).shuffled(using: &generator)
        var sorted = names
        LogicalKey.sortNames(&sorted)
        #expect(sorted == names.sorted(by: Self.referencePrecedes))
        var one = ["x"], none: [String] = []
        LogicalKey.sortNames(&one)
        LogicalKey.sortNames(&none)
        #expect(one == ["x"] && none.isEmpty)
    }

    @Test func normalizeSortsAndPermutes() throws {
        let keys = ["b", "a-c", "a/b", "a.txt", "a/a/z", "é", "a/a-b"]
        var manifest = Manifest(header: JSONObject(), entries: keys.enumerated().map { i, key in
            ManifestEntry(logicalKey: key, physicalKey: "s3://b/\(i)", size: i, hash: nil)
        })
        try manifest.normalize()
        let expected = keys.sorted(by: Self.referencePrecedes)
        #expect(manifest.entries.map(\.logicalKey) == expected)
        // Each entry moved with its own fields.
        for entry in manifest.entries { #expect(entry.physicalKey == "s3://b/\(keys.firstIndex(of: entry.logicalKey)!)") }
    }

    @Test(arguments: [[Int](), [0], [1, 0], [2, 0, 1], [0, 2, 1, 3], [3, 4, 0, 1, 2, 5]])
    func permute(order: [Int]) {
        var elements = order.indices.map { "e\($0)" }
        var work = order
        Manifest.permute(&elements, by: &work)
        #expect(elements == order.map { "e\($0)" })
    }

    @Test func validateGivesTheFirstProblem() {
        let cases: [(String, String?)] = [
            ("a/b", nil), ("a", nil), ("a/.b", nil), ("..a/b..", nil), ("\u{600}/a", nil),
            ("", "empty"), ("a/", "ends with '/'"), ("/a", "empty path segment"), ("a//b", "empty path segment"),
            ("./a", "'.' or '..' segment"), ("a/..", "'.' or '..' segment"), ("a/../b", "'.' or '..' segment"),
            ("a\u{0}b", "contains NUL"), ("a\u{0}/./b", "'.' or '..' segment"),
        ]
        for (key, reason) in cases {
            var copy = key
            #expect(copy.withUTF8(LogicalKey.problem) == reason, "\(key)")
        }
    }
}

@Suite struct WriterFastPathTests {
    @Test(arguments: [0, 7, -1, 10, 99, 100, 1_234_567_890, Int.max, Int.min])
    func integers(value: Int) {
        var out: [UInt8] = []
        JSONWriter.writeInteger(value, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == String(value))
    }

    @Test func hashDictKeepsItsOrder() {
        for valueFirst in [false, true] {
            let hash = ObjectHash(type: "SHA256", value: "a\"b", valueFirst: valueFirst)
            var direct: [UInt8] = []
            ManifestLine.appendHash(hash, to: &direct)
            var general: [UInt8] = []
            JSONWriter.writeManifestForm(hash.json, to: &general)
            #expect(direct == general)
        }
    }

    /// Output crosses several write blocks; it must equal the lines written one by one.
    @Test func blockedOutputEqualsLineByLine() throws {
        var entries: [ManifestEntry] = []
        for i in 0..<12_000 {
            let key = "dir\(i % 7)/file-\(i)-é-\(String(repeating: "x", count: i % 90)).csv"
            let meta: JSONValue = i % 3 == 0 ? .object(JSONObject([("user_meta", .object(JSONObject([("n", .int(i))])))]))
                                             : .object(JSONObject())
            entries.append(ManifestEntry(logicalKey: key, physicalKey: "s3://b/\(i)", size: i,
                                         hash: ObjectHash(type: "SHA256", value: String(i), valueFirst: i % 2 == 0),
                                         meta: meta))
        }
        var manifest = Manifest(header: JSONObject([("version", .string("v0")), ("message", .null)]), entries: entries)
        var blocks = 0
        var written: [UInt8] = []
        let top = try ManifestWriter().write(&manifest) { written.append(contentsOf: $0); blocks += 1 }
        #expect(blocks > 1)

        var expected = Array(#"{"version": "v0", "message": null}"#.utf8) + [0x0A]
        var canonical = Array(#"{"message":null,"version":"v0"}"#.utf8)
        for entry in manifest.entries {
            EntryStream.write(entry, to: &expected)
            CanonicalEntry.append(entry, hash: entry.hash!, to: &canonical)
        }
        #expect(written == expected)
        #expect(top == Hex.encode(SHA256Hasher.digest(canonical)))
    }
}

@Suite struct FileURLParsingTests {
    @Test(arguments: [
        ("file:///home/ana/data/we%20ird/%C3%BC%2B%25.txt", "/home/ana/data/we ird/ü+%.txt"),
        ("file://localhost/a/b", "/a/b"),
        ("file:///a/b#fragment", "/a/b"),
        ("file:///é/😀 raw+", "/é/😀 raw+"),
        ("file:///a/\u{301}b", "/a/\u{301}b"),
        ("file:///bad%zz%4", "/bad%zz%4"),
    ])
    func localPaths(url: String, path: String) throws {
        #expect(try PhysicalKey(url: url) == .local(path: path))
    }

    @Test(arguments: ["file://host/a", "file:///a?x=1", "file://", "file://localhost", "ftp:///a", "File:///a"])
    func rejected(url: String) {
        #expect(throws: ManifestError.self) { try PhysicalKey(url: url) }
    }

    @Test func hashingUsesThePrefetchedImplementation() {
        // The vectors of format.md §3, through both the streaming and the one-shot interface.
        let hasher = SHA256Hasher()
        hasher.update(Array("hello\n".utf8))
        let inner = hasher.finalize()
        #expect(Base64.encode(SHA256Hasher.digest(inner)) == "7LZbuY+dkFtwRYmGw5/LrXcV5fL8w7Hwd2fXyD4kOMw=")
        #expect(Base64.encode(SHA256Hasher.digest([UInt8]())) == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
    }
}

@Suite struct ScanAndSmallFileHashTests {
    /// The one-shot path for files that fit one buffer gives what the streaming hasher gives.
    @Test(arguments: [0, 1, 6, 4096, 65_537])
    func smallFileHashEqualsStreaming(size: Int) throws {
        let dir = TemporaryDirectory()
        let text = String((0..<size).map { Character(UnicodeScalar(UInt8(truncatingIfNeeded: $0 % 91 + 32))) })
        let path = dir.file("f", text)
        let (hash, hashedSize) = try FileHasher.hash(path: path)
        let streaming = StreamingHasher(type: .sha2256Chunked, expectedSize: size)
        Array(text.utf8).withUnsafeBytes { streaming.update($0) }
        #expect(hashedSize == size)
        #expect(hash.value == streaming.finalize().value)
        #expect(hash.type == HashType.sha2256Chunked.rawValue)
    }
}

@Suite struct EntryStreamHeaderTests {
    /// `quilt-cat-manifest REV | quilt-fetch-blob` works: a manifest's header line is not an entry.
    @Test func aManifestHeaderFirstIsRecognisedByBothPaths() throws {
        let text = "{\"version\": \"v0\", \"message\": \"m\"}\n{\"logical_key\": \"a\", \"physical_keys\": [\"file:///a\"], \"size\": 1, \"hash\": null, \"meta\": {}}\n"
        var items: [ManifestLine.Item] = []
        try EntryStream.parse(Array(text.utf8)) { items.append($0) }
        guard items.count == 2, case .header = items[0], case .entry(let entry) = items[1] else {
            Issue.record("unexpected items \(items)")
            return
        }
        #expect(entry.logicalKey == "a")
        // Not on a later line: there a line without a logical key is an error.
        #expect(throws: ManifestError.self) {
            try EntryStream.parse(Array((text + "{\"version\": \"v0\"}\n").utf8)) { _ in }
        }
    }
}

@Suite struct StoredLineHashTests {
    /// The hash read in place from a stored line (`ManifestStream.nextRaw`, then `ManifestLine.hash(of:)`) is the
    /// hash the parsed line has, in the writer's form or not, escaped or not, in either key order.
    @Test func hashOfAStoredLineIsTheParsedOne() throws {
        let hashes = [ObjectHash(type: "sha2-256-chunked", value: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
                      ObjectHash(type: "SHA256", value: "abc", valueFirst: true),
                      ObjectHash(type: "sha2-256-chunked", value: "a\"b\\c"),
                      ObjectHash(type: "CRC64NVME", value: "é")]
        var text = Array(#"{"version": "v0", "message": null}"#.utf8) + [0x0A]
        for (i, hash) in hashes.enumerated() {
            ManifestLine.appendEntry(ManifestEntry(logicalKey: "k\(i)", physicalKey: "s3://b/k\(i)", size: i, hash: hash), to: &text)
            text.append(0x0A)
        }
        // Not the writer's form: parsed.
        text += Array(#"{"logical_key":"z","physical_keys":["s3://b/z"],"size":1,"hash":{"value":"v","type":"SHA256"},"meta":{}}"#.utf8)
        text.append(0x0A)
        var offset = 0
        let stream = try ManifestStream(computeTopHash: true) { buffer in
            let n = min(buffer.count, text.count - offset)
            text.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
            offset += n
            return n
        }
        var found: [ObjectHash?] = []
        var inPlace = 0
        while let raw = try stream.nextRaw() {
            if raw.hashBytes != nil { inPlace += 1 }
            let parsed = try ManifestLine.parse(raw.line, lineNumber: 0, rules: .manifest)
            guard case .entry(let entry) = parsed else { Issue.record("not an entry"); continue }
            let hash = try ManifestLine.hash(of: raw)
            #expect(hash == entry.hash)
            #expect(hash?.valueFirst == entry.hash?.valueFirst)
            found.append(hash)
        }
        #expect(found.count == hashes.count + 1)
        #expect(inPlace == 3)  // the escaped value and the other form are parsed
        #expect(found.first??.type == HashType.sha2256Chunked.rawValue)
    }
}
