// The push journal: what an interrupted push leaves, and what the next run reads back.
import Testing
@testable import QuiltSupport
@testable import QuiltFormat
@testable import QuiltHTTP
@testable import QuiltStorage
@testable import QuiltAWS
@testable import QuiltRegistry

@Suite struct PushJournalTests {
    @Test func recordsSurviveReopeningAndATornLastLine() throws {
        let dir = TemporaryDirectory()
        let file = dir.file("data/a.bin", "hello")
        let source = try #require(SourceIdentity(path: file))
        do {
            let journal = try PushJournal(directory: dir.path + "/j", bucket: "b", name: "ns/pkg")
            try journal.recordCompleted(bucket: "b", key: "ns/pkg/a.bin", source: source, versionId: "v1",
                                        hash: ObjectHash(.sha2256Chunked, value: "h"))
            try journal.recordStarted(bucket: "b", key: "ns/pkg/big", source: source, uploadId: "u1")
            try journal.recordPart(bucket: "b", key: "ns/pkg/big", uploadId: "u1", number: 1, etag: "\"e1\"", checksum: "c1",
                                   digest: [1, 2, 3])
            try journal.recordStarted(bucket: "b", key: "ns/pkg/gone", source: source, uploadId: "u2")
            // A crash in the middle of a write leaves a torn line behind.
            try AppendOnlyFile(path: journal.path).append(Array("{\"op\":\"part\",\"bucket\":\"b\",\"ke".utf8))
        }
        let journal = try PushJournal(directory: dir.path + "/j", bucket: "b", name: "ns/pkg")
        let done = try #require(journal.completed(bucket: "b", key: "ns/pkg/a.bin", source: source))
        #expect(done.versionId == "v1" && done.hash.value == "h")
        let open = try #require(journal.openUpload(bucket: "b", key: "ns/pkg/big", source: source))
        #expect(open.uploadId == "u1" && open.parts[1]?.digest == [1, 2, 3] && open.parts[1]?.etag == "\"e1\"")
        // Not taken over by this run: abandoned.
        #expect(journal.abandonedUploads().map(\.uploadId) == ["u2"])
        try journal.recordAborted(bucket: "b", key: "ns/pkg/gone")
        #expect(journal.abandonedUploads().isEmpty)
        journal.remove()
        #expect(!FileSystem.exists(journal.path))
    }

    @Test func aChangedSourceIsNotReused() throws {
        let dir = TemporaryDirectory()
        let file = dir.file("a.bin", "one")
        let before = try #require(SourceIdentity(path: file))
        let journal = try PushJournal(directory: dir.path + "/j", bucket: "b", name: "ns/pkg")
        try journal.recordCompleted(bucket: "b", key: "k", source: before, versionId: nil, hash: ObjectHash(.sha2256Chunked, value: "h"))
        dir.file("a.bin", "two, longer")
        let after = try #require(SourceIdentity(path: file))
        #expect(journal.completed(bucket: "b", key: "k", source: after) == nil)
        #expect(journal.completed(bucket: "b", key: "other", source: before) == nil)
    }

    @Test func s3ChecksumsConvertToPackageHashesAsQuilt3Does() {
        let digest = SHA256Hasher.digest(Array("hello\n".utf8))
        #expect(S3Transfers.quiltHash(fromS3Checksum: Base64.encode(digest), size: 6) == "7LZbuY+dkFtwRYmGw5/LrXcV5fL8w7Hwd2fXyD4kOMw=")
        let empty = SHA256Hasher.digest([])
        #expect(S3Transfers.quiltHash(fromS3Checksum: Base64.encode(empty), size: 0) == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
        #expect(S3Transfers.quiltHash(fromS3Checksum: "abc=-2", size: 9 * 1024 * 1024) == "abc=")
        #expect(S3Transfers.quiltHash(fromS3Checksum: "abc=-3", size: 9 * 1024 * 1024) == nil)
        #expect(S3Transfers.quiltHash(fromS3Checksum: Base64.encode(digest), size: 9 * 1024 * 1024) == nil)
    }
}
