// Manifests: the writer's exact bytes, the top hash against quilt3's vectors, tree order, validation.
import Testing
@testable import QuiltSupport
@testable import QuiltFormat

private func topHash(header: String, entries: [ManifestEntry] = []) throws -> String {
    guard case .object(let object) = try JSONParser.parse(header) else { throw ManifestError.empty }
    var manifest = Manifest(header: object, entries: entries)
    return try ManifestWriter().topHash(of: &manifest)
}

@Suite struct TopHashTests {
    @Test(arguments: [
        (#"{"message":"","user_meta":{},"version":"v0"}"#, "0929824c58e90a6d2cc3ad2c7bdc66e34f43e8ed7063a6b48595a3834dd3ec99"),
        (#"{"message":"","version":"v0"}"#, "770459d4230273fd44b272c552d1204458175e7d7cb26fcd601c662cf5f72d05"),
        (#"{"message":null,"version":"v0"}"#, "2a5a67156ca9238c14d12042db51c5b52260fdd5511b61ea89b58929d6e1769b"),
        (#"{"message":null,"user_meta":null,"version":"v0"}"#, "fb53faf10edc3c9cc234f362c1a57d702213e869a20b887d9f6ed5439c936513"),
        (#"{"message":"Initial","user_meta":{"key":"value"},"version":"v0"}"#, "0d659c7f1d7a141160a9defc9b1c9ea7bca96d3454af59cbfcf523871e72f47e"),
    ])
    func headerOnly(header: String, expected: String) throws {
        #expect(try topHash(header: header) == expected)
    }

    @Test func workedExampleFromQuilt3() throws {
        let entries = [
            ManifestEntry(logicalKey: "we ird/\u{FC}+%.txt", physicalKey: "file:///x", size: 1,
                          hash: ObjectHash(.sha2256Chunked, value: "CjJcowPrMBTEOuAElw80NjTbF2+haXvMjJ76yUYmSI0=")),
            ManifestEntry(logicalKey: "sub/b.json", physicalKey: "file:///y", size: 8,
                          hash: ObjectHash(.sha2256Chunked, value: "2/eehpc+u+xJnd16BiB5vM8ftoRzwsrnbz9ETa1B3wo="),
                          meta: try JSONParser.parse(#"{"user_meta": {"x": [1, 2]}}"#)),
            ManifestEntry(logicalKey: "a.txt", physicalKey: "file:///z", size: 6,
                          hash: ObjectHash(.sha2256Chunked, value: "7LZbuY+dkFtwRYmGw5/LrXcV5fL8w7Hwd2fXyD4kOMw=")),
            ManifestEntry(logicalKey: "empty.bin", physicalKey: "file:///w", size: 0,
                          hash: ObjectHash(.sha2256Chunked, value: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")),
        ]
        let header = "{\"version\": \"v0\", \"user_meta\": {\"z\": 1, \"a\": \"\u{E9}\", \"f\": 1.0, \"n\": null}, \"message\": \"hi \u{FC}\"}"
        #expect(try topHash(header: header, entries: entries) == "765edb6a0bca0dbfad68f5f4d85b08294c4d3c2fcabdaa251f7d56bb7e5f9dd9")
    }

    @Test func extraHeaderKeyDirectoryLineAndLegacyHashOrder() throws {
        let text = """
        {"version": "v0", "top_hash": "x", "extra": [1, 2.50, 1E5], "message": "m"}
        {"logical_key": "d/", "meta": {"k": 1}}
        {"logical_key": "d/f", "physical_keys": ["file:///tmp/f"], "size": 3, "hash": {"value": "abc", "type": "SHA256"}, "meta": null}

        """
        var manifest = try Manifest(parsing: Array(text.utf8))
        let (bytes, top) = try ManifestWriter().serialize(&manifest)
        #expect(top == "06fa30c0d6368494d7135164945823d93b486a4488291dffe19ba9f674675784")
        #expect(String(decoding: bytes, as: UTF8.self) == """
        {"version": "v0", "extra": [1, 2.5, 100000.0], "message": "m"}
        {"logical_key": "d/", "meta": {"k": 1}}
        {"logical_key": "d/f", "physical_keys": ["file:///tmp/f"], "size": 3, "hash": {"value": "abc", "type": "SHA256"}, "meta": {}}

        """)
    }
}

@Suite struct TreeOrderTests {
    @Test func directoryChildrenSortBeforeSiblingsWithLongerNames() {
        let keys = ["a.txt", "a-c", "a/b", "a/x", "b", "a/b/c", "A", "\u{E9}", "z"]
        let sorted = keys.sorted(by: LogicalKey.precedes)
        #expect(sorted == ["A", "a/b", "a/x", "a-c", "a.txt", "b", "z", "\u{E9}"].reduce(into: [String]()) { $0.append($1) }
            .flatMap { $0 == "a/b" ? ["a/b", "a/b/c"] : [$0] })
    }

    @Test func duplicatesAndFileDirectoryCollisionsAreRejected() {
        func entry(_ key: String) -> ManifestEntry {
            ManifestEntry(logicalKey: key, physicalKey: "file:///x", size: 0, hash: ObjectHash(.sha256, value: "0"))
        }
        var duplicate = Manifest(header: JSONObject(), entries: [entry("a/b"), entry("a/b")])
        #expect(throws: ManifestError.self) { try duplicate.normalize() }
        var collision = Manifest(header: JSONObject(), entries: [entry("a"), entry("a-b"), entry("a/b")])
        #expect(throws: ManifestError.self) { try collision.normalize() }
        var distinct = Manifest(header: JSONObject(), entries: [entry("\u{E9}"), entry("e\u{301}")])
        #expect(throws: Never.self) { try distinct.normalize() }
    }
}

@Suite struct ValidationTests {
    @Test func packageNames() {
        for good in ["a/b", "user_1/pkg-2", "\u{E9}t\u{E9}/donn\u{E9}es", "a/\u{0661}"] {
            #expect(throws: Never.self, "\(good)") { try PackageName.validate(good) }
        }
        for bad in ["a", "a/b/c", "/b", "a/", "a.b/c", "a/b\n", "a b/c", "", "a/b.c"] {
            #expect(throws: ManifestError.self, "\(bad)") { try PackageName.validate(bad) }
        }
    }

    @Test func logicalKeys() {
        for good in ["a", "a/b", "...", ".hidden", "with space", "back\\slash", "\u{1F600}"] {
            #expect(throws: Never.self, "\(good)") { try LogicalKey.validate(good) }
        }
        for bad in ["", "/a", "a/", "a//b", ".", "..", "a/./b", "a/../b", "a\0b"] {
            #expect(throws: ManifestError.self, "\(bad)") { try LogicalKey.validate(bad) }
        }
    }

    @Test func recordSizeLimit() throws {
        var manifest = Manifest()
        manifest.userMeta = .string(String(repeating: "x", count: 200))
        #expect(throws: ManifestError.self) { try ManifestWriter(maxRecordSize: 100).serialize(&manifest) }
        #expect(throws: Never.self) { try ManifestWriter(maxRecordSize: 1000).serialize(&manifest) }
    }

    @Test func readerRejectsMalformedManifests() {
        let bad = [
            "", "[1]\n", "{\"version\": \"v0\"}\n\n", "{\"version\": \"v0\", \"message\": 1}\n",
            "{\"version\": \"v0\"}\n{\"logical_key\": \"a\", \"physical_keys\": [\"file:///a\"], \"hash\": null, \"meta\": {}}\n",
            "{\"version\": \"v0\"}\n{\"physical_keys\": [\"file:///a\"], \"size\": 1, \"hash\": null, \"meta\": {}}\n",
            "{\"version\": \"v0\"}\n{\"logical_key\": \"a\", \"physical_keys\": [\"file:///a\"], \"size\": -1, \"hash\": null, \"meta\": {}}\n",
        ]
        for text in bad {
            #expect(throws: ManifestError.self, "\(text)") { try Manifest(parsing: Array(text.utf8)) }
        }
    }
}

@Suite struct PhysicalKeyTests {
    @Test func fileURLsEncodeLikePythonQuote() throws {
        let key = PhysicalKey.local(path: "/home/ana/data/we ird/\u{FC}+%.txt")
        #expect(key.url == "file:///home/ana/data/we%20ird/%C3%BC%2B%25.txt")
        #expect(try PhysicalKey(url: key.url) == key)
        #expect(try PhysicalKey(url: "file://localhost/a%20b") == .local(path: "/a b"))
    }

    @Test func s3URLs() throws {
        let key = PhysicalKey.s3(bucket: "b", key: "dir/a b+c~_.-%.txt", versionId: "v+1/=")
        #expect(key.url == "s3://b/dir/a%20b%2Bc~_.-%25.txt?versionId=v%2B1%2F%3D")
        #expect(try PhysicalKey(url: key.url) == key)
        #expect(try PhysicalKey(url: "s3://b/a+b") == .s3(bucket: "b", key: "a+b", versionId: nil))
        #expect(PhysicalKey.s3(bucket: "b", key: "", versionId: nil).url == "s3://b/")
        for bad in ["s3:///k", "s3://b/k?foo=1", "http://x/y", "file://host/a", "file://a?x"] {
            #expect(throws: ManifestError.self, "\(bad)") { try PhysicalKey(url: bad) }
        }
    }
}

@Suite struct LenientReaderTests {
    /// quilt-rs writes compact JSON, its header keys in its own order, and S3 keys with `+` left raw.
    @Test func readsTheCompactFormQuiltRsWrites() throws {
        let text = """
        {"version":"v0","message":"Initial","user_meta":{"key":"value"}}
        {"logical_key":"a+b.txt","physical_keys":["s3://bucket/a+b.txt?versionId=v1"],"size":3,"hash":{"type":"sha2-256-chunked","value":"abc"},"meta":{}}

        """
        var manifest = try Manifest(parsing: Array(text.utf8))
        #expect(try PhysicalKey(url: manifest.entries[0].physicalKey) == .s3(bucket: "bucket", key: "a+b.txt", versionId: "v1"))
        let (bytes, _) = try ManifestWriter().serialize(&manifest)
        // Written back in quilt3's form, header keys in the order read.
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix(
            "{\"version\": \"v0\", \"message\": \"Initial\", \"user_meta\": {\"key\": \"value\"}}\n{\"logical_key\": \"a+b.txt\""))
        var header = Manifest(header: manifest.header, entries: [])
        // Header-only vector from format.md: the key order does not change the top hash.
        #expect(try ManifestWriter().topHash(of: &header) == "0d659c7f1d7a141160a9defc9b1c9ea7bca96d3454af59cbfcf523871e72f47e")
    }

    @Test func keepsUnknownHeaderKeysAndDropsTopHash() throws {
        let manifest = try Manifest(parsing: Array("{\"version\": \"v0\", \"top_hash\": \"x\", \"workflow\": {\"id\": null}, \"zz\": 1}\n".utf8))
        #expect(manifest.header.keys == ["version", "workflow", "zz"])
    }
}
