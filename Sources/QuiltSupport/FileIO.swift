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

/// An open file for reading, closed when the value goes away. Reads use `pread`, so one file can be read at
/// several offsets from several threads at once.
public final class InputFile: @unchecked Sendable {
    // The descriptor is immutable after init and pread is thread-safe, hence the unchecked Sendable.
    public let path: String
    private let descriptor: Int32
    /// Size at open time.
    public let size: Int

    public init(path: String) throws(FileSystemError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw .notFound(path: path) }
            throw .cannotOpen(path: path, reason: errnoText(code))
        }
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
        size = Int(info.st_size)
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
            if n == 0 { throw .cannotRead(path: path, reason: "file shrank while being read") }
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
    public let destination: String
    private let temporaryPath: String
    private var descriptor: Int32
    private var buffer: [UInt8] = []
    private var committed = false
    /// The mode the finished file gets: 0644, or 0600 for files that hold secrets (the temporary file is 0600
    /// from the start, so a secret is never readable by others, not even briefly).
    private let permissions: mode_t
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
        buffer.reserveCapacity(Self.flushThreshold + 4096)
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        if !committed { unlink(temporaryPath) }
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
        var failure: FileSystemError?
        buffer.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Glibc.write(descriptor, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = .cannotWrite(path: destination, reason: errnoText())
                    return
                }
                done += n
            }
        }
        if let failure { throw failure }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Runs `body` with the temporary file's descriptor for positioned writes (`pwrite`, as parallel ranged
    /// downloads do), after flushing what was buffered.
    public func withDescriptor<R>(_ body: (Int32) throws -> R) throws -> R {
        try flush()
        return try body(descriptor)
    }

    /// The temporary file's path, for a caller that wants to read back what was written before committing.
    public var pathBeforeCommit: String { temporaryPath }

    /// Flushes and closes the temporary file without moving it into place.
    public func finish(durable: Bool = false) throws(FileSystemError) {
        try flush()
        if durable { fsync(descriptor) }
        fchmod(descriptor, permissions)
        if close(descriptor) != 0 {
            descriptor = -1
            throw .cannotWrite(path: destination, reason: errnoText())
        }
        descriptor = -1
    }

    /// Flushes, closes and renames the file into place.
    public func commit(durable: Bool = false) throws(FileSystemError) {
        if descriptor >= 0 { try finish(durable: durable) }
        guard rename(temporaryPath, destination) == 0 else {
            throw .cannotWrite(path: destination, reason: errnoText())
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

    /// `mkdir -p`.
    public static func makeDirectories(_ path: String) throws(FileSystemError) {
        if path.isEmpty || isDirectory(path) { return }
        let parentPath = parent(of: path)
        if parentPath != path { try makeDirectories(parentPath) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
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

    /// Names in a directory (not `.` or `..`), unsorted; throws if it cannot be read.
    public static func contentsOfDirectory(_ path: String) throws(FileSystemError) -> [String] {
        guard let dir = opendir(path) else {
            if errno == ENOENT { throw .notFound(path: path) }
            throw .cannotRead(path: path, reason: errnoText())
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
                var done = 0
                while done < raw.count {
                    let n = Glibc.write(descriptor, raw.baseAddress! + done, raw.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        return .cannotWrite(path: path, reason: errnoText())
                    }
                    done += n
                }
                return nil
            }
        }
        if let failure { throw failure }
    }
}

extension FileSystem {
    /// Size and modification time in nanoseconds: what identifies a file's version cheaply.
    public static func identity(_ path: String) -> (size: Int, mtime: Int)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (Int(info.st_size), Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec))
    }
}
