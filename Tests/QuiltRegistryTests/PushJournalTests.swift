// The push journal: what an interrupted push leaves, and what the next run reads back.
import Testing
#if canImport(Glibc)
import Glibc
#endif
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltFormat
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
        let (done, match) = try #require(journal.completed(bucket: "b", key: "ns/pkg/a.bin", source: source))
        #expect(done.versionId == "v1" && done.hash.value == "h" && match == .same)
        let open = try #require(journal.openUpload(bucket: "b", key: "ns/pkg/big", source: source))
        #expect(open.uploadId == "u1" && open.parts[1]?.digest == [1, 2, 3] && open.parts[1]?.etag == "\"e1\"")
        // Not taken over by this run: abandoned.
        #expect(journal.abandonedUploads().map(\.uploadId) == ["u2"])
        try journal.recordAborted(bucket: "b", key: "ns/pkg/gone", uploadId: "u2")
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

    @Test func aRewriteKeepingSizeAndModificationTimeIsNotReused() throws {
        let dir = TemporaryDirectory()
        let file = dir.file("a.bin", "one")
        let before = try #require(SourceIdentity(path: file))
        let journal = try PushJournal(directory: dir.path + "/j", bucket: "b", name: "ns/pkg")
        try journal.recordCompleted(bucket: "b", key: "k", source: before, versionId: nil, hash: ObjectHash(.sha2256Chunked, value: "h"))
        try journal.recordStarted(bucket: "b", key: "big", source: before, uploadId: "u1")
        usleep(20_000)  // a later clock tick: the rewrite's change time differs
        // The same inode rewritten with as many bytes, its modification time put back (touch -d, touch -r).
        let fd = open(file, O_WRONLY)
        _ = Array("two".utf8).withUnsafeBytes { pwrite(fd, $0.baseAddress, 3, 0) }
        var times = [timespec(tv_sec: before.mtime / 1_000_000_000, tv_nsec: before.mtime % 1_000_000_000),
                     timespec(tv_sec: before.mtime / 1_000_000_000, tv_nsec: before.mtime % 1_000_000_000)]
        futimens(fd, &times)
        close(fd)
        let after = try #require(SourceIdentity(path: file))
        #expect(after.size == before.size && after.mtime == before.mtime && after.inode == before.inode)
        #expect(before.match(after) == .different)
        #expect(journal.completed(bucket: "b", key: "k", source: after) == nil)
        #expect(journal.openUpload(bucket: "b", key: "big", source: after) == nil)
        // Reopened, the journal still tells them apart: the identity is in the records.
        let reopened = try PushJournal(directory: dir.path + "/j", bucket: "b", name: "ns/pkg")
        #expect(reopened.completed(bucket: "b", key: "k", source: after) == nil)
        #expect(reopened.completed(bucket: "b", key: "k", source: before)?.match == .same)
    }

    @Test func recordsOfOlderJournalsAreReadAndDoubted() throws {
        let dir = TemporaryDirectory()
        let file = dir.file("a.bin", "one")
        let now = try #require(SourceIdentity(path: file))
        let journalPath: String
        do {
            let journal = try PushJournal(directory: dir.path + "/j", bucket: "b", name: "ns/pkg")
            journalPath = journal.path
        }
        // Lines as journals wrote them before inode and change time were recorded.
        let old = """
            {"bucket":"b","hash":"h","hash_type":"sha2-256-chunked","key":"k","mtime":\(now.mtime),"op":"done","size":3,"src":"\(file)","version":"v1"}
            {"bucket":"b","key":"big","mtime":\(now.mtime),"op":"start","size":3,"src":"\(file)","upload":"u1"}
            {"bucket":"b","key":"big2","mtime":\(now.mtime),"op":"start","size":3,"src":"\(file)","upload":"u2"}
            {"bucket":"b","key":"big2","op":"aborted"}

            """
        try AppendOnlyFile(path: journalPath).append(Array(old.utf8))
        let journal = try PushJournal(directory: dir.path + "/j", bucket: "b", name: "ns/pkg")
        let (done, match) = try #require(journal.completed(bucket: "b", key: "k", source: now))
        #expect(done.versionId == "v1" && match == .doubtful)
        #expect(journal.openUpload(bucket: "b", key: "big", source: now)?.uploadId == "u1")
        #expect(journal.abandonedUploads().isEmpty)
    }

    @Test func anUploadReplacedByANewerOneIsAbandoned() throws {
        let dir = TemporaryDirectory()
        let source = try #require(SourceIdentity(path: dir.file("a.bin", "one")))
        let journal = try PushJournal(directory: dir.path + "/j", bucket: "b", name: "ns/pkg")
        try journal.recordStarted(bucket: "b", key: "big", source: source, uploadId: "u1")
        try journal.recordStarted(bucket: "b", key: "big", source: source, uploadId: "u2")
        #expect(journal.abandonedUploads().map(\.uploadId) == ["u1"])
        let reopened = try PushJournal(directory: dir.path + "/j", bucket: "b", name: "ns/pkg")
        _ = reopened.openUpload(bucket: "b", key: "big", source: source)
        #expect(reopened.abandonedUploads().map(\.uploadId) == ["u1"])
        try reopened.recordAborted(bucket: "b", key: "big", uploadId: "u1")
        #expect(reopened.abandonedUploads().isEmpty)
        #expect(reopened.openUpload(bucket: "b", key: "big", source: source)?.uploadId == "u2")
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
