// A bounded, seeded fuzz of the JSON parser, the manifest reader and the entry-stream reader: mutated valid inputs
// must either parse or throw the typed error (never trap), and whatever parses must survive a write-and-reparse.
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltFormat

enum FuzzCorpus {
    static let hash64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

    static let manifests: [String] = [
        """
        {"version": "v0", "message": "first cut", "user_meta": {"source": "lab", "n": [1, 2.5, -0, 1e-07, null, true]}}
        {"logical_key": "a.txt", "physical_keys": ["file:///tmp/data/a.txt"], "size": 3, "hash": {"type": "sha2-256-chunked", "value": "\(hash64)"}, "meta": {}}
        {"logical_key": "d/e/f.csv", "physical_keys": ["s3://bucket/ns/pkg/d/e/f.csv?versionId=abc"], "size": 123456789, "hash": {"type": "SHA256", "value": "\(hash64)"}, "meta": {"user_meta": {"k": "\\u00e9\\ud83d\\ude00"}}}
        {"logical_key": "z", "physical_keys": ["file:///tmp/z"], "size": 0, "hash": {"type": "CRC64NVME", "value": "AAAAAAAAAAA="}, "meta": {}}
        """,
        """
        {"version": "v0", "message": null}
        {"logical_key": "d/", "meta": {"dir": true}}
        {"logical_key": "d/x", "physical_keys": ["file:///x"], "size": 1, "hash": {"value": "\(hash64)", "type": "sha2-256-chunked"}, "meta": null}
        """,
        """
        {"version":"v0","message":"compact","workflow":{"id":null,"config":"s3://b/.quilt/workflows/config.yml"}}
        {"logical_key":"a/b/c","physical_keys":["file:///a%20b"],"size":5,"hash":{"type":"sha2-256-chunked","value":"\(hash64)"},"meta":{"x":[{"y":{}}]}}
        """,
    ]

    static let json: [String] = [
        #"{"a": 1, "b": [true, false, null], "c": {"d": "e\n\t\"\\\/"}, "f": -12.5e3, "g": 123456789012345678901234567890}"#,
        #"[0, -0, 0.0, -0.0, 1e308, 5e-324, 1E+2, 2e-2, "\u0041\u00e9\ud83d\ude00"]"#,
        #""just a string""#,
        #"  {"nested": [[[[{"deep": [1, [2, [3]]]}]]]]}  "#,
        #"{"dup": 1, "dup": 2, "other": {}}"#,
        "123", "null", "[]", "{}",
    ]
}

struct Mutator {
    var rng: SeededGenerator

    mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(max(1, n))) }

    static let interesting: [[UInt8]] = [
        Array("\\ud800".utf8), Array("\\udc00\\ud800".utf8), Array("\\u0000".utf8), [0], [0xFF], [0xC0, 0x80],
        [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], Array("1e400".utf8), Array("-1e400".utf8),
        Array("-0".utf8), Array("123456789012345678901234567890123456789".utf8), Array("NaN".utf8),
        Array("Infinity".utf8), Array("\"".utf8), Array("\\".utf8), Array("{".utf8), Array("}".utf8),
        Array("[".utf8), Array("]".utf8), Array(",".utf8), Array(":".utf8), Array("\n".utf8), Array("\r".utf8),
        Array("null".utf8), Array("\"logical_key\": \"../x\"".utf8), Array("\"size\": -1".utf8),
        Array("\"size\": 1.5".utf8), Array("\"size\": 99999999999999999999999".utf8), Array("\"hash\": 7".utf8),
    ]

    mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        for _ in 0...int(3) {
            switch int(10) {
            case 0 where !bytes.isEmpty:  // bit flip
                let i = int(bytes.count); bytes[i] ^= UInt8(1) << UInt8(int(8))
            case 1 where !bytes.isEmpty:  // truncate
                bytes.removeSubrange(int(bytes.count)...)
            case 2:  // random byte insertion
                bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: int(bytes.count + 1))
            case 3:  // interesting token
                bytes.insert(contentsOf: Self.interesting[int(Self.interesting.count)], at: int(bytes.count + 1))
            case 4, 5:  // duplicate or delete a line
                var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
                let i = int(lines.count)
                if int(2) == 0 { lines.insert(lines[i], at: int(lines.count + 1)) } else if lines.count > 1 { lines.remove(at: i) }
                bytes = Array(lines.joined(separator: [0x0A]))
            case 6:  // deep nesting
                let depth = [10, 511, 513, 2000][int(4)]
                let open: UInt8 = int(2) == 0 ? UInt8(ascii: "[") : UInt8(ascii: "{")
                let at = int(bytes.count + 1)
                bytes.insert(contentsOf: [UInt8](repeating: open, count: depth), at: at)
            case 7 where !bytes.isEmpty:  // overwrite a byte with a structural one
                let structural = Array("{}[]\",:\\0-.eE \n".utf8)
                bytes[int(bytes.count)] = structural[int(structural.count)]
            case 8 where bytes.count > 2:  // swap a range with another part
                let a = int(bytes.count), b = int(bytes.count)
                bytes.swapAt(a, b)
            default:  // repeat a slice (long lines, long keys)
                if !bytes.isEmpty {
                    let s = int(bytes.count), e = min(bytes.count, s + 1 + int(40))
                    let slice = bytes[s..<e]
                    for _ in 0..<int(50) { bytes.insert(contentsOf: slice, at: s) }
                }
            }
        }
        return bytes
    }
}

@Suite struct FuzzTests {
    static let budget = Duration.seconds(3)

    @Test func jsonParserNeverTrapsAndRoundTrips() {
        var mutator = Mutator(rng: SeededGenerator(seed: 0x5155_494C_5400_0001))
        let corpus = FuzzCorpus.json.map { Array($0.utf8) } + FuzzCorpus.manifests.flatMap { $0.split(separator: "\n").map { Array($0.utf8) } }
        let clock = ContinuousClock(), start = clock.now
        var parsed = 0, rejected = 0, iterations = 0
        while iterations < 30_000 && clock.now - start < Self.budget {
            iterations += 1
            let input = mutator.mutate(corpus[mutator.int(corpus.count)])
            let value: JSONValue
            do { value = try JSONParser.parse(input) } catch {
                rejected += 1
                _ = error.message  // the typed error has a message
                continue
            }
            parsed += 1
            for text in [JSONWriter.manifestForm(value), JSONWriter.canonicalForm(value)] {
                do {
                    let again = try JSONParser.parse(text)
                    #expect(again == value, "round trip changed the value of \(String(decoding: input, as: UTF8.self).prefix(200))")
                    // Writing is deterministic: the re-parsed value writes the same canonical text.
                    #expect(JSONWriter.canonicalForm(again) == JSONWriter.canonicalForm(value))
                } catch {
                    Issue.record("re-parse failed (\(error.message)) for \(text.prefix(200))")
                }
            }
        }
        #expect(parsed > 0 && rejected > 0, "the fuzz must exercise both outcomes: \(parsed) parsed, \(rejected) rejected")
        print("json fuzz: \(iterations) inputs, \(parsed) parsed, \(rejected) rejected")
    }

    @Test func manifestReaderNeverTrapsAndRoundTrips() {
        var mutator = Mutator(rng: SeededGenerator(seed: 0x5155_494C_5400_0002))
        let corpus = FuzzCorpus.manifests.map { Array($0.utf8) }
        for text in corpus { #expect(throws: Never.self) { try Manifest(parsing: text) } }
        let clock = ContinuousClock(), start = clock.now
        var parsed = 0, rejected = 0, iterations = 0
        while iterations < 10_000 && clock.now - start < Self.budget {
            iterations += 1
            let input = mutator.mutate(corpus[mutator.int(corpus.count)])
            var manifest: Manifest
            do { manifest = try Manifest(parsing: input) } catch {
                rejected += 1
                _ = error.message
                continue
            }
            parsed += 1
            let writer = ManifestWriter(maxRecordSize: Int.max)
            let first: (bytes: [UInt8], topHash: String)
            do { first = try writer.serialize(&manifest) } catch {
                // Only a typed manifest or hash error may stop a parsed manifest from being written.
                #expect(error is ManifestError || error is HashError, "serialize threw \(error)")
                continue
            }
            do {
                var again = try Manifest(parsing: first.bytes)
                #expect(again.header == manifest.header)
                #expect(again.entries == manifest.entries)
                let second = try writer.serialize(&again)
                #expect(second.bytes == first.bytes, "re-serialisation differs")
                #expect(second.topHash == first.topHash)
            } catch {
                Issue.record("a written manifest does not re-read: \(error)\n\(String(decoding: first.bytes, as: UTF8.self).prefix(400))")
            }
        }
        #expect(parsed > 0 && rejected > 0, "\(parsed) parsed, \(rejected) rejected")
        print("manifest fuzz: \(iterations) inputs, \(parsed) parsed, \(rejected) rejected")
    }

    @Test func entryStreamNeverTrapsAndRoundTrips() {
        var mutator = Mutator(rng: SeededGenerator(seed: 0x5155_494C_5400_0003))
        let corpus = FuzzCorpus.manifests.map { Array($0.utf8) }
        let clock = ContinuousClock(), start = clock.now
        var parsed = 0, rejected = 0, iterations = 0
        while iterations < 10_000 && clock.now - start < Self.budget {
            iterations += 1
            let input = mutator.mutate(corpus[mutator.int(corpus.count)])
            var items: [ManifestLine.Item] = []
            do { try EntryStream.parse(input) { items.append($0) } } catch {
                rejected += 1
                #expect(error is ManifestError, "EntryStream.parse threw an untyped error: \(error)")
                continue
            }
            parsed += 1
            for item in items {
                guard case .entry(let entry) = item, entry.size >= 0 else { continue }
                var out: [UInt8] = []
                EntryStream.write(entry, to: &out)
                if out.last == 0x0A { out.removeLast() }
                do {
                    let again = try out.withUnsafeBytes { raw in try ManifestLine.parse(raw, lineNumber: 1, rules: .entryStream) }
                    guard case .entry(let back) = again else { Issue.record("an entry re-read as something else"); continue }
                    #expect(back == entry)
                } catch {
                    Issue.record("a written entry does not re-read: \(error)\n\(String(decoding: out, as: UTF8.self).prefix(300))")
                }
            }
        }
        #expect(parsed > 0 && rejected > 0, "\(parsed) parsed, \(rejected) rejected")
        print("entry-stream fuzz: \(iterations) inputs, \(parsed) parsed, \(rejected) rejected")
    }
}
