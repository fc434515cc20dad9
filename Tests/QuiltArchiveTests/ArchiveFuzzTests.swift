// A seeded fuzz of the tar and gzip readers with hostile headers: sizes at the edges of 64 bits in ustar fields and
// pax records, bad checksums, odd type flags, damaged gzip headers and trailers, cuts anywhere. Every input reads
// or fails with an ArchiveError; nothing traps, nothing is allocated from a size a header claims.
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import QuiltArchive
import QuiltTestSupport

/// The shared seeded generator (the same inputs on every run), with the picks the fuzz makes.
extension SeededGenerator {
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    mutating func pick<T>(_ list: [T]) -> T { list[int(list.count)] }
}

/// Peak resident memory of this process, in MiB.
func peakResidentMiB() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss / 1024
}

@Suite struct ArchiveFuzzTests {
    static let sizes = ["9223372036854775807", "9223372036854775808", "-1", "1125899906842624", "4611686018427387904",
                        "8589934591", "8589934592", "0", "18446744073709551615", "99999999999999999999", "1e9", " 12",
                        "0x10", "", "512", "511"]
    static let octals = ["77777777777\u{0}", "00000000000\u{0}", "777777777777", "99999999999\u{0}", "-0000000001\u{0}",
                         "        777\u{0}", "\u{80}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}"]

    func tar(_ body: (TarWriter) throws -> Void) rethrows -> [UInt8] {
        var out: [UInt8] = []
        try body(TarWriter { out.append(contentsOf: $0) })
        return out
    }

    func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        let writer = try GzipWriter(level: 1) { out.append(contentsOf: $0) }
        try writer.write(bytes)
        try writer.finish()
        return out
    }

    /// Reads every member of a gzip-compressed tar, at most `cap` bytes of content in all; the typed error, if any.
    func readAll(_ compressed: [UInt8], cap: Int = 64 << 20) -> ArchiveError? {
        var offset = 0
        do {
            let gzip = try GzipReader { buffer in
                let n = min(buffer.count, compressed.count - offset)
                for i in 0..<n { buffer[i] = compressed[offset + i] }
                offset += n
                return n
            }
            let reader = TarReader { try gzip.read(into: $0) }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
            defer { buffer.deallocate() }
            var total = 0
            while let entry = try reader.next() {
                _ = entry.name
                while total < cap {
                    let n = try reader.read(into: buffer)
                    if n == 0 { break }
                    total += n
                }
            }
            try reader.checkOnlyZerosFollow()
            try gzip.checkNothingFollows()
            return nil
        } catch let error as ArchiveError {
            return error
        } catch {
            Issue.record("untyped error \(error)")
            return nil
        }
    }

    /// A header block with `field` written at `offset` and its checksum made right again.
    func patched(_ tar: [UInt8], header: Int, offset: Int, field: [UInt8], fixChecksum: Bool) -> [UInt8] {
        var bytes = tar
        let base = header * 512
        guard base + 512 <= bytes.count else { return bytes }
        for (i, b) in field.prefix(max(0, 512 - offset)).enumerated() { bytes[base + offset + i] = b }
        if fixChecksum {
            for i in 148..<156 { bytes[base + i] = 0x20 }
            let sum = bytes[base..<(base + 512)].reduce(0) { $0 + Int($1) }
            let text = Array(String(sum, radix: 8).utf8)
            let field = [UInt8](repeating: 0x30, count: max(0, 6 - text.count)) + text + [0, 0x20]
            for (i, b) in field.prefix(8).enumerated() { bytes[base + 148 + i] = b }
        }
        return bytes
    }

    @Test func hostileTarAndGzipHeadersNeverTrapNorAllocate() throws {
        var rng = SeededGenerator(seed: 0x5155_494C_5426_00A1)
        let before = peakResidentMiB()
        let plain = try tar { writer in
            try writer.member(name: "quilt-bundle.json", bytes: Array(#"{"format": "quilt-bundle"}"#.utf8))
            try writer.member(name: String(repeating: "long/", count: 30) + "name", bytes: Array(repeating: 7, count: 1000))
            try writer.beginMember(name: "big", size: 9 << 30)  // a pax size record, and no content: cut short
        }
        let clock = ContinuousClock(), start = clock.now
        var runs = 0, failures = 0, slowest = Duration.zero
        while runs < 5_000 && clock.now - start < .seconds(4) {
            runs += 1
            var bytes = plain
            let headers = bytes.count / 512
            for _ in 0...rng.int(3) {
                switch rng.int(6) {
                case 0:  // a ustar size field
                    bytes = patched(bytes, header: rng.int(headers), offset: 124, field: Array(rng.pick(Self.octals).utf8),
                                    fixChecksum: rng.int(4) != 0)
                case 1:  // a pax size record with a hostile value
                    let record = " size=\(rng.pick(Self.sizes))\n"
                    let length = record.utf8.count + String(record.utf8.count + 3).count
                    let text = Array("\(length)\(record)".utf8)
                    var block = bytes
                    block.replaceSubrange(0..<0, with: TarWriter.header(name: Array("PaxHeader/x".utf8), size: text.count, type: UInt8(ascii: "x"))
                                          + text + [UInt8](repeating: 0, count: (512 - text.count % 512) % 512))
                    bytes = block
                case 2:  // a pax record whose length lies
                    let text = Array("\(rng.pick(Self.sizes)) path=x\n".utf8)
                    bytes.replaceSubrange(0..<0, with: TarWriter.header(name: Array("PaxHeader/x".utf8), size: text.count, type: UInt8(ascii: "x"))
                                          + text + [UInt8](repeating: 0, count: (512 - text.count % 512) % 512))
                case 3:  // a type flag, a name byte
                    bytes = patched(bytes, header: rng.int(headers), offset: rng.pick([156, 0, 345, 257]),
                                    field: [UInt8(truncatingIfNeeded: rng.next())], fixChecksum: rng.int(2) == 0)
                case 4:  // a cut
                    bytes.removeSubrange(rng.int(bytes.count)...)
                default:  // a random byte
                    if !bytes.isEmpty { bytes[rng.int(bytes.count)] ^= UInt8(truncatingIfNeeded: rng.next() | 1) }
                }
            }
            var compressed = try gzip(bytes)
            switch rng.int(5) {
            case 0: compressed.removeSubrange(max(0, compressed.count - 1 - rng.int(12))...)  // the trailer cut
            case 1: compressed[rng.int(compressed.count)] ^= 0x40  // any byte, header and CRC included
            case 2: compressed[3] = UInt8(truncatingIfNeeded: rng.next())  // gzip flags: FEXTRA, FNAME with nothing
            case 3: compressed += [UInt8](repeating: UInt8(truncatingIfNeeded: rng.next()), count: 1 + rng.int(600))
            default: break
            }
            let one = clock.now
            if let error = readAll(compressed) {
                failures += 1
                _ = error
            }
            slowest = max(slowest, clock.now - one)
        }
        let grown = peakResidentMiB() - before
        print("archive fuzz: \(runs) inputs, \(failures) refused, slowest \(slowest), peak RSS grew \(grown) MiB")
        #expect(runs > 500 && failures > 0)
        #expect(slowest < .seconds(2))
        #expect(grown < 256, "peak RSS grew \(grown) MiB")
    }
}
