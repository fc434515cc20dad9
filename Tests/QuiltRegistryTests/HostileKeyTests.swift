// Hostile logical keys and file names: refused with the expected typed error before they reach the file system.
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltFormat
@testable import QuiltRegistry
#if canImport(Glibc)
import Glibc
#endif

private let hash64 = String(repeating: "ab", count: 32)
private let header = #"{"version": "v0", "message": "m"}"#

private func entryLine(key: String) -> String {
    let hash = #"{"type": "sha2-256-chunked", "value": "\#(hash64)"}"#
    return #"{"logical_key": \#(key), "physical_keys": ["file:///x"], "size": 1, "hash": \#(hash), "meta": {}}"#
}

private func read(_ lines: [String]) throws(ManifestError) -> Manifest {
    try Manifest(parsing: Array(lines.joined(separator: "\n").utf8))
}

@Suite struct HostileLogicalKeyTests {
    static let unsafe: [String] = [
        "../x", "/abs", "a/../../b", "a//b", ".", "..", "a/./b", "a/..", "./a", "a/", "", "a\u{0}b", "\u{0}",
        "../../../../etc/passwd", "a/b/../../../c",
    ]

    @Test(arguments: unsafe)
    func validateRefuses(key: String) throws {
        let error = try #require(throws: ManifestError.self) { try LogicalKey.validate(key) }
        guard case .invalidLogicalKey = error else { Issue.record("wrong error \(error) for \(key.debugDescription)"); return }
    }

    @Test(arguments: unsafe)
    func installerRefuses(key: String) {
        do {
            try Installer.checkSafe(key)
            Issue.record("Installer.checkSafe accepted \(key.debugDescription)")
        } catch {
            guard case .unsafeKey = error else { Issue.record("wrong error \(error)"); return }
        }
    }

    @Test func veryLongKeysAreValidButStayInsideTheRoot() throws {
        let long = String(repeating: "a", count: 100_000)
        try LogicalKey.validate(long)
        try LogicalKey.validate(String(repeating: "d/", count: 5000) + "f")
        #expect(throws: InstallError.self) { try Installer.checkSafe(long + "/../../x") }
    }

    @Test(arguments: ["a", "a/b", "a b/c.txt", "ünïcödé/ファイル", "a..b", ".hidden", "a/.b/c", "..a", "a.."])
    func ordinaryKeysPass(key: String) throws {
        try LogicalKey.validate(key)
        try Installer.checkSafe(key)
    }

    @Test func hostileKeysInAManifestNeverReachTheFileSystem() throws {
        // Whether the reader refuses them or not, the installer's check must.
        for key in Self.unsafe where !key.isEmpty {
            var json: [UInt8] = []
            JSONWriter.writeManifestForm(.string(key), to: &json)
            let lines = [header, entryLine(key: String(decoding: json, as: UTF8.self))]
            guard let manifest = try? read(lines) else { continue }
            for entry in manifest.entries {
                #expect(throws: InstallError.self) { try Installer.checkSafe(entry.logicalKey) }
            }
        }
    }
}

@Suite struct HostileNameTests {
    /// Creates an empty file whose path is `bytes` (which need not be UTF-8); returns what unlinks it.
    private func createRaw(_ bytes: [UInt8]) -> () -> Void {
        let path = (bytes + [0]).map { CChar(bitPattern: $0) }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(fd >= 0)
        close(fd)
        return { _ = unlink(path) }
    }

    @Test func namesThatAreNotUTF8AreRefusedOrSkippedNeverRepaired() throws {
        let dir = TemporaryDirectory()
        dir.file("data/a", "a")
        dir.file("data/sub/b", "b")
        let root = Array(dir.path.utf8)
        let removeInvalid = createRaw(root + Array("/data/sub/x".utf8) + [0xFF])
        let removeSurrogate = createRaw(root + Array("/data/s".utf8) + [0xED, 0xA0, 0x80])
        defer { removeInvalid(); removeSurrogate() }

        let listing = try FileSystem.namesInDirectory(dir.path + "/data/sub")
        #expect(listing.names == ["b"])
        #expect(listing.undecodable == [Array("x".utf8) + [0xFF]])

        let error = try #require(throws: BuildError.self) { try DirectoryScanner.scan(dir.path + "/data") }
        #expect(error.kind == .badInput)
        #expect(error.message == "file name is not valid UTF-8 '\(dir.path)/data/s\\xed\\xa0\\x80' (and 1 more)")
        var skipped: [[UInt8]] = []
        let files = try DirectoryScanner.scan(dir.path + "/data/", skipped: &skipped)
        #expect(files.map(\.relativePath) == ["a", "sub/b"])
        #expect(skipped.map { quoted(bytes: $0) } == ["'\(dir.path)/data/s\\xed\\xa0\\x80'", "'\(dir.path)/data/sub/x\\xff'"])
    }
}

@Suite struct DirectoryScanOrderTests {
    /// The walk sorts each directory's names instead of sorting whole paths; the result must be tree order.
    @Test func scanYieldsTreeOrder() throws {
        let dir = TemporaryDirectory()
        let keys = ["a-c", "a.txt", "a/b", "a/a/z", "a/a-b", "b", "é", "a0", "A", "a/a.b/c", "a b/x", "zz/é/1"]
        for key in keys { dir.file("data/" + key, key) }
        let files = try DirectoryScanner.scan(dir.path + "/data").map(\.relativePath)
        // Tree order: byte order with "/" below every other byte.
        #expect(files == ["A", "a/a/z", "a/a-b", "a/a.b/c", "a/b", "a b/x", "a-c", "a.txt", "a0", "b", "zz/é/1", "é"])
    }
}
