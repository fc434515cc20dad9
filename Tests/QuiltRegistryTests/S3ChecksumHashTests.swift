// When S3's own SHA-256 checksums give an object's sha2-256-chunked value without reading it, and when they do not.
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltFormat
@testable import QuiltAWS
@testable import QuiltRegistry

@Suite struct S3ChecksumHashTests {
    static let mib = 1024 * 1024

    func digest(_ seed: UInt8, _ size: Int) -> [UInt8] { SHA256Hasher.digest([UInt8](repeating: seed, count: size)) }

    func parts(_ sizes: [Int]) -> [S3ObjectAttributes.Part] {
        sizes.enumerated().map { i, size in
            S3ObjectAttributes.Part(number: i + 1, size: size, checksumSHA256: Base64.encode(digest(UInt8(i), size)))
        }
    }

    func attributes(size: Int, checksum: String?, type: String? = nil, etag: String = "abc", totalParts: Int? = nil,
                    parts: [S3ObjectAttributes.Part] = []) -> S3ObjectAttributes {
        S3ObjectAttributes(size: size, etag: etag, versionId: nil, checksumSHA256: checksum, checksumType: type,
                           totalParts: totalParts, parts: parts)
    }

    @Test func aSinglePutIsReHashed() {
        let data = Array("hello\n".utf8)
        let value = S3Transfers.quiltHash(fromAttributes: attributes(size: 6, checksum: Base64.encode(SHA256Hasher.digest(data))), size: 6)
        #expect(value == "7LZbuY+dkFtwRYmGw5/LrXcV5fL8w7Hwd2fXyD4kOMw=")
        #expect(S3Transfers.quiltHash(fromAttributes: attributes(size: 6, checksum: Base64.encode(SHA256Hasher.digest(data)),
                                                                  type: "FULL_OBJECT"), size: 6) == value)
    }

    @Test func anEmptyObjectKeepsTheDigestOfNothing() {
        let empty = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        #expect(S3Transfers.quiltHash(fromAttributes: attributes(size: 0, checksum: empty), size: 0) == empty)
    }

    @Test func noChecksumAnotherSizeOrABigSinglePutGiveNothing() {
        #expect(S3Transfers.quiltHash(fromAttributes: attributes(size: 6, checksum: nil), size: 6) == nil)
        let c = Base64.encode(digest(1, 6))
        #expect(S3Transfers.quiltHash(fromAttributes: attributes(size: 6, checksum: c), size: 7) == nil)
        // More than one chunk: the whole-object SHA-256 does not give the chunked value.
        let big = 8 * Self.mib + 1
        #expect(S3Transfers.quiltHash(fromAttributes: attributes(size: big, checksum: Base64.encode(digest(1, 32))), size: big) == nil)
    }

    @Test func aMultipartObjectInTheChunkLayoutIsCombinedFromItsParts() {
        let size = 20 * Self.mib
        let layout = parts([8 * Self.mib, 8 * Self.mib, 4 * Self.mib])
        let expected = ChunkedHash.combine(partDigests: layout.map { Base64.decode($0.checksumSHA256!)! })
        let found = S3Transfers.quiltHash(fromAttributes: attributes(size: size, checksum: expected + "-3", type: "COMPOSITE",
                                                                     etag: "x-3", totalParts: 3, parts: layout), size: size)
        #expect(found == expected)
        // GetObjectAttributes may give the composite without the part count.
        #expect(S3Transfers.quiltHash(fromAttributes: attributes(size: size, checksum: expected, type: "COMPOSITE", etag: "x-3",
                                                                 totalParts: 3, parts: layout), size: size) == expected)
    }

    @Test func theSamePartCountInAnotherLayoutIsNotTrusted() {
        // 7 + 7 + 6 MiB: three parts as in the chunk layout, but other parts, so another composite.
        let size = 20 * Self.mib
        let layout = parts([7 * Self.mib, 7 * Self.mib, 6 * Self.mib])
        let composite = ChunkedHash.combine(partDigests: layout.map { Base64.decode($0.checksumSHA256!)! })
        #expect(S3Transfers.quiltHash(fromAttributes: attributes(size: size, checksum: composite + "-3", type: "COMPOSITE",
                                                                 etag: "x-3", totalParts: 3, parts: layout), size: size) == nil)
    }

    @Test func aMultipartObjectWithoutItsPartListIsRead() {
        // moto: a composite checksum with neither the part count nor the parts; a one-part upload looks like a
        // single PUT but for its ETag and type.
        let size = 5 * Self.mib
        let composite = ChunkedHash.combine(partDigests: [digest(0, size)])
        #expect(S3Transfers.quiltHash(fromAttributes: attributes(size: size, checksum: composite, type: "COMPOSITE"), size: size) == nil)
        #expect(S3Transfers.quiltHash(fromAttributes: attributes(size: size, checksum: composite, etag: "abc-1"), size: size) == nil)
    }

    @Test func partsThatDisagreeWithTheCompositeOrLackChecksumsAreNotTrusted() {
        let size = 9 * Self.mib
        var layout = parts([8 * Self.mib, Self.mib])
        let value = ChunkedHash.combine(partDigests: layout.map { Base64.decode($0.checksumSHA256!)! })
        #expect(S3Transfers.quiltHash(fromAttributes: attributes(size: size, checksum: "AAAA" + value.dropFirst(4) + "-2",
                                                                 type: "COMPOSITE", totalParts: 2, parts: layout), size: size) == nil)
        layout[1].checksumSHA256 = nil
        #expect(S3Transfers.quiltHash(fromAttributes: attributes(size: size, checksum: value + "-2", type: "COMPOSITE",
                                                                 totalParts: 2, parts: layout), size: size) == nil)
        // A listing cut short (fewer parts than the total) is not the whole object.
        #expect(S3Transfers.quiltHash(fromAttributes: attributes(size: size, checksum: value + "-2", type: "COMPOSITE",
                                                                 totalParts: 2, parts: Array(parts([8 * Self.mib, Self.mib]).prefix(1))),
                                      size: size) == nil)
    }
}

/// GetObjectAttributes as S3 answers it (moto lists no parts): the part list comes in pages, and the hash is the
/// one the parts' checksums give, with not one byte of the object requested.
@Suite struct GetObjectAttributesTests {
    @Test func partsArePagedAndGiveTheHash() throws {
        let mib = 1024 * 1024
        let size = 16 * mib + 5
        let digests = (0..<3).map { SHA256Hasher.digest([UInt8]($0.description.utf8)) }
        let value = ChunkedHash.combine(partDigests: digests)
        @Sendable func part(_ n: Int, _ size: Int) -> String {
            "<Part><PartNumber>\(n)</PartNumber><Size>\(size)</Size><ChecksumSHA256>\(Base64.encode(digests[n - 1]))</ChecksumSHA256></Part>"
        }
        let server = try TinyHTTPServer { method, path, headers in
            guard method == "GET", path.contains("attributes"), headers["x-amz-object-attributes"]?.contains("ObjectParts") == true else {
                return (400, "")
            }
            let first = headers["x-amz-part-number-marker"] == nil
            let parts = first ? part(1, 8 * mib) + part(2, 8 * mib) : part(3, 5)
            return (200, """
                <?xml version="1.0" encoding="UTF-8"?>
                <GetObjectAttributesResponse><ETag>abc-3</ETag>\
                <Checksum><ChecksumSHA256>\(value)-3</ChecksumSHA256><ChecksumType>COMPOSITE</ChecksumType></Checksum>\
                <ObjectParts><PartsCount>3</PartsCount><PartNumberMarker>\(first ? 0 : 2)</PartNumberMarker>\
                <NextPartNumberMarker>\(first ? 2 : 3)</NextPartNumberMarker><MaxParts>2</MaxParts>\
                <IsTruncated>\(first)</IsTruncated>\(parts)</ObjectParts>\
                <StorageClass>STANDARD</StorageClass><ObjectSize>\(size)</ObjectSize></GetObjectAttributesResponse>
                """)
        }
        defer { server.stop() }
        let transfers = S3Transfers(client: try S3Client(environment: testS3Environment(endpoint: "http://127.0.0.1:\(server.port)")))
        let attributes = try #require(try transfers.client.getObjectAttributes(bucket: "b", key: "big"))
        #expect(attributes.totalParts == 3 && attributes.parts.map(\.number) == [1, 2, 3] && attributes.size == size)
        #expect(transfers.hashFromChecksums(S3ObjectReference(bucket: "b", key: "big"), size: size)
                == .hash(ObjectHash(.sha2256Chunked, value: value)))
        #expect(server.requests.allSatisfy { $0.contains("attributes") } && server.requests.count == 4)
    }

    @Test func aStoreWithoutTheOperationFallsBack() throws {
        let server = try TinyHTTPServer { _, _, _ in
            (501, "<Error><Code>NotImplemented</Code><Message>no</Message></Error>")
        }
        defer { server.stop() }
        let transfers = S3Transfers(client: try S3Client(environment: testS3Environment(endpoint: "http://127.0.0.1:\(server.port)")))
        #expect(transfers.hashFromChecksums(S3ObjectReference(bucket: "b", key: "k"), size: 3) == .unavailable)
        // Asked once: 501 is not worth a retry.
        #expect(server.requests.count == 1)
    }
}
