// Files that only grow, a whole record per write (journals, traces).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file that only grows, one record per `append`, each written with a single `write(2)` on an `O_APPEND`
/// descriptor: after a crash the file holds whole records, at worst followed by one torn last line.
public final class AppendOnlyFile: @unchecked Sendable {
    // The descriptor is written under `lock` only.
    public let path: String
    private let descriptor: Int32
    private let lock = Locked(())

    /// Opens `path` for appending, creating it (mode `permissions` less the umask) and, unless told otherwise, its
    /// parent directories.
    public init(path: String, permissions: mode_t = 0o600, createDirectories: Bool = true) throws(FileSystemError) {
        self.path = path
        if createDirectories { try FileSystem.makeDirectories(FileSystem.parent(of: path)) }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, permissions)
        guard fd >= 0 else { throw .cannotWrite(path: path, reason: errnoText()) }
        descriptor = fd
    }

    deinit { close(descriptor) }

    public func append(_ record: [UInt8]) throws(FileSystemError) {
        let failure: FileSystemError? = lock.withLock { _ in
            record.withUnsafeBytes { raw -> FileSystemError? in
                writeAll(descriptor, raw) ? nil : .cannotWrite(path: path, reason: errnoText())
            }
        }
        if let failure { throw failure }
    }

    /// The file's length now.
    public func size() throws(FileSystemError) -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .cannotRead(path: path, reason: errnoText()) }
        return Int(info.st_size)
    }

    /// Cuts the file back to `length` bytes (records a checkpoint did not cover); appends go on from there.
    public func truncate(to length: Int) throws(FileSystemError) {
        let failed: Bool = lock.withLock { _ in ftruncate(descriptor, off_t(length)) != 0 }
        if failed { throw .cannotWrite(path: path, reason: errnoText()) }
    }
}
