// Manifests in bounded memory: the spool (sorted runs on disk past a budget) and the streaming readers, each
// checked against the in-memory path they stand in for.
import Foundation
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltFormat

/// The manifest written through a spool of `budget` bytes: its bytes, top hash and number of runs on disk.
private func spooled(_ entries: [ManifestEntry], header: JSONObject, directories: [(key: String, meta: JSONValue)] = [],
                     budget: Int, directory: String) throws -> (bytes: [UInt8], topHash: String, runs: Int) {
    let spool = EntrySpool(memoryBudget: budget, temporaryDirectory: directory)
    for entry in entries { try spool.add(entry) }
    let manifest = SpooledManifest(header: header, directoryMeta: directories, entries: spool)
    var bytes: [UInt8] = []
    let top = try ManifestWriter().write(manifest) { bytes.append(contentsOf: $0) }
    return (bytes, top, spool.runCount)
}

@Suite struct EntrySpoolTests {
    let header = JSONObject([("version", .string("v0")), ("user_meta", .object(JSONObject([("k", .float(1.0))]))),
                             ("message", .string("m"))])

    @Test func sortedRunsGiveTheInMemoryPathsBytesAndTopHash() throws {
        let scratch = TemporaryDirectory()
        let entries = awkwardEntries(6000)
        let directories: [(key: String, meta: JSONValue)] = [("t7/", .object(JSONObject([("o", .string("ana"))]))),
                                                               ("a b/", .null)]
        var manifest = Manifest(header: header, directoryMeta: directories, entries: entries)
        let (expected, expectedTop) = try ManifestWriter().serialize(&manifest)
        let small = try spooled(entries, header: header, directories: directories, budget: 64 << 10, directory: scratch.path)
        let whole = try spooled(entries, header: header, directories: directories, budget: 512 << 20, directory: scratch.path)
        #expect(small.runs > 5, "the small budget should spill several runs")
        #expect(whole.runs == 0)
        #expect(small.topHash == expectedTop)
        #expect(whole.topHash == expectedTop)
        #expect(small.bytes == expected)
        #expect(whole.bytes == expected)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty, "runs leave no file behind")
    }

    @Test func linesFromTheInputEqualLinesFromEntries() throws {
        // The stream path (`add(line:)`) and the value path (`add(_:)`) must store the same lines.
        let scratch = TemporaryDirectory()
        let entries = awkwardEntries(3000, seed: 3)
        let byValue = EntrySpool(memoryBudget: 64 << 10, temporaryDirectory: scratch.path)
        let byLine = EntrySpool(memoryBudget: 64 << 10, temporaryDirectory: scratch.path)
        var direct = 0
        for entry in entries {
            try byValue.add(entry)
            var line: [UInt8] = []
            ManifestLine.appendEntry(entry, to: &line)
            if try line.withUnsafeBytes({ try byLine.add(line: $0) }) { direct += 1 } else { try byLine.add(entry) }
        }
        #expect(direct > 2000, "plain lines take the direct path")
        var a: [[UInt8]] = [], b: [[UInt8]] = []
        try byValue.forEachSorted { line, _ in a.append(Array(line)) }
        try byLine.forEachSorted { line, _ in b.append(Array(line)) }
        #expect(a == b)
    }

    @Test func duplicatesAndCollisionsAcrossRunsAreFound() throws {
        let scratch = TemporaryDirectory()
        var entries = awkwardEntries(3000)
        entries.append(entries[10])
        let spool = EntrySpool(memoryBudget: 64 << 10, temporaryDirectory: scratch.path)
        for entry in entries { try spool.add(entry) }
        #expect(spool.runCount > 1)
        #expect(throws: ManifestError.self) { try spool.forEachSorted { _, _ in } }

        // The keys below deep/shared come first (earlier runs), the file deep/shared last (the run in memory).
        let all = awkwardEntries(3000)
        var collision = all.filter { $0.logicalKey.hasPrefix("deep/shared/") } + all.filter { !$0.logicalKey.hasPrefix("deep/") }
        collision.append(ManifestEntry(logicalKey: "deep/shared", physicalKey: "s3://b/x", size: 1,
                                       hash: ObjectHash(.sha256, value: "x")))
        let other = EntrySpool(memoryBudget: 64 << 10, temporaryDirectory: scratch.path)
        for entry in collision { try other.add(entry) }
        #expect(other.runCount > 1)
        do {
            try other.forEachSorted { _, _ in }
            Issue.record("a file where a directory is was not found")
        } catch ManifestError.logicalKeyCollision(let file, _) {
            #expect(file == "deep/shared")
        }
    }

    @Test func entriesWithoutHashesOrWithNaNAreRefused() throws {
        let spool = EntrySpool(temporaryDirectory: TemporaryDirectory().path)
        // Without a size: refused now. Without a hash: kept (a push's files wait for their upload's hash), and
        // refused by the writer if it is never completed.
        #expect(throws: ManifestError.self) {
            try spool.add(ManifestEntry(logicalKey: "a", physicalKey: "s3://b/a", size: -1, hash: ObjectHash(.sha256, value: "x")))
        }
        let waiting = EntrySpool(temporaryDirectory: TemporaryDirectory().path)
        try waiting.add(ManifestEntry(logicalKey: "a", physicalKey: "s3://b/a", size: 1, hash: nil))
        #expect {
            try ManifestWriter().topHash(of: SpooledManifest(entries: waiting))
        } throws: { error in
            guard case ManifestError.missingHash("a") = error else { return false }
            return true
        }
        #expect(throws: ManifestError.self) {
            try spool.add(ManifestEntry(logicalKey: "a", physicalKey: "s3://b/a", size: 1, hash: ObjectHash(.sha256, value: "x"),
                                        meta: .object(JSONObject([("x", .float(.nan))]))))
        }
        let small = EntrySpool(temporaryDirectory: TemporaryDirectory().path, maxRecordSize: 50)
        #expect(throws: ManifestError.self) {
            try small.add(ManifestEntry(logicalKey: String(repeating: "a", count: 60), physicalKey: "s3://b/a", size: 1,
                                        hash: ObjectHash(.sha256, value: "x")))
        }
    }

    @Test func sortPrefixesNeverContradictTreeOrder() {
        var rng = SeededGenerator(seed: 5)
        let alphabet: [UInt8] = [0x00, 0x01, 0x2E, 0x2F, 0x30, 0x41, 0x61, 0x7F, 0xC3, 0xA9, 0xF0]
        for _ in 0..<20000 {
            func key() -> [UInt8] { (0..<Int(rng.next() % 12)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] } }
            let a = key(), b = key()
            a.withUnsafeBytes { a in
                b.withUnsafeBytes { b in
                    let pa = EntrySpool.sortPrefix(a), pb = EntrySpool.sortPrefix(b)
                    let precedes = LogicalKey.precedes(a.assumingMemoryBound(to: UInt8.self), b.assumingMemoryBound(to: UInt8.self))
                    if pa < pb { #expect(precedes, "\(Array(a)) \(Array(b))") }
                }
            }
        }
    }
}

@Suite struct DirectLinePathTests {
    /// Lines `renderLineDirectly` takes must come out as the general path would write them; the others it leaves.
    @Test(arguments: EntryLineFastPathTests.plainLines + [
        #"{"logical_key": "Ünïcode/🙂", "physical_keys": ["s3://b/k"], "size": 1, "hash": {"type": "T", "value": "V"}, "meta": {"a": [1.50, 1E5]}}"#,
        #"{"size": 2, "meta": null, "hash": {"value": "V", "type": "T"}, "physical_keys": ["s3://b/k"], "logical_key": "k"}"#,
        #"{"logical_key": "a/../b", "physical_keys": ["s3://b/k"], "size": 1, "hash": {"type": "T", "value": "V"}}"#,
        #"{"logical_key": "k", "physical_keys": ["s3://b/k", "s3://b/j"], "size": 1, "hash": {"type": "T", "value": "V"}}"#,
        #"{"logical_key": "k\u00e9", "physical_keys": ["s3://b/k"], "size": 1, "hash": {"type": "T", "value": "V"}}"#,
    ])
    func directLinesEqualTheGeneralPath(line: String) throws {
        var direct: [UInt8] = []
        let keyRange = Array(line.utf8).withUnsafeBytes { ManifestLine.appendNormalized($0, to: &direct) }
        guard let keyRange else {
            #expect(direct.isEmpty)
            return
        }
        let item = try Array(line.utf8).withUnsafeBytes { try ManifestLine.parse($0, lineNumber: 1, rules: .entryStream) }
        guard case .entry(let entry) = item else {
            Issue.record("the direct path took a line that is no entry")
            return
        }
        var general: [UInt8] = []
        ManifestLine.appendEntry(entry, to: &general)
        #expect(String(decoding: direct, as: UTF8.self) == String(decoding: general, as: UTF8.self))
        #expect(Array(direct[keyRange]) == Array(entry.logicalKey.utf8))
        #expect((try? LogicalKey.validate(entry.logicalKey)) != nil)
    }

    @Test func invalidUTF8IsLeftToTheGeneralPath() {
        let line: [UInt8] = Array(#"{"logical_key": "a"#.utf8) + [0xED, 0xA0, 0x80]
            + Array(#"", "physical_keys": ["s3://b/k"], "size": 1, "hash": {"type": "T", "value": "V"}}"#.utf8)
        var out: [UInt8] = []
        #expect(line.withUnsafeBytes { ManifestLine.appendNormalized($0, to: &out) } == nil)
    }

    @Test func utf8CheckAgreesWithTheStandardLibrary() {
        var rng = SeededGenerator(seed: 9)
        let interesting: [UInt8] = [0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xA0, 0xED, 0x9F, 0xEF, 0xF0, 0x90, 0xF4, 0x8F, 0xF5, 0xFF]
        for _ in 0..<50000 {
            let bytes = (0..<Int(rng.next() % 7)).map { _ in interesting[Int(rng.next() % UInt64(interesting.count))] }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            #expect(bytes.withUnsafeBytes { UTF8Check.isValid($0) } == expected, "\(bytes)")
        }
    }

    @Test func canonicalFormsFromLinesEqualThoseFromEntries() throws {
        for entry in awkwardEntries(900, seed: 11) {
            var line: [UInt8] = []
            ManifestLine.appendEntry(entry, to: &line)
            var fromLine: [UInt8] = [], fromEntry: [UInt8] = []
            let inPlace = line.withUnsafeBytes { CanonicalEntry.appendInPlace(line: $0, to: &fromLine) }
            #expect(inPlace)
            CanonicalEntry.append(entry, hash: entry.hash!, to: &fromEntry)
            #expect(fromLine == fromEntry)
        }
    }
}

@Suite struct ManifestStreamTests {
    private func manifestBytes(_ entries: [ManifestEntry]) throws -> (bytes: [UInt8], topHash: String) {
        var manifest = Manifest(header: JSONObject([("version", .string("v0")), ("message", .string("m"))]), entries: entries)
        return try ManifestWriter().serialize(&manifest)
    }

    private func stream(_ bytes: [UInt8], bufferSize: Int = 1 << 20) throws -> ManifestStream {
        var offset = 0
        return try ManifestStream { buffer in
            let n = min(buffer.count, bytes.count - offset, 1000)
            bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
            offset += n
            return n
        }
    }

    @Test func readsEntriesAndTopHashAsTheLoaderDoes() throws {
        let (bytes, top) = try manifestBytes(awkwardEntries(3000))
        let loaded = try Manifest(parsing: bytes)
        let values = try stream(bytes)
        var read: [ManifestEntry] = []
        while let entry = try values.nextEntry() { read.append(entry) }
        #expect(read == loaded.entries)
        #expect(values.topHash == top && values.canonicalLayout)
        let raw = try stream(bytes)
        var keys: [String] = []
        while let entry = try raw.nextRaw() { keys.append(String(decoding: entry.key, as: UTF8.self)) }
        #expect(keys == loaded.entries.map(\.logicalKey))
        #expect(raw.topHash == top && raw.fileCount == 3000)
    }

    @Test func linesLongerThanTheBufferAndNoFinalNewline() throws {
        var chunks = [Array(String(repeating: "x", count: 100).utf8) + [0x0A], Array("short\nlast".utf8)]
        let reader = LineReader(bufferSize: 16) { buffer in
            guard !chunks.isEmpty else { return 0 }
            let n = min(buffer.count, chunks[0].count)
            chunks[0].withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: n) }
            chunks[0].removeFirst(n)
            if chunks[0].isEmpty { chunks.removeFirst() }
            return n
        }
        var got: [String] = []
        while let line = try reader.next() { got.append(String(decoding: line, as: UTF8.self)) }
        #expect(got == [String(repeating: "x", count: 100), "short", "last"])
    }

    @Test func outOfOrderDuplicatesAndCollisions() throws {
        let entry = { (key: String) in ManifestEntry(logicalKey: key, physicalKey: "s3://b/k", size: 1, hash: ObjectHash(.sha256, value: "x")) }
        func text(_ keys: [String]) -> [UInt8] {
            var out = Array(#"{"version": "v0"}"#.utf8) + [0x0A]
            for key in keys { EntryStream.write(entry(key), to: &out) }
            return out
        }
        let swapped = try stream(text(["b", "a"]))
        while try swapped.nextEntry() != nil {}
        #expect(!swapped.canonicalLayout && swapped.topHash == nil)
        #expect(throws: ManifestError.self) { let s = try stream(text(["a", "a"])); while try s.nextEntry() != nil {} }
        #expect(throws: ManifestError.self) { let s = try stream(text(["a", "a/b"])); while try s.nextRaw() != nil {} }
    }
}
