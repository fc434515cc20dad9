// Issue 26 in the registry layer: shard parts checked against their trailers and as a set; and seeded fuzzes of
// bundles (header, manifest and tar fields at the edges of 64 bits, hostile keys), YAML configs (aliases, merges,
// nesting) and option values. Every input ends in a value or a typed error: no trap, no run over its bound.
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltFormat
@testable import QuiltArchive
@testable import QuiltRegistry
#if canImport(Glibc)
import Glibc
#endif

private let hash64 = String(repeating: "cd", count: 32)

private func entry(_ key: String, size: Int = 1) -> ManifestEntry {
    ManifestEntry(logicalKey: key, physicalKey: "file:///data/\(key)", size: size, hash: ObjectHash(type: "SHA256", value: hash64, valueFirst: false))
}

/// The lines a `--shard` program writes for `keys` of `shard`.
private func part(_ keys: [String], _ shard: Shard) -> [UInt8] {
    let writer = ShardStreamWriter()
    var out: [UInt8] = []
    for key in keys where shard.contains(key) { writer.append(.entry(entry(key)), to: &out) }
    writer.appendTrailer(shard, to: &out)
    return out
}

private func check(_ parts: [(String, [UInt8])]) throws {
    let check = ShardPartCheck(names: parts.map(\.0))
    let spool = EntrySpool(temporaryDirectory: "/tmp")
    let inputs = parts.map { name, bytes in EntryStream.Input(name: name) { feed in try bytes.withUnsafeBytes { try feed($0) } } }
    _ = try spool.add(entryStreams: inputs, observer: check) { _ in }
    try check.finish()
}

private func peakResidentMiB() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss / 1024
}

@Suite struct ShardPartTests {
    let keys = (0..<200).map { "dir\($0 % 7)/file-\($0).csv" }

    func parts(_ n: Int = 4) throws -> [(String, [UInt8])] {
        try (0..<n).map { ("part-\($0)", part(keys, try Shard(index: $0, count: n))) }
    }

    @Test func aWholeSetPassesAndPlainStreamsAreNotParts() throws {
        try check(try parts())
        try check(try parts(1))
        // No trailer anywhere: plain entry streams, as before.
        var plain: [UInt8] = []
        for key in keys { EntryStream.write(entry(key), to: &plain) }
        try check([("a", plain)])
    }

    @Test func eachWayAPartCanBeWrongIsRefusedNamingIt() throws {
        let good = try parts()
        func refused(_ parts: [(String, [UInt8])], _ matches: (ShardError) -> Bool, sourceLocation: SourceLocation = #_sourceLocation) {
            do {
                try check(parts)
                Issue.record("accepted", sourceLocation: sourceLocation)
            } catch let error as ShardError {
                #expect(matches(error), "\(error.message)", sourceLocation: sourceLocation)
                #expect(error.kind == .badInput, sourceLocation: sourceLocation)
            } catch {
                Issue.record("wrong error \(error)", sourceLocation: sourceLocation)
            }
        }
        refused(Array(good.dropLast())) { if case .shardsMissing(["3/4"], 1) = $0 { return true }; return false }
        refused([good[0], good[1], ("empty", []), good[3]]) {
            if case .partWithoutTrailer("empty", ["2/4"], 1) = $0 { return true }; return false
        }
        refused([good[0], good[0], good[2], good[3]]) { if case .shardTwice("0/4", "part-0", "part-0") = $0 { return true }; return false }
        var edited = good[1].1
        edited[30] ^= 1
        refused([good[0], ("edited", edited), good[2], good[3]]) {
            if case .partMismatch("edited", "1/4", _) = $0 { return true }; return false
        }
        let eight = ("eight", part(keys, try Shard(index: 1, count: 8)))
        refused([good[0], eight, good[2], good[3]]) { if case .mixedCounts = $0 { return true }; return false }
        refused([good[0], good[1], good[2], ("after", good[3].1 + Array(good[1].1.prefix(while: { $0 != 0x0A })) + [0x0A])]) {
            if case .linesAfterTrailer("after") = $0 { return true }; return false
        }
    }

    @Test func aFilterTakesAWholeSetOrItsOwnShard() throws {
        let whole = try parts().flatMap(\.1)
        let (_, check) = try ShardPartCheck.items(of: whole)
        try check.checkInput(for: try Shard(index: 2, count: 5))
        let (_, own) = try ShardPartCheck.items(of: part(keys, try Shard(index: 2, count: 4)))
        try own.checkInput(for: try Shard(index: 2, count: 4))
        #expect(throws: ShardError.self) { try own.checkInput(for: try Shard(index: 1, count: 4)) }
    }

    @Test func aSlotIsTheDocumentedOneWhicheverWayItIsComputed() {
        for key in keys + ["", "é/ü+%.txt"] {
            var copy = key
            let value = copy.withUTF8 { Shard.slotValue(of: UnsafeRawBufferPointer($0)) }
            #expect(Int(value % 7) == Shard.slot(of: key, count: 7))
        }
    }
}

/// A bundle built by hand from its parts, so every field can be what a test says.
struct HandBundle {
    var name = "t/fuzz"
    var objects: [(key: String, data: [UInt8])] = [("a.txt", Array("hello\n".utf8)), ("d/b.bin", Array(repeating: 9, count: 3000))]

    func manifest() throws -> (bytes: [UInt8], topHash: String, bytesTotal: Int) {
        var manifest = Manifest(header: JSONObject([("version", .string("v0")), ("message", .string("m"))]), entries: objects.map { object in
            ManifestEntry(logicalKey: object.key, physicalKey: "file:///x/\(object.key)", size: object.data.count,
                          hash: ObjectHash(type: "SHA256", value: Hex.encode(SHA256Hasher.digest(object.data)), valueFirst: false))
        })
        let (bytes, top) = try ManifestWriter(maxRecordSize: .max).serialize(&manifest)
        return (bytes, top, objects.reduce(0) { $0 + $1.data.count })
    }

    /// The tar stream (uncompressed): header, manifest, objects, end marker.
    func tar() throws -> [UInt8] {
        let (manifest, top, total) = try manifest()
        var out: [UInt8] = []
        let tar = TarWriter { out.append(contentsOf: $0) }
        let header = BundleHeader(name: name, topHash: top, entries: objects.count, objects: objects.count, bytes: total)
        try tar.member(name: BundleFormat.headerName, bytes: header.encoded)
        try tar.member(name: BundleFormat.manifestName, bytes: manifest)
        for object in objects {
            try tar.member(name: "objects/SHA256/" + Hex.encode(SHA256Hasher.digest(object.data)), bytes: object.data)
        }
        try tar.finish()
        return out
    }

    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        let writer = try GzipWriter(level: 1) { out.append(contentsOf: $0) }
        try writer.write(bytes)
        try writer.finish()
        return out
    }
}

/// A bundle held in memory, read as a stream.
private func streamed(_ bytes: [UInt8]) -> BundleInput {
    let offset = Locked(0)
    return .stream { buffer in
        offset.withLock { at in
            let n = min(buffer.count, bytes.count - at)
            for i in 0..<n { buffer[i] = bytes[at + i] }
            at += n
            return n
        }
    }
}

@Suite struct BundleFuzzTests {
    static let numbers = ["0", "-1", "9223372036854775807", "9223372036854775808", "4611686018427387904",
                          "1125899906842624", "8589934592", "18446744073709551615", "1e18", "3000", "2999", "3001"]
    static let keys = ["../../escape.txt", "/abs/x", "a/../../x", "ok/./x", "..", "a//b", "a/", "", "a\\u0000b", "d"]

    @Test func aHandBundleVerifies() throws {
        let dir = TemporaryDirectory()
        let context = try testContext(dir)
        let summary = try context.verifyBundle(streamed(try HandBundle.gzip(try HandBundle().tar())))
        #expect(summary.header.objects == 2)
    }

    @Test func hostileBundlesEndInTypedErrors() throws {
        let dir = TemporaryDirectory()
        let context = try testContext(dir)
        var rng = SeededGenerator(seed: 0x5155_494C_5426_00B1)
        func int(_ n: Int) -> Int { Int(rng.next() % UInt64(max(n, 1))) }
        func pick<T>(_ list: [T]) -> T { list[int(list.count)] }
        let good = try HandBundle().tar()
        let before = peakResidentMiB()
        let clock = ContinuousClock(), start = clock.now
        var runs = 0, refused = 0, slowest = Duration.zero
        var kinds: [String: Int] = [:]
        while runs < 1_500 && clock.now - start < .seconds(4) {
            runs += 1
            var tar: [UInt8]
            switch int(4) {
            case 0:  // a hostile key, with a top hash that is right for it
                var bundle = HandBundle()
                bundle.objects[int(2)].key = pick(Self.keys)
                tar = (try? bundle.tar()) ?? good
            case 1:  // a number in the header or the manifest replaced by one at the edges
                let text = String(decoding: good, as: UTF8.self)
                var replaced = text
                for field in [#""size": 3000"#, #""bytes": 3006"#, #""entries": 2"#, #""objects": 2"#, #""size": 6"#] where int(3) == 0 {
                    replaced = replaced.replacingAll(field, with: field.split(separator: ":")[0] + ": " + pick(Self.numbers))
                }
                tar = Array(replaced.utf8)
            case 2:  // a tar size field or a pax record in front of a member
                tar = good
                let header = int(tar.count / 512)
                if int(2) == 0 {
                    let record = " size=\(pick(Self.numbers))\n"
                    let length = record.utf8.count + String(record.utf8.count + 3).count
                    let text = Array("\(length)\(record)".utf8)
                    let at = header * 512
                    tar.replaceSubrange(at..<at, with: TarWriter.header(name: Array("PaxHeader/m".utf8), size: text.count, type: UInt8(ascii: "x"))
                                        + text + [UInt8](repeating: 0, count: (512 - text.count % 512) % 512))
                } else {
                    for (i, b) in Array(pick(["77777777777\u{0}", "00000000000\u{0}", "10000000000\u{0}"]).utf8).enumerated() {
                        tar[header * 512 + 124 + i] = b
                    }
                }
            default:  // bytes changed or cut
                tar = good
                for _ in 0...int(3) { tar[int(tar.count)] = UInt8(truncatingIfNeeded: rng.next()) }
                if int(3) == 0 { tar.removeSubrange(int(tar.count)...) }
            }
            var compressed = try HandBundle.gzip(tar)
            if int(6) == 0 { compressed.removeSubrange(int(compressed.count)...) }
            let one = clock.now
            do {
                _ = try context.verifyBundle(streamed(compressed))
            } catch let error as any QuiltError {
                refused += 1
                kinds[String(describing: type(of: error)), default: 0] += 1
                _ = error.message
            } catch {
                Issue.record("untyped error \(error)")
            }
            slowest = max(slowest, clock.now - one)
        }
        let grown = peakResidentMiB() - before
        print("bundle fuzz: \(runs) inputs, \(refused) refused \(kinds.sorted { $0.key < $1.key }), slowest \(slowest), peak RSS grew \(grown) MiB")
        #expect(runs > 200 && refused > runs / 4)
        #expect(slowest < .seconds(2))
        #expect(grown < 512, "peak RSS grew \(grown) MiB")
    }
}

@Suite struct YAMLFuzzTests {
    /// The alias bomb of the issue and its variants: deeper, wider, through merges, through nested anchors.
    static func bomb(width: Int, depth: Int, merge: Bool) -> String {
        var lines = [merge ? "a0: &a0 {k: v}" : "a0: &a0 [\(Array(repeating: "\"lol\"", count: width).joined(separator: ","))]"]
        for level in 1..<depth {
            let refs = Array(repeating: "*a\(level - 1)", count: width).joined(separator: ", ")
            lines.append(merge ? "a\(level): &a\(level) {<<: [\(refs)], x\(level): 1}" : "a\(level): &a\(level) [\(refs)]")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func aliasBombsAreRefusedAtOnceAndModestAliasesStillRead() throws {
        let clock = ContinuousClock()
        for (width, depth, merge) in [(9, 9, false), (10, 10, false), (2, 64, false), (9, 9, true), (3, 30, true)] {
            let text = Self.bomb(width: width, depth: depth, merge: merge)
            let start = clock.now
            #expect(throws: YAMLDocument.Failure.self) { try YAMLDocument.load(text) }
            #expect(throws: PyYAML.YAMLShapeError.self) { try PyYAML.loadMapping(text) }
            // (Both readers, in a debug build, beside the other suites: the command takes 0.2 s, t6820.)
            #expect(clock.now - start < .seconds(3), "\(width)x\(depth) took \(clock.now - start)")
        }
        // A config that reuses an anchor a few times reads as PyYAML reads it.
        let modest = try YAMLDocument.load("base: &b {type: object}\nschemas:\n  one: *b\n  two: *b\n  three: {<<: *b, x: 1}\n")
        #expect(modest.objectValue?["schemas"]?.objectValue?["three"]?.objectValue?["type"] == .string("object"))
    }

    @Test func oversizedAndOverNestedDocumentsAreRefusedWithAReason() {
        let big = String(repeating: "k: v\n", count: YAMLDocument.maxDocumentBytes / 5 + 1)
        #expect(throws: YAMLDocument.Failure.self) { try YAMLDocument.load(big) }
        do {
            _ = try YAMLDocument.load("a: " + String(repeating: "[", count: 2000) + "1" + String(repeating: "]", count: 2000))
            Issue.record("accepted")
        } catch {
            #expect(error.reason.contains("nested more than 1000 levels deep"), "\(error.reason)")
        }
        // Nested anchors expand deeper than their text: refused by depth, not by the stack.
        var lines: [String] = []
        for i in 0..<30 {
            let inner = i == 0 ? "1" : "*n\(i - 1)"
            lines.append("n\(i): &n\(i) " + String(repeating: "[", count: 600) + inner + String(repeating: "]", count: 600))
        }
        do {
            _ = try YAMLDocument.load(lines.joined(separator: "\n"))
            Issue.record("accepted")
        } catch {
            #expect(error.reason.contains("nest more than"), "\(error.reason)")
        }
    }

    @Test func mutatedConfigsNeverTrap() {
        var rng = SeededGenerator(seed: 0x5155_494C_5426_00C1)
        let seeds = [
            "version: \"1\"\nis_workflow_required: false\ndefault_workflow: alpha\nworkflows:\n  alpha:\n    name: Alpha\n    metadata_schema: s\nschemas:\n  s:\n    url: s3://b/s.json\n",
            Self.bomb(width: 3, depth: 4, merge: true), "a: &x [1, 2]\nb: [*x, *x]\nc: {<<: {d: 1}}\n",
        ]
        let tokens = ["&a ", "*a", "<<: ", "[", "]", "{", "}", ": ", "- ", "\n  ", "!!binary ", "%YAML 1.1\n", "---\n",
                      "? ", "|\n", "\t", "\"\\u0000\"", "0o17", "1e400", ".inf", "~", "\u{FEFF}"]
        let clock = ContinuousClock(), start = clock.now
        var runs = 0, refused = 0, slowest = Duration.zero
        while runs < 5_000 && clock.now - start < .seconds(3) {
            runs += 1
            var text = Array(seeds[Int(rng.next() % UInt64(seeds.count))].unicodeScalars)
            for _ in 0...Int(rng.next() % 4) {
                let at = text.isEmpty ? 0 : Int(rng.next() % UInt64(text.count))
                if rng.next() % 3 == 0, !text.isEmpty { text.remove(at: at) } else {
                    text.insert(contentsOf: tokens[Int(rng.next() % UInt64(tokens.count))].unicodeScalars, at: at)
                }
            }
            var string = ""
            string.unicodeScalars.append(contentsOf: text)
            let one = clock.now
            do { _ = try YAMLDocument.load(string) } catch { refused += 1; _ = error.reason }
            _ = try? PyYAML.loadMapping(string)
            slowest = max(slowest, clock.now - one)
        }
        print("yaml fuzz: \(runs) inputs, \(refused) refused, slowest \(slowest)")
        #expect(runs > 200 && refused > 0)
        #expect(slowest < .seconds(2))
    }
}

@Suite struct OptionValueFuzzTests {
    static let texts = ["0", "1", "-1", "1e15", "1e300", "-1e300", "inf", "-inf", "nan", "9223372036854775807",
                        "9223372036854775808", "-9223372036854775808", "99999999999999999999", "0.5", "1K", "8E",
                        "99999999999T", "9007199254740993", "1_000", "+5", " 7 ", "", "abc", "0x10", "1/0", "-1/4",
                        "3/2", "2/3", "auto", "auto/0", "auto/-1", "auto/99999999999999999999", "4294967296", "2147483648"]

    @Test func everyParsedNumberIsAValueOrAUsageError() {
        var rng = SeededGenerator(seed: 0x5155_494C_5426_00D1)
        func pick() -> String {
            var text = Self.texts[Int(rng.next() % UInt64(Self.texts.count))]
            if rng.next() % 4 == 0 { text += Self.texts[Int(rng.next() % UInt64(Self.texts.count))] }
            return text
        }
        func usage(_ body: () throws -> Void) {
            do { try body() } catch let error as any QuiltError {
                #expect(error.kind == .usage, "\(error.message) is not a usage error")
            } catch {
                Issue.record("untyped error \(error)")
            }
        }
        let variables = ["QUILT_SHARD_INDEX", "QUILT_SHARD_COUNT", "JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX",
                         "AWS_BATCH_JOB_ARRAY_SIZE", "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX",
                         "SLURM_ARRAY_TASK_STEP", "SLURM_ARRAY_TASK_COUNT"]
        for _ in 0..<20_000 {
            let text = pick()
            let settings = Settings(["X": text])
            usage { _ = try settings.integer("X", default: 1, in: 1...1000) }
            usage { _ = try settings.seconds("X") }
            usage { _ = try settings.byteSize("X", default: 1, in: 0...(5 << 30)) }
            usage { _ = try QuiltConfig.checkedSetting(["requests_timeout", "max_pool_connections", "multipart_threshold"][Int(rng.next() % 3)],
                                                        .string(text)) }
            var environment: [String: String] = [:]
            for name in variables where rng.next() % 3 == 0 { environment[name] = pick() }
            usage { _ = try Shard.resolve(rng.next() % 2 == 0 ? text : "auto", environment: environment) }
        }
    }
}
