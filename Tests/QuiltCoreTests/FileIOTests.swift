// The file layer's guarantees about files that change under a reader, and files that are not regular.
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import QuiltSupport
@testable import QuiltFormat

/// Overwrites `path` in place (same inode) with `text` and, if given, puts its modification time back.
private func rewriteInPlace(_ path: String, _ text: String, restoring mtime: Int? = nil) {
    let fd = open(path, O_WRONLY)
    precondition(fd >= 0)
    _ = Array(text.utf8).withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    if let mtime {
        var times = [timespec(tv_sec: mtime / 1_000_000_000, tv_nsec: mtime % 1_000_000_000),
                     timespec(tv_sec: mtime / 1_000_000_000, tv_nsec: mtime % 1_000_000_000)]
        futimens(fd, &times)
    }
    close(fd)
}

/// Expects `body` to throw exactly `expected`.
private func expectError(_ expected: FileSystemError, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("no error; expected \(expected)")
    } catch {
        #expect("\(error)" == "\(expected)")
    }
}

/// Waits until a file written now is no longer in the clock tick of the next open (see `checkUnchanged`).
private func letTheClockMoveOn() { usleep(UInt32(InputFile.stampTick / 1000 + 10_000)) }

@Suite struct FileIOTests {
    @Test func aRewriteWithTheSameSizeAndModificationTimeIsStillAChange() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("a.bin", "one two three")
        letTheClockMoveOn()
        let file = try InputFile(path: path)
        _ = try file.readAll()
        try file.checkUnchanged()
        rewriteInPlace(path, "ONE TWO THREE", restoring: file.identity.mtime)
        #expect(FileSystem.identity(path)?.mtime == file.identity.mtime)
        expectError(FileSystemError.changedWhileRead(path: path)) { try file.checkUnchanged() }
    }

    @Test func readStablyReadsAFileThatChangedAgainAndGivesUpAfterThreeAttempts() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("a.bin", "first")
        letTheClockMoveOn()
        var attempts = 0
        let bytes = try InputFile.readStably(path) { file -> [UInt8] in
            attempts += 1
            let bytes = try file.readAll()
            if attempts == 1 { rewriteInPlace(path, "other") }
            try file.checkUnchanged()
            return bytes
        }
        #expect(attempts == 2 && bytes == Array("other".utf8))

        attempts = 0
        expectError(FileSystemError.changedWhileRead(path: path)) {
            try InputFile.readStably(path) { file in
                attempts += 1
                rewriteInPlace(path, "again")
                try file.checkUnchanged()
            }
        }
        #expect(attempts == 3)
        #expect(FileSystemError.changedWhileRead(path: "a b").message == "file changed while it was read 'a b'")
    }

    @Test func hashAndSizeComeFromTheSameRead() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("a.bin", "short")
        letTheClockMoveOn()
        // A file that grows after its open: the size and hash are those of the bytes read, or the read is refused.
        let file = try InputFile(path: path)
        rewriteInPlace(path, "much longer now")
        expectError(FileSystemError.changedWhileRead(path: path)) { _ = try FileHasher.hashUnchanged(file: file, type: .sha2256Chunked) }
        letTheClockMoveOn()
        let (hash, size) = try FileHasher.hash(path: path)
        let again = try FileHasher.hash(file: InputFile(path: path), type: .sha2256Chunked)
        #expect(size == 15 && hash == again)
    }

    @Test func aFIFOIsRefusedWithoutWaitingForAWriter() throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/fifo"
        #expect(mkfifo(path, 0o600) == 0)
        expectError(FileSystemError.notARegularFile(path: path)) { _ = try InputFile(path: path) }
        expectError(FileSystemError.notARegularFile(path: "/dev/zero")) { _ = try InputFile(path: "/dev/zero") }
    }

    @Test func aDirectoryHandleNeverFollowsALinkBelowIt() throws {
        let dir = TemporaryDirectory()
        try FileSystem.makeDirectories(dir.path + "/outside")
        try FileSystem.makeDirectories(dir.path + "/dest/real")
        symlink(dir.path + "/outside", dir.path + "/dest/link")
        let dest = try DirectoryHandle(path: dir.path + "/dest")
        expectError(FileSystemError.notADirectory(path: dir.path + "/dest/link")) { _ = try dest.subdirectory("link") }
        #expect(dest.kind(of: "link") == .symbolicLink)

        // The handle stays on the directory it opened, whatever its name becomes.
        let real = try dest.subdirectory("real")
        try FileSystem.move(dir.path + "/dest/real", to: dir.path + "/dest/moved")
        symlink(dir.path + "/outside", dir.path + "/dest/real")
        let writer = try AtomicFileWriter(in: real, name: "a")
        #expect(try real.names().count == 1 && real.names()[0].hasPrefix(".a.tmp-") && real.names()[0].utf8.count == 13)
        try writer.write(Array("x".utf8))
        try writer.commit()
        #expect(try FileSystem.readFile(dir.path + "/dest/moved/a") == Array("x".utf8))
        #expect(try FileSystem.contentsOfDirectory(dir.path + "/outside").isEmpty)

        // A writer never committed takes its temporary file with it.
        do { _ = try AtomicFileWriter(in: real, name: "b") }
        #expect(try real.names() == ["a"])
    }
}
