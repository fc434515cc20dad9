// Files opened for reading: regular files only, read by offset from any thread, checked unchanged after the read.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file for reading, closed when the value goes away. Reads use `pread`, so one file can be read at
/// several offsets from several threads at once. Only regular files open: a FIFO or a device is refused before
/// anything waits on it.
public final class InputFile: @unchecked Sendable {
    // The descriptor is immutable after init and pread is thread-safe, hence the unchecked Sendable.
    public let path: String
    // Internal: AtomicFileWriter copies from it by descriptor.
    let descriptor: Int32
    /// The file as it was at open; `size` is the number of bytes a reader takes.
    public let identity: FileIdentity
    /// The file-stamp clock just before the open.
    private let openedAt: Int

    public var size: Int { identity.size }

    public convenience init(path: String) throws(FileSystemError) {
        let openedAt = fileStampClock()
        // O_NONBLOCK: an open of a FIFO without a writer would otherwise wait forever, before fstat could say
        // what it is. For a regular file it changes nothing, and it is cleared once the file is known to be one.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw .notFound(path: path) }
            throw .cannotOpen(path: path, reason: errnoText(code))
        }
        try self.init(adopting: fd, path: path, openedAt: openedAt)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
    }

    /// Takes over `fd`, a descriptor just opened for reading (`openedAt`: the file-stamp clock before the open);
    /// refuses anything but a regular file, closing it.
    init(adopting fd: Int32, path: String, openedAt: Int = fileStampClock()) throws(FileSystemError) {
        self.path = path
        self.openedAt = openedAt
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = errnoText()
            close(fd)
            throw .cannotOpen(path: path, reason: reason)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .notARegularFile(path: path)
        }
        if FileIdentity(info).ctime > openedAt - Self.writeSettleWindow {
            // write(2) stamps a file before it copies the data in, holding the inode's lock throughout (ext4,
            // xfs, tmpfs, btrfs): a write under way at the open, stamped before it, would let a reader take a
            // mix of old and new bytes that the stamps of a later check cannot show. SEEK_HOLE takes that lock
            // shared on those file systems, so it returns once such a write is over; the file is then looked at
            // again. Only a file stamped in the last moments pays for it (one call).
            _ = lseek(fd, 0, Self.seekHole)
            guard fstat(fd, &info) == 0 else {
                let reason = errnoText()
                close(fd)
                throw .cannotOpen(path: path, reason: reason)
            }
        }
        descriptor = fd
        identity = FileIdentity(info)
    }

    /// How long before the open a stamp may come from a write still copying its data (a descheduled writer).
    static let writeSettleWindow = 2_000_000_000
    #if os(Linux)
    /// `SEEK_HOLE` of <unistd.h>, which Glibc's module does not export (it is behind _GNU_SOURCE).
    static let seekHole: Int32 = 4
    #else
    static let seekHole: Int32 = SEEK_HOLE
    #endif

    /// Sets the access time to now: the cache's least-recently-used order does not depend on the mount's
    /// atime policy (relatime updates it at most daily, noatime never).
    public func markUsed() {
        var times = [timespec(tv_sec: 0, tv_nsec: (1 << 30) - 1), timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2)]  // UTIME_NOW, UTIME_OMIT (macros Swift does not import)
        _ = futimens(descriptor, &times)
    }

    /// Takes over `fd`, a file open for reading (it is closed with this); on a throw, `fd` is still the caller's.
    init(adopting fd: Int32, path: String) throws(FileSystemError) {
        self.path = path
        openedAt = fileStampClock()
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .cannotOpen(path: path, reason: errnoText()) }
        descriptor = fd
        identity = FileIdentity(info)
    }

    /// A second descriptor on a file already open for writing (read back what was written, by descriptor, not
    /// by a path that could name something else by now).
    init(duplicating fd: Int32, path: String) throws(FileSystemError) {
        self.path = path
        openedAt = fileStampClock()
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { throw .cannotOpen(path: path, reason: errnoText()) }
        var info = stat()
        guard fstat(copy, &info) == 0 else {
            let reason = errnoText()
            close(copy)
            throw .cannotOpen(path: path, reason: reason)
        }
        descriptor = copy
        identity = FileIdentity(info)
    }

    /// Throws `changedWhileRead` unless the file is provably as it was at open: a reader calls it after its last
    /// read, so that what it read is one version of the file, not a mix or a prefix of two. A file last changed
    /// in the clock tick of the open is not proven: a write later in that tick leaves every timestamp as it was
    /// (a stamp well in the future, from another machine's clock, is no such write).
    public func checkUnchanged() throws(FileSystemError) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .cannotRead(path: path, reason: errnoText()) }
        guard FileIdentity(info) == identity, !identity.isRacy(observedAt: openedAt) else { throw .changedWhileRead(path: path) }
    }

    /// Tells the kernel the whole file is about to be read in order (`POSIX_FADV_SEQUENTIAL`, as cp does): twice
    /// the read-ahead, which a file not in the page cache is read at. Only advice: a failure changes nothing.
    public func adviseSequentialRead() {
        #if os(Linux)
        // A file within the default read-ahead (128 KiB) is read in one go anyway: no call for it.
        if size > 1 << 17 { _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_SEQUENTIAL) }
        #endif
    }

    /// The identity the file has now (fstat of the open file); nil if it cannot be looked at. For a file just
    /// renamed into place, whose change time the rename moved.
    public func currentIdentity() -> FileIdentity? {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        return FileIdentity(info)
    }

    /// Longer than a coarse clock tick (see `FileIdentity.stampTick`).
    static let stampTick = FileIdentity.stampTick

    /// Opens `path` and runs `read`, which ends with `checkUnchanged()`; if the file changed while it was read,
    /// waits a little, opens it again and reads it again, up to `attempts` times in all, and then gives up with
    /// `changedWhileRead`. Whatever `read` returns comes from one open file read once.
    public static func readStably<R>(_ path: String, attempts: Int = 3, _ read: (InputFile) throws -> R) throws -> R {
        var attempt = 1
        while true {
            let file = try InputFile(path: path)
            do {
                return try read(file)
            } catch FileSystemError.changedWhileRead where attempt < attempts {
                // Long enough for the clock to leave a racy tick, and for a writer to finish its write.
                usleep(UInt32(20_000 * attempt))
                attempt += 1
            }
        }
    }

    deinit { close(descriptor) }

    /// Reads up to `buffer.count` bytes at `offset`; returns how many were read (0 at end of file).
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(FileSystemError) -> Int {
        let n = readAt(descriptor, buffer, offset)
        guard n >= 0 else { throw .cannotRead(path: path, reason: errnoText()) }
        return n
    }

    /// Reads exactly `buffer.count` bytes at `offset`, failing if the file is shorter (it changed under us).
    public func readFully(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(FileSystemError) {
        var done = 0
        while done < buffer.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]), at: offset + done)
            if n == 0 { throw .changedWhileRead(path: path) }
            done += n
        }
    }

    /// The whole file.
    public func readAll() throws(FileSystemError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: size)
        var failure: FileSystemError?
        bytes.withUnsafeMutableBytes { buffer in
            do throws(FileSystemError) { try readFully(into: buffer, at: 0) } catch { failure = error }
        }
        if let failure { throw failure }
        return bytes
    }
}
