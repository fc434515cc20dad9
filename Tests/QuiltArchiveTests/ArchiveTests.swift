// gzip streams with changing levels, tar members with pax headers, damaged and cut-short input, and telling
// compressed data by its first bytes.
import Testing
@testable import QuiltArchive

@Suite struct ArchiveTests {
    func random(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    func text(_ count: Int) -> [UInt8] {
        Array(String(repeating: "station,temperature,2024-01-01T00:00:00Z,12.5\n", count: count / 46 + 1).utf8.prefix(count))
    }

    func compress(_ pieces: [(bytes: [UInt8], level: Int)], start: Int = 6) throws -> [UInt8] {
        var out: [UInt8] = []
        let writer = try GzipWriter(level: start) { out.append(contentsOf: $0) }
        for piece in pieces {
            try writer.setLevel(piece.level)
            try writer.write(piece.bytes)
        }
        try writer.finish()
        return out
    }

    func decompress(_ compressed: [UInt8], chunk: Int = 1000) throws -> [UInt8] {
        var offset = 0
        let reader = try GzipReader { buffer in
            let n = min(buffer.count, chunk, compressed.count - offset)
            for i in 0..<n { buffer[i] = compressed[offset + i] }
            offset += n
            return n
        }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
            if n == 0 { break }
            out += buffer[0..<n]
        }
        try reader.checkNothingFollows()
        return out
    }

    @Test func levelsChangeWithinOneStreamAndStoredDataIsNotDeflated() throws {
        let a = text(300_000), b = random(1 << 20, seed: 1), c = text(200_000)
        let stream = try compress([(a, 6), (b, 0), (c, 9)])
        #expect(try decompress(stream) == a + b + c)
        // The random MiB went through as stored blocks: a few bytes of framing per 64 KiB, no more.
        let storedOnly = try compress([(b, 0)], start: 0)
        #expect(storedOnly.count < b.count + 200)
        #expect(stream.count < b.count + 40_000)
        // The same input gives the same bytes (no name or time in the gzip header).
        #expect(try compress([(a, 6), (b, 0), (c, 9)]) == stream)
    }

    @Test func aCutShortStreamIsTruncatedAndADamagedOneCorrupt() throws {
        let stream = try compress([(text(100_000), 6)])
        #expect(throws: ArchiveError.truncated) { try decompress(Array(stream.prefix(stream.count / 2))) }
        #expect(throws: ArchiveError.truncated) { try decompress(Array(stream.dropLast(3))) }
        var damaged = stream
        damaged[damaged.count - 6] ^= 0xFF  // the CRC-32 in the trailer
        #expect(throws: ArchiveError.self) { try decompress(damaged) }
        #expect(throws: ArchiveError.trailingData) { try decompress(stream + [1, 2, 3]) }
        #expect(throws: ArchiveError.self) { try decompress(Array("not gzip at all".utf8)) }
    }

    func tarBytes(_ body: (TarWriter) throws -> Void) rethrows -> [UInt8] {
        var out: [UInt8] = []
        try body(TarWriter { out.append(contentsOf: $0) })
        return out
    }

    func reader(_ bytes: [UInt8]) -> TarReader {
        var offset = 0
        return TarReader { buffer in
            let n = min(buffer.count, bytes.count - offset, 777)
            for i in 0..<n { buffer[i] = bytes[offset + i] }
            offset += n
            return n
        }
    }

    @Test func tarMembersRoundTripWithLongNamesInPaxHeaders() throws {
        let long = "objects/" + String(repeating: "x", count: 150) + "/é"
        let bytes = try tarBytes { tar in
            try tar.member(name: "a.json", bytes: Array("{}\n".utf8))
            try tar.member(name: long, bytes: Array(repeating: 7, count: 1000))
            try tar.member(name: "empty", bytes: [])
            try tar.finish()
        }
        #expect(bytes.count % 512 == 0)
        let tar = reader(bytes)
        var seen: [(String, [UInt8])] = []
        while let entry = try tar.next() {
            var content = [UInt8](repeating: 0, count: entry.size)
            var done = 0
            try content.withUnsafeMutableBytes { raw in
                while done < entry.size { done += try tar.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[done...])) }
            }
            seen.append((entry.name, content))
        }
        #expect(seen.map(\.0) == ["a.json", long, "empty"])
        #expect(seen[1].1 == Array(repeating: 7, count: 1000))
        try tar.checkOnlyZerosFollow()
    }

    @Test func sizesBeyondUstarGoInAPaxHeader() throws {
        let size = 9 << 30
        let bytes = try tarBytes { try $0.beginMember(name: "huge", size: size) }
        let entry = try #require(try reader(bytes).next())
        #expect(entry.name == "huge" && entry.size == size)
        #expect(TarWriter.paxRecord("size", Array("9663676416".utf8)) == Array("19 size=9663676416\n".utf8))
        // A record whose length gains a digit from its own length: 98 bytes and "100 " would be 101.
        let record = TarWriter.paxRecord("path", Array(repeating: UInt8(ascii: "a"), count: 91))
        #expect(record.count == 101 && record.prefix(4) == ArraySlice("101 ".utf8))
    }

    @Test func damagedHeadersAndCutShortArchivesAreRefused() throws {
        var bytes = try tarBytes { tar in
            try tar.member(name: "a", bytes: Array("hello".utf8))
            try tar.finish()
        }
        #expect(throws: ArchiveError.truncated) {
            let tar = reader(Array(bytes.prefix(512 + 3)))
            _ = try tar.next()
            var buffer = [UInt8](repeating: 0, count: 5)
            _ = try buffer.withUnsafeMutableBytes { try tar.read(into: $0) }
            _ = try buffer.withUnsafeMutableBytes { try tar.read(into: $0) }
        }
        // The first member whole, then nothing: no end-of-archive marker.
        #expect(throws: ArchiveError.truncated) {
            let tar = reader(Array(bytes.prefix(1024)))
            _ = try tar.next()
            _ = try tar.next()
        }
        bytes[20] ^= 0x01
        #expect(throws: ArchiveError.self) { _ = try reader(bytes).next() }
    }

    @Test func compressedFormatsAreRecognisedByTheirFirstBytes() {
        func check(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { CompressedData.isCompressed($0) } }
        #expect(check([0x1F, 0x8B, 8, 0]))
        #expect(check(Array("PK\u{03}\u{04}rest".utf8)))
        #expect(check([0x28, 0xB5, 0x2F, 0xFD, 0]))
        #expect(check([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        #expect(check([0xFF, 0xD8, 0xFF, 0xE0]))
        #expect(check(Array("PAR1....".utf8)))
        #expect(check(Array("\u{0}\u{0}\u{0}\u{18}ftypmp42".utf8)))
        #expect(check(Array("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 ".utf8)))
        #expect(!check(Array("RIFF\u{0}\u{0}\u{0}\u{0}WAVEfmt ".utf8)))
        #expect(!check(Array("a,b,c\n1,2,3\n".utf8)))
        #expect(!check(Array("{\"k\": 1}".utf8)))
        #expect(!check([]))
        #expect(!check([0x1F]))
    }
}
