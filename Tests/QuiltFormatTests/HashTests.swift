// Object hashes against quilt3's published vectors.
import Testing
@testable import QuiltSupport
@testable import QuiltFormat

private func chunked(_ bytes: [UInt8]) -> String {
    let hasher = StreamingHasher(type: .sha2256Chunked, expectedSize: bytes.count)
    bytes.withUnsafeBytes { hasher.update($0) }
    return hasher.finalize().value
}

@Suite struct ChunkedHashTests {
    @Test func vectors() {
        #expect(chunked(Array("Hello, World!".utf8)) == "BCp9ZKWB7y7pg/IQWIAcw1ZjtwXmxV9i+o4PGOzHCYk=")
        #expect(chunked(Array("hello\n".utf8)) == "7LZbuY+dkFtwRYmGw5/LrXcV5fL8w7Hwd2fXyD4kOMw=")
        #expect(chunked([]) == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
    }

    @Test func combiningPartsByHand() {
        let parts = [SHA256Hasher.digest(Array("Hello, ".utf8)), SHA256Hasher.digest(Array("World!".utf8))]
        #expect(ChunkedHash.combine(partDigests: parts) == "JOdgH0Fd8jE6VYm2X4bSvVd2ijQ41+Wt6X0k45mIs0E=")
    }

    @Test(arguments: [
        (8_388_607, "6D2pq48irFt4HfUg5jZ5Mh0xLWnHtZnvhWpbUMHXGos="),
        (8_388_608, "MIsGKY+ykqN4CPj3gGGu4Gv03N7OWKWpsZqEf+OrGJs="),
        (8_388_609, "Y68lgvvPstmbueZHNVw/WNEIEX0Qxy01vyRB//bzz/g="),
        (20_971_520, "7zmHyb00nwkYLqwFgYQ2jBrMWehLGRYkk+0H2X/ZOYk="),
    ])
    func zeroFiles(size: Int, expected: String) throws {
        #expect(chunked([UInt8](repeating: 0, count: size)) == expected)
        // The same through the file path, which hashes the parts of big files in parallel.
        let path = "/tmp/quilt-hash-test-\(size)-\(UInt32.random(in: 0...UInt32.max))"
        try FileSystem.writeAtomically([UInt8](repeating: 0, count: size), to: path)
        defer { try? FileSystem.removeFile(path) }
        let (hash, hashedSize) = try FileHasher.hash(path: path)
        #expect(hash.value == expected)
        #expect(hashedSize == size)
    }

    @Test func chunkSizeDoublesPastTenThousandParts() {
        let mib = 1024 * 1024
        #expect(ChunkedHash.chunkSize(forSize: 80_000 * mib) == 8 * mib)
        #expect(ChunkedHash.chunkSize(forSize: 80_000 * mib + 1) == 16 * mib)
        #expect(ChunkedHash.chunkSize(forSize: 0) == 8 * mib)
        #expect(ChunkedHash.partCount(forSize: 0) == 0)
    }

    @Test func streamingInOddPiecesGivesTheSameValue() {
        let bytes = (0..<(8_388_608 + 12345)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let hasher = StreamingHasher(type: .sha2256Chunked, expectedSize: bytes.count)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            var step = 1
            while offset < raw.count {
                let end = min(raw.count, offset + step)
                hasher.update(UnsafeRawBufferPointer(rebasing: raw[offset..<end]))
                offset = end
                step = step * 3 + 1
            }
        }
        #expect(hasher.finalize().value == chunked(bytes))
    }
}

@Suite struct OtherHashTests {
    @Test func crc64nvme() {
        var crc = CRC64NVME()
        Array("Hello, World!".utf8).withUnsafeBytes { crc.update($0) }
        #expect(crc.value == 15_323_988_402_725_835_341)
        #expect(crc.base64 == "1Km+Qyat0k0=")
        #expect(CRC64NVME().base64 == "AAAAAAAAAAA=")
    }

    @Test func sha256AndEncodings() {
        #expect(Hex.encode(SHA256Hasher.digest([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Base64.decode(Base64.encode([1, 2, 3, 4, 5])) == [1, 2, 3, 4, 5])
        // Every length of remainder, padded or not, and the digest of a hash value; a lone sextet or a byte
        // outside the alphabet is not base64.
        let bytes: [UInt8] = (0..<40).map { UInt8(($0 * 73 + 11) & 0xFF) }
        for count in 0...bytes.count {
            let encoded = Base64.encode(Array(bytes[0..<count]))
            #expect(Base64.decode(encoded) == Array(bytes[0..<count]), "\(count)")
            #expect(Base64.decode(String(encoded.filter { $0 != "=" })) == Array(bytes[0..<count]))
        }
        #expect(Base64.decode("7LZbuY+dkFtwRYmGw5/LrXcV5fL8w7Hwd2fXyD4kOMw=").map(Hex.encode)
                == "ecb65bb98f9d905b70458986c39fcbad7715e5f2fcc3b1f07767d7c83e2438cc")
        #expect(Base64.decode("QUJD") == Array("ABC".utf8) && Base64.decode("") == [])
        #expect(Base64.decode("QUJDR") == nil && Base64.decode("QU-D") == nil && Base64.decode("QU D") == nil)
        #expect(Hex.decode("00ff10") == [0, 255, 16])
    }
}
