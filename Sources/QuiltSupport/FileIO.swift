// Every system call on local files goes through this file: one place to read, to reason about atomicity, and to
// inject failures in tests.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private func errnoText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}

/// What says, without reading it, that a file still holds the bytes it held: the same inode with the same size,
/// modification time and change time. The change time cannot be set back (utimensat sets only the modification
/// time), so a rewrite that keeps the size and restores the modification time still shows (as git and restic rely on).
public struct FileIdentity: Sendable, Equatable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int
    /// Nanoseconds since the epoch.
    public var mtime: Int
    public var ctime: Int

    public init(device: UInt64, inode: UInt64, size: Int, mtime: Int, ctime: Int) {
        self.device = device
        self.inode = inode
        self.size = size
        self.mtime = mtime
        self.ctime = ctime
    }

    init(_ info: stat) {
        self.init(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int(info.st_size),
                  mtime: Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec),
                  ctime: Int(info.st_ctim.tv_sec) * 1_000_000_000 + Int(info.st_ctim.tv_nsec))
    }

    /// Whether this identity, observed (by a stat) after the file-stamp clock read `observedAt`, fails to prove
    /// the bytes: a file last changed in that clock tick or later can be written again in the same tick, leaving
    /// every timestamp as it was (git's "racily clean" entries). A stamp well in the future, from another
    /// machine's clock, is no such write. The one rule for trusting a recorded identity: reads (`checkUnchanged`),
    /// the push journal's sources and installed files' records all use it.
    public func isRacy(observedAt: Int) -> Bool {
        ctime >= observedAt && ctime < observedAt + FileIdentity.stampTick
    }

    /// Longer than a coarse clock tick (1–10 ms), with room for the finer stamps of newer kernels.
    public static let stampTick = 50_000_000
}

/// The clock the kernel stamps files with (a coarse one, advancing once a tick), in nanoseconds.
private func fileStampClock() -> Int {
    var spec = timespec()
    #if os(Linux)
    clock_gettime(CLOCK_REALTIME_COARSE, &spec)
    #else
    clock_gettime(CLOCK_REALTIME, &spec)
    #endif
    return Int(spec.tv_sec) * 1_000_000_000 + Int(spec.tv_nsec)
}

/// An open file for reading, closed when the value goes away. Reads use `pread`, so one file can be read at
/// several offsets from several threads at once. Only regular files open: a FIFO or a device is refused before
/// anything waits on it.
public final class InputFile: @unchecked Sendable {
    // The descriptor is immutable after init and pread is thread-safe, hence the unchecked Sendable.
    public let path: String
    // fileprivate: AtomicFileWriter copies from it by descriptor.
    fileprivate let descriptor: Int32
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
    fileprivate init(adopting fd: Int32, path: String, openedAt: Int = fileStampClock()) throws(FileSystemError) {
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
        descriptor = fd
        identity = FileIdentity(info)
    }

    /// Sets the access time to now: the cache's least-recently-used order does not depend on the mount's
    /// atime policy (relatime updates it at most daily, noatime never).
    public func markUsed() {
        var times = [timespec(tv_sec: 0, tv_nsec: (1 << 30) - 1), timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2)]  // UTIME_NOW, UTIME_OMIT (macros Swift does not import)
        _ = futimens(descriptor, &times)
    }

    /// A second descriptor on a file already open for writing (read back what was written, by descriptor, not
    /// by a path that could name something else by now).
    init(duplicating fd: Int32, path: String) throws(FileSystemError) {
        self.path = path
        openedAt = fileStampClock()
        let copy = dup(fd)
        guard copy >= 0 else { throw .cannotOpen(path: path, reason: errnoText()) }
        _ = fcntl(copy, F_SETFD, FD_CLOEXEC)
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
        while true {
            let n = pread(descriptor, buffer.baseAddress, buffer.count, off_t(offset))
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw .cannotRead(path: path, reason: errnoText())
        }
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

/// A file being written: created as a temporary file beside its destination, renamed into place by `commit`,
/// removed if never committed. Readers of the destination see the old file or the new one, never a part.
public final class AtomicFileWriter {
    /// The destination's path, for messages (and for renames when no directory is held).
    public let destination: String
    private let temporaryPath: String
    /// With a held directory, the temporary file and the destination are names in it, never paths.
    private let directory: DirectoryHandle?
    private let temporaryName: String
    private let destinationName: String
    private var descriptor: Int32
    private var buffer: [UInt8] = []
    private var committed = false
    /// The mode the finished file gets: 0644, or 0600 for files that hold secrets (the temporary file is 0600
    /// from the start, so a secret is never readable by others, not even briefly).
    private let permissions: mode_t
    /// Files made in a held directory get their mode from the umask at creation, as cp's do.
    private let modeFromUmask: Bool
    /// Flushing in large writes keeps system calls few when a manifest is written line by line.
    private static let flushThreshold = 1 << 20

    public init(destination: String, permissions: mode_t = 0o644) throws(FileSystemError) {
        self.destination = destination
        self.permissions = permissions
        try FileSystem.makeDirectories(FileSystem.parent(of: destination))
        let base = FileSystem.parent(of: destination) + "/." + FileSystem.baseName(of: destination) + ".tmp-"
        var template = Array((base + "XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .cannotWrite(path: destination, reason: errnoText()) }
        descriptor = fd
        temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        directory = nil
        temporaryName = FileSystem.baseName(of: temporaryPath)
        destinationName = FileSystem.baseName(of: destination)
        modeFromUmask = false
        buffer.reserveCapacity(Self.flushThreshold + 4096)
    }

    /// A file to be named `name` in `directory`: the temporary `.<name>.tmp-XXXXXX` is created there (mode
    /// 0666 less the umask) and renamed there, by descriptor, so no path is resolved again on the way.
    public init(in directory: DirectoryHandle, name: String) throws(FileSystemError) {
        destination = directory.path + "/" + name
        self.directory = directory
        destinationName = name
        let (fd, temporary) = try directory.createTemporaryFile(prefix: "." + name + ".tmp-")
        descriptor = fd
        temporaryName = temporary
        temporaryPath = directory.path + "/" + temporary
        modeFromUmask = true
        permissions = 0o644
        buffer.reserveCapacity(Self.flushThreshold + 4096)
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        if !committed {
            if let directory { directory.unlink(temporaryName) } else { unlink(temporaryPath) }
        }
    }

    public func write(_ bytes: [UInt8]) throws(FileSystemError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= Self.flushThreshold { try flush() }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(FileSystemError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= Self.flushThreshold { try flush() }
    }

    private func flush() throws(FileSystemError) {
        guard buffer.withUnsafeBytes({ writeAll(descriptor, $0) }) else {
            throw .cannotWrite(path: destination, reason: errnoText())
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Runs `body` with the temporary file's descriptor for positioned writes (`pwrite`, as parallel ranged
    /// downloads do), after flushing what was buffered.
    public func withDescriptor<R>(_ body: (Int32) throws -> R) throws -> R {
        try flush()
        return try body(descriptor)
    }

    /// Appends `file`'s bytes up to the size it was opened with (fewer if it shrank since), with `copy_file_range`
    /// where the C library has it: the kernel copies without a trip through user space and, on file systems that
    /// share extents (btrfs, XFS with reflink), may clone instead of copying. Elsewhere, or when it refuses (across
    /// file systems on older kernels), a plain read and write loop.
    public func copy(from file: InputFile) throws(FileSystemError) {
        try flush()
        var offset = 0
        if let copyRange = kernelCopyFileRange {
            var inOffset = Int64(0)
            while true {
                let n = copyRange(file.descriptor, &inOffset, descriptor, nil, 1 << 30, 0)
                // At the size the file was opened with, done: no call to find the end (a call per cached file).
                if n > 0 { offset = Int(inOffset); if offset >= file.size { return }; continue }
                if n == 0 { return }
                if errno == EINTR { continue }
                if offset > 0 || (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
                    throw .cannotWrite(path: destination, reason: errnoText())
                }
                break
            }
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 22, alignment: 64)
        defer { buffer.deallocate() }
        while offset < file.size {
            let n = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<min(buffer.count, file.size - offset)]), at: offset)
            if n == 0 { return }
            guard writeAll(descriptor, UnsafeRawBufferPointer(rebasing: buffer[..<n])) else {
                throw .cannotWrite(path: destination, reason: errnoText())
            }
            offset += n
        }
    }

    /// The temporary file's path, for a caller that wants to read back what was written before committing.
    public var pathBeforeCommit: String { temporaryPath }

    /// What was written so far, open for reading through the writer's own descriptor (before `finish`).
    public func readBack() throws(FileSystemError) -> InputFile {
        try flush()
        return try InputFile(duplicating: descriptor, path: temporaryPath)
    }

    /// Flushes and closes the temporary file without moving it into place.
    public func finish(durable: Bool = false) throws(FileSystemError) {
        try flush()
        if durable { fsync(descriptor) }
        if !modeFromUmask { fchmod(descriptor, permissions) }
        if close(descriptor) != 0 {
            descriptor = -1
            throw .cannotWrite(path: destination, reason: errnoText())
        }
        descriptor = -1
    }

    /// Flushes, closes and renames the file into place.
    public func commit(durable: Bool = false) throws(FileSystemError) {
        if descriptor >= 0 { try finish(durable: durable) }
        if let directory {
            try directory.rename(temporaryName, to: destinationName)
        } else {
            guard rename(temporaryPath, destination) == 0 else {
                throw .cannotWrite(path: destination, reason: errnoText())
            }
        }
        committed = true
    }

    /// Renames the finished file to another destination instead (when its name is known only at the end).
    public func commit(as path: String, durable: Bool = false) throws(FileSystemError) {
        if descriptor >= 0 { try finish(durable: durable) }
        try FileSystem.makeDirectories(FileSystem.parent(of: path))
        guard rename(temporaryPath, path) == 0 else {
            throw .cannotWrite(path: path, reason: errnoText())
        }
        committed = true
    }
}

/// An open directory, to work below it without resolving a path twice: each step down opens one name relative
/// to the directory held (`openat`, `O_NOFOLLOW`), and files are created, renamed and removed by name in it. A
/// directory swapped for a symbolic link meanwhile cannot send a write elsewhere: the link is refused, and what
/// was opened before the swap stays the directory it was.
public final class DirectoryHandle: @unchecked Sendable {
    // The descriptor is immutable after init; the *at calls are thread-safe.
    /// For messages only.
    public let path: String
    private let descriptor: Int32

    /// Opens the directory at `path`: the one place a path is resolved (links included, as the user named it).
    public init(path: String) throws(FileSystemError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw .notFound(path: path) }
            if code == ENOTDIR { throw .notADirectory(path: path) }
            throw .cannotOpen(path: path, reason: errnoText(code))
        }
        self.path = path
        descriptor = fd
    }

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit { close(descriptor) }

    /// The directory `name` in this one, created (mode 0777 less the umask, as mkdir does) if missing. A
    /// symbolic link or anything else in its place is `notADirectory`.
    public func subdirectory(_ name: String, create: Bool = true) throws(FileSystemError) -> DirectoryHandle {
        let full = path + "/" + name
        for _ in 0..<2 {
            let fd = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd >= 0 { return DirectoryHandle(descriptor: fd, path: full) }
            let code = errno
            switch code {
            case ENOENT where create:
                if mkdirat(descriptor, name, 0o777) != 0 && errno != EEXIST {
                    throw .cannotWrite(path: full, reason: errnoText())
                }
            case ENOENT: throw .notFound(path: full)
            case ENOTDIR, ELOOP: throw .notADirectory(path: full)
            default: throw .cannotOpen(path: full, reason: errnoText(code))
            }
        }
        // Created, and gone or replaced before it could be opened.
        throw .notADirectory(path: full)
    }

    /// What `name` in this directory is, without following a link; nil if nothing.
    public func kind(of name: String) -> FileKind? {
        var info = stat()
        guard fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular(size: Int(info.st_size))
        case S_IFDIR: return .directory
        case S_IFLNK: return .symbolicLink
        default: return .other
        }
    }

    /// Names in the directory (not `.` or `..`), unsorted.
    public func names() throws(FileSystemError) -> [String] {
        // fdopendir takes over its descriptor: give it its own, reading from the start.
        let fd = openat(descriptor, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotRead(path: path, reason: errnoText()) }
        guard let dir = fdopendir(fd) else {
            let reason = errnoText()
            close(fd)
            throw .cannotRead(path: path, reason: reason)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Names in the directory (not `.` or `..`), unsorted, as `FileSystem.namesInDirectory` gives them: valid
    /// UTF-8 ones as Strings, the bytes of the others apart.
    public func listing() throws(FileSystemError) -> (names: [String], undecodable: [[UInt8]]) {
        let fd = openat(descriptor, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotRead(path: path, reason: errnoText()) }
        guard let dir = fdopendir(fd) else {
            let reason = errnoText()
            close(fd)
            throw .cannotRead(path: path, reason: reason)
        }
        defer { closedir(dir) }
        return FileSystem.readNames(dir)
    }

    /// What `name` in this directory is and its identity, from one `fstatat` (no path walked again); with
    /// `followLinks`, of a link's target. Nil if nothing is there.
    public func status(of name: String, followLinks: Bool) -> (kind: FileKind, identity: FileIdentity)? {
        var info = stat()
        guard fstatat(descriptor, name, &info, followLinks ? 0 : AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        return (FileSystem.kind(info), FileIdentity(info))
    }

    /// The regular file `name` in this directory, opened for reading without following a symbolic link.
    public func openFile(_ name: String) throws(FileSystemError) -> InputFile {
        let full = path + "/" + name
        let fd = openat(descriptor, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw .notFound(path: full) }
            if code == ELOOP { throw .notARegularFile(path: full) }
            throw .cannotOpen(path: full, reason: errnoText(code))
        }
        let file = try InputFile(adopting: fd, path: full)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return file
    }

    /// Size, access and modification times (seconds) of the regular file `name`; nil for anything else.
    public func fileStamps(of name: String) -> (size: Int, accessed: Int, modified: Int)? {
        var info = stat()
        guard fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return (Int(info.st_size), Int(info.st_atim.tv_sec), Int(info.st_mtim.tv_sec))
    }

    /// Sets the access time of `name` (not following a link), leaving its modification time.
    public func setAccessTime(of name: String, to seconds: Int) {
        // The second timespec is UTIME_OMIT, a macro Swift does not import.
        var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2)]
        _ = utimensat(descriptor, name, &times, AT_SYMLINK_NOFOLLOW)
    }

    /// Removes the empty directory `name`; false if it could not (not empty, or not there).
    @discardableResult
    public func removeEmptyDirectory(_ name: String) -> Bool { unlinkat(descriptor, name, AT_REMOVEDIR) == 0 }

    /// Removes the file `name` (never a directory); false if it could not.
    @discardableResult
    public func unlink(_ name: String) -> Bool { unlinkat(descriptor, name, 0) == 0 }

    /// `renameat` within this directory: the last component is replaced, never followed.
    public func rename(_ from: String, to: String) throws(FileSystemError) {
        guard renameat(descriptor, from, descriptor, to) == 0 else {
            throw .cannotWrite(path: path + "/" + to, reason: errnoText())
        }
    }

    /// Creates `<prefix>XXXXXX` (six random letters and digits, as mkstemp does) exclusively, mode 0666 less the
    /// umask; returns its descriptor and name.
    func createTemporaryFile(prefix: String) throws(FileSystemError) -> (Int32, String) {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<100 {
            // One draw for the six letters (a draw is a getrandom call: one per letter was twelve calls per
            // installed file).
            var bits = generator.next()
            let suffix = (0..<6).map { _ -> UInt8 in
                defer { bits /= UInt64(letters.count) }
                return letters[Int(bits % UInt64(letters.count))]
            }
            let name = prefix + String(decoding: suffix, as: UTF8.self)
            let fd = openat(descriptor, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666)
            if fd >= 0 { return (fd, name) }
            if errno != EEXIST { throw .cannotWrite(path: path + "/" + name, reason: errnoText()) }
        }
        throw .cannotWrite(path: path + "/" + prefix + "XXXXXX", reason: "no free temporary name")
    }
}

/// `copy_file_range(2)`, looked up at run time: Glibc's Swift module does not declare it.
private typealias CopyFileRange = @convention(c) (Int32, UnsafeMutablePointer<Int64>?, Int32, UnsafeMutablePointer<Int64>?, Int, UInt32) -> Int
private let kernelCopyFileRange: CopyFileRange? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "copy_file_range") else { return nil }
    return unsafeBitCast(symbol, to: CopyFileRange.self)
}()

/// What kind of thing a path names.
public enum FileKind: Sendable, Equatable {
    case regular(size: Int)
    case directory
    case symbolicLink
    case other
}

/// Stateless file-system operations.
public enum FileSystem {
    public static func parent(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        if slash == path.utf8.startIndex { return "/" }
        return String(path[..<slash])
    }

    public static func baseName(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return path }
        return String(path[path.utf8.index(after: slash)...])
    }

    /// `lstat`: what is at `path`, without following a final symbolic link; nil if nothing.
    public static func kind(ofPath path: String, followLinks: Bool = true) -> FileKind? {
        var info = stat()
        let result = followLinks ? stat(path, &info) : lstat(path, &info)
        guard result == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular(size: Int(info.st_size))
        case S_IFDIR: return .directory
        case S_IFLNK: return .symbolicLink
        default: return .other
        }
    }

    public static func exists(_ path: String) -> Bool { kind(ofPath: path) != nil }

    public static func isDirectory(_ path: String) -> Bool { kind(ofPath: path) == .directory }

    /// `mkdir -p` (mode 0777 less the umask).
    public static func makeDirectories(_ path: String) throws(FileSystemError) {
        if path.isEmpty || isDirectory(path) { return }
        let parentPath = parent(of: path)
        if parentPath != path { try makeDirectories(parentPath) }
        if mkdir(path, 0o777) != 0 && errno != EEXIST {
            throw .cannotWrite(path: path, reason: errnoText())
        }
    }

    /// Writes `bytes` to `path` atomically (temporary file and rename), with mode `permissions`.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, permissions: mode_t = 0o644) throws(FileSystemError) {
        let writer = try AtomicFileWriter(destination: path, permissions: permissions)
        try writer.write(bytes)
        try writer.commit()
    }

    public static func readFile(_ path: String) throws(FileSystemError) -> [UInt8] {
        try InputFile(path: path).readAll()
    }

    /// Names in a directory (not `.` or `..`), unsorted, as the file system holds them: `names` are the valid
    /// UTF-8 ones; `undecodable` holds the bytes of the others (invalid UTF-8, encoded surrogates), which no
    /// String can hold unchanged. Throws if the directory cannot be read.
    public static func namesInDirectory(_ path: String) throws(FileSystemError) -> (names: [String], undecodable: [[UInt8]]) {
        guard let dir = opendir(path) else {
            if errno == ENOENT { throw .notFound(path: path) }
            throw .cannotRead(path: path, reason: errnoText())
        }
        defer { closedir(dir) }
        return readNames(dir)
    }

    /// The names an open directory stream lists (not `.` or `..`), valid UTF-8 apart from the rest.
    fileprivate static func readNames(_ dir: OpaquePointer) -> (names: [String], undecodable: [[UInt8]]) {
        var names: [String] = []
        var undecodable: [[UInt8]] = []
        while let entry = readdir(dir) {
            let decoded: String?? = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                let length = strnlen(raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
                let bytes = UnsafeRawBufferPointer(rebasing: raw[0..<length])
                if bytes.count <= 2 && bytes.allSatisfy({ $0 == 0x2E }) { return .some(nil) }  // . and ..
                if let name = String(validating: bytes, as: UTF8.self) { return name }
                undecodable.append(Array(bytes))
                return .some(nil)
            }
            if case .some(.some(let name)) = decoded { names.append(name) }
        }
        return (names, undecodable)
    }

    /// The kind a stat result describes.
    fileprivate static func kind(_ info: stat) -> FileKind {
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular(size: Int(info.st_size))
        case S_IFDIR: return .directory
        case S_IFLNK: return .symbolicLink
        default: return .other
        }
    }

    /// Names in a directory (not `.` or `..`), unsorted; throws if it cannot be read. A name that is not valid
    /// UTF-8 comes back repaired (with U+FFFD), so it names no file: a walk that must not lose files uses
    /// `namesInDirectory`.
    public static func contentsOfDirectory(_ path: String) throws(FileSystemError) -> [String] {
        let listing = try namesInDirectory(path)
        return listing.names + listing.undecodable.map { String(decoding: $0, as: UTF8.self) }
    }

    /// Removes a file; a missing one is fine.
    public static func removeFile(_ path: String) throws(FileSystemError) {
        if unlink(path) != 0 && errno != ENOENT { throw .cannotWrite(path: path, reason: errnoText()) }
    }

    /// Removes an empty directory; returns false if it is not empty or missing.
    @discardableResult
    public static func removeEmptyDirectory(_ path: String) -> Bool { rmdir(path) == 0 }

    /// `rm -r`.
    public static func removeTree(_ path: String) throws(FileSystemError) {
        guard let kind = kind(ofPath: path, followLinks: false) else { return }
        if kind == .directory {
            for name in try contentsOfDirectory(path) { try removeTree(path + "/" + name) }
            if rmdir(path) != 0 { throw .cannotWrite(path: path, reason: errnoText()) }
        } else {
            try removeFile(path)
        }
    }

    /// The canonical absolute path with symbolic links resolved (Python's `os.path.realpath` for existing paths).
    public static func realPath(_ path: String) throws(FileSystemError) -> String {
        guard let resolved = realpath(path, nil) else {
            if errno == ENOENT { throw .notFound(path: path) }
            throw .cannotOpen(path: path, reason: errnoText())
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    public static func currentDirectory() -> String {
        guard let cwd = getcwd(nil, 0) else { return "." }
        defer { free(cwd) }
        return String(cString: cwd)
    }

    /// Makes `path` absolute against the current directory, without resolving links.
    public static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : currentDirectory() + "/" + path
    }

    /// `path` with `.` segments and repeated slashes removed and `..` folded lexically (no links resolved).
    public static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." { _ = parts.popLast(); continue }
            parts.append(segment)
        }
        return (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
    }

    /// `rename(2)`.
    public static func move(_ from: String, to: String) throws(FileSystemError) {
        guard rename(from, to) == 0 else { throw .cannotWrite(path: to, reason: errnoText()) }
    }

    /// Creates `path` only if it does not exist (O_EXCL): the primitive under lock files.
    public static func createExclusively(_ path: String, contents: [UInt8]) throws(FileSystemError) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 {
            if errno == EEXIST { return false }
            throw .cannotWrite(path: path, reason: errnoText())
        }
        defer { close(fd) }
        _ = contents.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        return true
    }

    /// Modification time in seconds since the epoch, or nil.
    public static func modificationTime(_ path: String) -> Double? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
    }

    /// Whether `descriptor` is a terminal.
    public static func isTerminal(_ descriptor: Int32) -> Bool { isatty(descriptor) == 1 }
}

/// A file that only grows, one record per `append`, each written with a single `write(2)` on an `O_APPEND`
/// descriptor: after a crash the file holds whole records, at worst followed by one torn last line.
public final class AppendOnlyFile: @unchecked Sendable {
    // The descriptor is written under `lock` only.
    public let path: String
    private let descriptor: Int32
    private let lock = Locked(())

    public init(path: String) throws(FileSystemError) {
        self.path = path
        try FileSystem.makeDirectories(FileSystem.parent(of: path))
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
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
}

extension FileSystem {
    /// What identifies the version of the file at `path` cheaply (links followed); nil if nothing is there.
    public static func identity(_ path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileIdentity(info)
    }

    /// What `path` is and its identity, from one `lstat` (or `stat` with `followLinks`); nil if nothing is there.
    /// A directory walk that must also tell whether files changed since a record gets both from one call.
    public static func status(ofPath path: String, followLinks: Bool) -> (kind: FileKind, identity: FileIdentity)? {
        var info = stat()
        let result = followLinks ? stat(path, &info) : lstat(path, &info)
        guard result == 0 else { return nil }
        let kind: FileKind
        switch info.st_mode & S_IFMT {
        case S_IFREG: kind = .regular(size: Int(info.st_size))
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symbolicLink
        default: kind = .other
        }
        return (kind, FileIdentity(info))
    }

    /// The file-stamp clock now (the coarse clock the kernel stamps files with), in nanoseconds: read it before a
    /// stat whose identity is to be recorded, for `FileIdentity.isRacy`.
    public static func stampClock() -> Int { fileStampClock() }
}

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

/// A temporary file with no name: created in a directory and unlinked at once, so it goes away when closed, even
/// if the process is killed. Appended to, then read back by offset (the sorted runs of a manifest too big for
/// memory).
public final class ScratchFile: @unchecked Sendable {
    // One owner appends; reads use pread and so may come from any thread, hence the unchecked Sendable.
    /// The directory it was made in, for messages.
    public let directory: String
    private let descriptor: Int32
    /// Bytes appended so far.
    public private(set) var size = 0

    public init(directory: String) throws(FileSystemError) {
        self.directory = directory
        try FileSystem.makeDirectories(directory)
        var template = Array((directory + "/.quilt-scratch-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .cannotWrite(path: directory, reason: errnoText()) }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Appends all of `bytes`.
    public func append(_ bytes: UnsafeRawBufferPointer) throws(FileSystemError) {
        guard writeAll(descriptor, bytes) else { throw .cannotWrite(path: directory, reason: errnoText()) }
        size += bytes.count
    }

    /// Reads up to `buffer.count` bytes at `offset`; returns how many were read (0 at the end).
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(FileSystemError) -> Int {
        while true {
            let n = pread(descriptor, buffer.baseAddress, buffer.count, off_t(offset))
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw .cannotRead(path: directory, reason: errnoText())
        }
    }
}

/// Writes all of `bytes` to `descriptor`, going on after short writes and EINTR; false on an error, with errno set.
func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
    var done = 0
    while done < bytes.count {
        let n = Glibc.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
        if n < 0 {
            if errno == EINTR { continue }
            return false
        }
        done += n
    }
    return true
}
