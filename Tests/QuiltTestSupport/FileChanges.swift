// Changing a file under a reader, as the tests of stable reads need: in place, with its modification time put back.
import Testing
#if canImport(Glibc)
import Glibc
#endif
import QuiltSupport

/// Overwrites `path` in place (same inode) with `text` and, if given, puts its modification time back.
public func rewriteInPlace(_ path: String, _ text: String, restoring mtime: Int? = nil) {
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
public func expectError(_ expected: FileSystemError, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("no error; expected \(expected)")
    } catch {
        #expect("\(error)" == "\(expected)")
    }
}
