// Advisory locks on lock files: install, pull and a status that rewrites an install record take one.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An advisory lock (`flock`, exclusive) on a lock file, held until the value goes away or the process ends: a
/// lock that a killed process held is free again at once, with no stale file to clear by hand.
public final class FileLock: @unchecked Sendable {
    // The descriptor is immutable after init.
    public let path: String
    private let descriptor: Int32

    /// Takes the lock on `path` (created if missing); with `wait` false, nil at once if another holds it.
    public init?(path: String, wait: Bool) throws(FileSystemError) {
        try FileSystem.makeDirectories(FileSystem.parent(of: path))
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .cannotWrite(path: path, reason: errnoText()) }
        while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            let code = errno
            if code == EINTR { continue }
            close(fd)
            if code == EWOULDBLOCK { return nil }
            throw .cannotWrite(path: path, reason: errnoText(code))
        }
        self.path = path
        descriptor = fd
    }

    deinit { close(descriptor) }
}
