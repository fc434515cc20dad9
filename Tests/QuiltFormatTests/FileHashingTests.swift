// Hashing a file that changes while it is read: the hash and the size are those of one read, or the read is refused.
import Testing
#if canImport(Glibc)
import Glibc
#endif
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltFormat

/// Waits until a file written now is no longer in the clock tick of the next open (see `checkUnchanged`).
private func letTheClockMoveOn() { usleep(UInt32(InputFile.stampTick / 1000 + 10_000)) }

@Suite struct FileHashingTests {
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
}
