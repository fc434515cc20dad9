// Issue 26 in the format layer: the shard trailer in the line codec, sizes near the 64-bit limits in the readers,
// lines a reader will not hold, and a seeded fuzz of manifests with hostile sizes and trailers.
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltFormat

private let digest = String(repeating: "ab", count: 32)

private func parse(_ line: String) throws -> ManifestLine.Item {
    try Array(line.utf8).withUnsafeBytes { try ManifestLine.parse($0, lineNumber: 3, rules: .entryStream) }
}

/// Reads a stored manifest's bytes through the streaming reader, every entry.
private func readEveryEntry(_ bytes: [UInt8]) throws {
    var offset = 0
    let stream = try ManifestStream { buffer in
        let n = min(buffer.count, bytes.count - offset)
        for i in 0..<n { buffer[i] = bytes[offset + i] }
        offset += n
        return n
    }
    while try stream.nextEntry() != nil {}
}

@Suite struct ShardTrailerCodecTests {
    @Test func aTrailerRoundTripsThroughTheCodec() throws {
        let trailer = ShardTrailer(index: 2, count: 4, entries: 37, sha256: digest)
        var out: [UInt8] = []
        ManifestLine.appendShardTrailer(trailer, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"{"shard": "2/4", "entries": 37, "sha256": "\#(digest)"}"#)
        guard case .shardTrailer(let back) = try out.withUnsafeBytes({ try ManifestLine.parse($0, lineNumber: 9, rules: .entryStream) }) else {
            Issue.record("not read as a trailer"); return
        }
        #expect(back == trailer)
        // Fields in any order, unknown ones ignored, as for entries.
        guard case .shardTrailer(let other) = try parse(#"{"sha256": "\#(digest)", "future": [1], "entries": 0, "shard": "0/1"}"#) else {
            Issue.record("not read as a trailer"); return
        }
        #expect(other == ShardTrailer(index: 0, count: 1, entries: 0, sha256: digest))
    }

    @Test(arguments: [
        #"{"shard": 2}"#, #"{"shard": "2"}"#, #"{"shard": "4/4", "entries": 0, "sha256": "DIGEST"}"#,
        #"{"shard": "-1/4", "entries": 0, "sha256": "DIGEST"}"#, #"{"shard": "1/0", "entries": 0, "sha256": "DIGEST"}"#,
        #"{"shard": "1/4", "entries": -1, "sha256": "DIGEST"}"#, #"{"shard": "1/4", "entries": 1.5, "sha256": "DIGEST"}"#,
        #"{"shard": "1/4", "entries": 1, "sha256": "AB"}"#, #"{"shard": "1/4", "entries": 1}"#,
        #"{"shard": " 1/4", "entries": 1, "sha256": "DIGEST"}"#, #"{"shard": "1/99999999999999999999", "entries": 1, "sha256": "DIGEST"}"#,
        #"{"shard": "1/4", "entries": 99999999999999999999, "sha256": "DIGEST"}"#,
    ])
    func malformedTrailersAreLineErrors(line: String) {
        do {
            _ = try parse(line.replacingAll("DIGEST", with: digest))
            Issue.record("accepted \(line)")
        } catch let error as ManifestError {
            guard case .invalidLine(3, let reason) = error else { Issue.record("wrong error \(error)"); return }
            #expect(reason.hasPrefix("malformed shard trailer"))
        } catch {
            Issue.record("untyped error \(error)")
        }
    }

    @Test func aTrailerIsNoManifestLine() {
        // A stored manifest never holds one: the manifest rules read it as a line without a logical key.
        let line = #"{"shard": "0/1", "entries": 0, "sha256": "\#(digest)"}"#
        #expect(throws: ManifestError.self) {
            try Array(line.utf8).withUnsafeBytes { try ManifestLine.parse($0, lineNumber: 2, rules: .manifest) }
        }
    }

    @Test func anObserverSeesEveryLineAndEachTrailerInItsStream() throws {
        final class Recorder: EntryStreamObserver {
            var lines: [(String, Int)] = [], trailers: [(Int, Int)] = [], ends: [Int] = []
            func line(_ line: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer?, isEntry: Bool, input: Int) throws {
                lines.append((key.map { String(decoding: $0, as: UTF8.self) } ?? "<header>", input))
            }
            func trailer(_ trailer: ShardTrailer, lineNumber: Int, input: Int) throws { trailers.append((trailer.index, input)) }
            func end(ofInput input: Int) throws { ends.append(input) }
        }
        let entry = #"{"logical_key": "K", "physical_keys": ["file:///x"], "size": 1, "hash": {"type": "SHA256", "value": "\#(digest)"}, "meta": {}}"#
        let first = [entry.replacingAll("K", with: "a"), #"{"logical_key": "d/", "meta": {"x": 1}}"#,
                     #"{"shard": "0/2", "entries": 1, "sha256": "\#(digest)"}"#].joined(separator: "\n")
        let second = entry.replacingAll("K", with: "b\\u00e9")
        let inputs = [first, second].map { text in
            EntryStream.Input(name: text) { feed in try Array(text.utf8).withUnsafeBytes { try feed($0) } }
        }
        let spool = EntrySpool(temporaryDirectory: "/tmp")
        let recorder = Recorder()
        _ = try spool.add(entryStreams: inputs, observer: recorder) { _ in }
        #expect(recorder.lines.map(\.0) == ["a", "d/", "bé"])
        #expect(recorder.lines.map(\.1) == [0, 0, 1])
        #expect(recorder.trailers.map(\.0) == [0] && recorder.trailers.map(\.1) == [0])
        #expect(recorder.ends == [0, 1])
        #expect(spool.count == 2)
    }
}

@Suite struct HostileSizeTests {
    @Test func chunkCountsNearTheLimitDoNotOverflow() {
        for size in [Int.max, Int.max - 1, 1 << 62, (1 << 62) + 1, 5 << 40] {
            let chunk = ChunkedHash.chunkSize(forSize: size)
            let parts = ChunkedHash.partCount(forSize: size)
            #expect(parts <= ChunkedHash.maximumChunks && parts >= 1)
            #expect(chunk.multipliedReportingOverflow(by: parts).overflow || chunk * parts >= size)
        }
        #expect(ChunkedHash.partCount(forSize: 0) == 0)
        #expect(ChunkedHash.partCount(forSize: 8 << 20) == 1 && ChunkedHash.partCount(forSize: (8 << 20) + 1) == 2)
    }

    @Test func entrySumsPastTheLimitAreTypedErrors() throws {
        let huge = ManifestEntry(logicalKey: "a", physicalKey: "file:///a", size: 1 << 62, hash: nil)
        var other = huge
        other.logicalKey = "b"
        #expect(try [huge, huge].dropLast().totalSize() == 1 << 62)
        do {
            _ = try [huge, other].totalSize()
            Issue.record("2^63 summed")
        } catch {
            guard case .sizeOverflow("b") = error else { Issue.record("wrong error \(error)"); return }
        }
        var unknown = huge
        unknown.size = -1
        #expect(try [unknown, unknown].totalSize() == 0)
    }

    @Test func aStreamedManifestOverTheLimitIsRefusedAtTheEntryThatOverflows() {
        let entry = { (key: String, size: String) in
            #"{"logical_key": "\#(key)", "physical_keys": ["file:///x"], "size": \#(size), "hash": {"type": "SHA256", "value": "\#(digest)"}, "meta": {}}"#
        }
        for sizes in [["4611686018427387904", "4611686018427387904"], ["9223372036854775807", "1"]] {
            let text = ([#"{"version": "v0"}"#] + [entry("a", sizes[0]), entry("b", sizes[1])]).joined(separator: "\n")
            do {
                try readEveryEntry(Array(text.utf8))
                Issue.record("accepted \(sizes)")
            } catch let error as ManifestError {
                guard case .sizeOverflow("b") = error else { Issue.record("wrong error \(error)"); return }
            } catch {
                Issue.record("untyped error \(error)")
            }
        }
    }

    @Test func aLineReaderRefusesALineLongerThanItsBound() throws {
        var left = 10 << 20
        let reader = LineReader(bufferSize: 1 << 16, maxLineLength: 1 << 20) { buffer in
            let n = min(buffer.count, left)
            for i in 0..<n { buffer[i] = UInt8(ascii: "x") }
            left -= n
            return n
        }
        do {
            _ = try reader.next()
            Issue.record("a 10 MiB line was held")
        } catch let error as ManifestError {
            guard case .lineTooLong(1, 1 << 20) = error else { Issue.record("wrong error \(error)"); return }
        }
        // It gave up soon after the bound, not at the end of the source.
        #expect(left > 7 << 20)
    }
}

/// A seeded fuzz of manifests and entry streams whose numbers sit at the edges of 64 bits, and of shard
/// trailers: every input parses or throws a typed error; nothing traps.
@Suite struct EdgeNumberFuzzTests {
    static let numbers = ["0", "1", "-1", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
                          "4611686018427387904", "18446744073709551615", "99999999999999999999999", "1e18", "1.0",
                          "0x10", "00", "-0", "4611686018427387903"]

    @Test func hostileSizesAndTrailersNeverTrap() {
        var rng = SeededGenerator(seed: 0x5155_494C_5426_0001)
        func pick<T>(_ list: [T]) -> T { list[Int(rng.next() % UInt64(list.count))] }
        let clock = ContinuousClock(), start = clock.now
        var runs = 0, typed = 0
        while runs < 20_000 && clock.now - start < .seconds(3) {
            runs += 1
            var lines = [#"{"version": "v0", "message": \#(pick(["null", "\"m\"", "1"]))}"#]
            for i in 0..<(1 + Int(rng.next() % 4)) {
                let line: String
                switch rng.next() % 3 {
                case 0:
                    line = #"{"shard": "\#(pick(Self.numbers))/\#(pick(Self.numbers))", "entries": \#(pick(Self.numbers)), "sha256": "\#(digest)"}"#
                default:
                    line = #"{"logical_key": "k\#(i)", "physical_keys": ["file:///x"], "size": \#(pick(Self.numbers)), "hash": {"type": "SHA256", "value": "\#(digest)"}, "meta": {}}"#
                }
                lines.append(line)
            }
            let bytes = Array(lines.joined(separator: "\n").utf8)
            do { _ = try Manifest(parsing: bytes) } catch { typed += 1; _ = error.message }
            do { try EntryStream.parse(bytes) { _ in } } catch {
                #expect(error is ManifestError, "untyped \(error)")
            }
            do {
                try readEveryEntry(bytes)
            } catch {
                #expect(error is ManifestError, "untyped \(error)")
            }
        }
        #expect(runs > 1000 && typed > 0)
        print("edge-number fuzz: \(runs) inputs, \(typed) refused")
    }
}
