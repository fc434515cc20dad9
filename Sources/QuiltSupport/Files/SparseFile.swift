// A named file filled in pieces, out of order, by several threads or processes: the object cache's partial entries
// (chunks of an object read by range, kept until the whole object is there).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file of a fixed size opened for reading and writing at offsets (`pread`, `pwrite`: any thread), whose
/// unwritten ranges are holes. Which ranges hold data is asked of the file system (`SEEK_DATA`), so a piece written
/// by another process is seen; where the file system does not keep holes, every range looks written, and what is
/// read there is zeros: callers check what they read.
public final class SparseFile: @unchecked Sendable {
    // The descriptor is immutable after init; pread and pwrite are thread-safe, hence the unchecked Sendable.
    public let path: String
    private let descriptor: Int32
    public let size: Int

    /// Opens `name` in `directory` (not following a link), creating it (mode 0666 less the umask) when it is not
    /// there; a file of another size is made `size` bytes long (cut, or extended with a hole).
    init(in directory: DirectoryHandle, name: String, size: Int) throws(FileSystemError) {
        path = directory.path + "/" + name
        let fd = openat(directory.descriptor, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC | O_NONBLOCK, 0o666)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: errnoText()) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .notARegularFile(path: path)
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        if Int(info.st_size) != size, ftruncate(fd, off_t(size)) != 0 {
            let reason = errnoText()
            close(fd)
            throw .cannotWrite(path: path, reason: reason)
        }
        descriptor = fd
        self.size = size
    }

    deinit { close(descriptor) }

    #if os(Linux)
    /// `SEEK_DATA` and `SEEK_HOLE` of <unistd.h>, which Glibc's module does not export (behind _GNU_SOURCE).
    static let seekData: Int32 = 3
    static let seekHole: Int32 = 4
    #else
    static let seekData: Int32 = SEEK_DATA
    static let seekHole: Int32 = SEEK_HOLE
    #endif

    /// Whether every byte of `range` has been written (as far as the file system tells holes apart).
    public func holdsData(_ range: Range<Int>) -> Bool {
        guard !range.isEmpty, range.upperBound <= size else { return false }
        guard lseek(descriptor, off_t(range.lowerBound), Self.seekData) == off_t(range.lowerBound) else { return false }
        return lseek(descriptor, off_t(range.lowerBound), Self.seekHole) >= off_t(range.upperBound)
    }

    /// Reads up to `buffer.count` bytes at `offset`; returns how many were read (0 at the end).
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(FileSystemError) -> Int {
        let n = readAt(descriptor, buffer, offset)
        guard n >= 0 else { throw .cannotRead(path: path, reason: errnoText()) }
        return n
    }

    /// Writes all of `bytes` at `offset`.
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(FileSystemError) {
        guard writeAll(descriptor, bytes, at: offset) else { throw .cannotWrite(path: path, reason: errnoText()) }
    }
}

extension DirectoryHandle {
    /// The file `name` of this directory as a `SparseFile` of `size` bytes, created if it is not there.
    public func openSparseFile(_ name: String, size: Int) throws(FileSystemError) -> SparseFile {
        try SparseFile(in: self, name: name, size: size)
    }
}
