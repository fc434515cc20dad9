// The local-directory backend: its conditional writes, and the storage conformance suite every backend passes.
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltStorage

@Suite struct LocalStorageTests {
    @Test func conditionalWrites() throws {
        let dir = TemporaryDirectory()
        let storage = LocalStorage(root: dir.path)
        let info = try storage.put("a/b", bytes: [1], condition: .absent)
        #expect(throws: StorageError.self) { try storage.put("a/b", bytes: [2], condition: .absent) }
        #expect(throws: StorageError.self) { try storage.put("a/b", bytes: [2], condition: .matches(etag: "nope")) }
        try storage.put("a/b", bytes: [3], condition: .matches(etag: info.etag))
        #expect(try storage.get("a/b") == [3])
        #expect(try storage.list(prefix: "a/") == ["a/b"])
        #expect(!FileSystem.exists(dir.path + "/a/b.quilt-lock"))
    }
}

@Suite struct LocalStorageConformanceTests {
    /// The same contract suite the S3 backend passes (restic's approach: one suite, every backend).
    @Test func localDirectoryKeepsTheStorageContract() throws {
        let dir = TemporaryDirectory()
        var n = 0
        try checkStorageConformance {
            n += 1
            return LocalStorage(root: dir.path + "/store\(n)")
        }
    }
}
