// Directories held open, so that work below one never resolves a path twice.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open directory, to work below it without resolving a path twice: each step down opens one name relative
/// to the directory held (`openat`, `O_NOFOLLOW`), and files are created, renamed and removed by name in it. A
/// directory swapped for a symbolic link meanwhile cannot send a write elsewhere: the link is refused, and what
/// was opened before the swap stays the directory it was.
public final class DirectoryHandle: @unchecked Sendable {
    // The descriptor is immutable after init; the *at calls are thread-safe.
    /// For messages only.
    public let path: String
    // Internal: the file types of this module open names relative to it.
    let descriptor: Int32

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
        return FileKind(info)
    }

    /// Names in the directory (not `.` or `..`), unsorted.
    public func names() throws(FileSystemError) -> [String] {
        try withEntries { dir in
            var names: [String] = []
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
                }
                if name != "." && name != ".." { names.append(name) }
            }
            return names
        }
    }

    /// Names in the directory (not `.` or `..`), unsorted, as `FileSystem.namesInDirectory` gives them: valid
    /// UTF-8 ones as Strings, the bytes of the others apart.
    public func listing() throws(FileSystemError) -> (names: [String], undecodable: [[UInt8]]) {
        try withEntries { FileSystem.readNames($0) }
    }

    /// `body` reads the directory's entries from the start, through a stream of its own (fdopendir takes over the
    /// descriptor it is given, so it gets a new one), closed afterwards.
    private func withEntries<T>(_ body: (OpaquePointer) -> T) throws(FileSystemError) -> T {
        let fd = openat(descriptor, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotRead(path: path, reason: errnoText()) }
        guard let dir = fdopendir(fd) else {
            let reason = errnoText()
            close(fd)
            throw .cannotRead(path: path, reason: reason)
        }
        defer { closedir(dir) }
        return body(dir)
    }

    /// What `name` in this directory is and its identity, from one `fstatat` (no path walked again); with
    /// `followLinks`, of a link's target. Nil if nothing is there.
    public func status(of name: String, followLinks: Bool) -> (kind: FileKind, identity: FileIdentity)? {
        var info = stat()
        guard fstatat(descriptor, name, &info, followLinks ? 0 : AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        return (FileKind(info), FileIdentity(info))
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

    /// Size, bytes of disk allocated (less than the size for a sparse file), access and modification times
    /// (seconds) of the regular file `name`; nil for anything else.
    public func fileStamps(of name: String) -> (size: Int, allocated: Int, accessed: Int, modified: Int)? {
        var info = stat()
        guard fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return (Int(info.st_size), Int(info.st_blocks) * 512, Int(info.st_atim.tv_sec), Int(info.st_mtim.tv_sec))
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
        for _ in 0..<100 {
            let name = prefix + TemporaryNames.suffix()
            let fd = openat(descriptor, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666)
            if fd >= 0 { return (fd, name) }
            if errno != EEXIST { throw .cannotWrite(path: path + "/" + name, reason: errnoText()) }
        }
        throw .cannotWrite(path: path + "/" + prefix + "XXXXXX", reason: "no free temporary name")
    }
}

/// Draws for temporary names: a random start (one getrandom call a process, not one a file: an install of 2,000
/// small files made 4,000 of them) stepped by SplitMix64, so names differ between processes and within one.
/// They need not be unpredictable: O_EXCL, not the name, keeps another's file from being taken for ours.
enum TemporaryNames {
    private static let state: Locked<UInt64> = {
        var generator = SystemRandomNumberGenerator()
        return Locked(generator.next())
    }()

    private static let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    /// Six letters and digits, as mkstemp's.
    static func suffix() -> String {
        var bits = next()
        return String(unsafeUninitializedCapacity: 6) { out in
            for i in 0..<6 {
                out[i] = letters[Int(bits % UInt64(letters.count))]
                bits /= UInt64(letters.count)
            }
            return 6
        }
    }

    static func next() -> UInt64 {
        var z = state.withLock { value -> UInt64 in
            value &+= 0x9E37_79B9_7F4A_7C15
            return value
        }
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

// MARK: Unnamed files

/// How an unnamed file gets its name: as the kernel allows (`automatic`), or, for tests, as a kernel without
/// `AT_EMPTY_PATH` for this user would (`throughProc`) or one with no way at all (`impossible`: the writer then
/// copies the bytes to a named file).
enum UnnamedLinking: Sendable {
    case automatic, throughProc, impossible
}

extension DirectoryHandle {
    /// `O_TMPFILE`: Glibc's Swift module leaves the macro out (it is an expression of two others). `__O_TMPFILE`
    /// is 0o20000000 on every Linux architecture this builds for; `O_DIRECTORY` differs between them.
    private static let temporaryFileFlag: Int32 = 0o20000000 | O_DIRECTORY
    /// `AT_EMPTY_PATH`, which Glibc's module leaves out with `_GNU_SOURCE`; 0x1000 on Linux.
    private static let emptyPathFlag: Int32 = 0x1000

    /// Whether unnamed files can be made and then named here. Cleared, for the rest of the process, the first
    /// time the kernel or a file system says no: each writer after that makes a named temporary file at once.
    private static let unnamedFilesWork = Locked(true)

    /// A regular file in this directory that has no name yet (`O_TMPFILE`), open for reading and writing, mode
    /// 0666 less the umask; nil where the kernel or the file system has none. A process killed before
    /// `link(unnamed:as:)` leaves nothing behind, and creating one costs less than a named file and its rename.
    func createUnnamedFile() -> Int32? {
        #if os(Linux)
        guard Self.unnamedFilesWork.value else { return nil }
        let fd = openat(descriptor, ".", Self.temporaryFileFlag | O_RDWR | O_CLOEXEC, 0o666)
        if fd >= 0 { return fd }
        // EOPNOTSUPP, EISDIR or EINVAL: no O_TMPFILE here. Anything else (EACCES, ENOSPC) the named file will
        // meet and report as well.
        if errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL { Self.unnamedFilesWork.withLock { $0 = false } }
        return nil
        #else
        return nil
        #endif
    }

    /// Names the unnamed file `fd` as `name` in this directory, replacing what is there (by a link under a
    /// temporary name of `temporaryPrefix` and a rename, as a named write would). Returns false, having changed
    /// nothing, where the file cannot be linked at all (no `/proc` and no right to `AT_EMPTY_PATH`); the caller
    /// then writes a named file instead.
    func link(unnamed fd: Int32, as name: String, temporaryPrefix: @autoclosure () -> String,
              linking: UnnamedLinking = .automatic) throws(FileSystemError) -> Bool {
        switch linkUnnamed(fd, as: name, linking) {
        case 0: return true
        case EEXIST: break
        case let code where Self.meansUnlinkable(code):
            if linking == .automatic { Self.unnamedFilesWork.withLock { $0 = false } }
            return false
        case let code: throw .cannotWrite(path: path + "/" + name, reason: errnoText(code))
        }
        let prefix = temporaryPrefix()
        for _ in 0..<100 {
            let temporary = prefix + TemporaryNames.suffix()
            let code = linkUnnamed(fd, as: temporary, linking)
            if code == EEXIST { continue }
            guard code == 0 else { throw .cannotWrite(path: path + "/" + name, reason: errnoText(code)) }
            do {
                try rename(temporary, to: name)
            } catch {
                unlink(temporary)
                throw error
            }
            return true
        }
        throw .cannotWrite(path: path + "/" + prefix + "XXXXXX", reason: "no free temporary name")
    }

    /// `linkat` of an open file: by the descriptor itself (`AT_EMPTY_PATH`, which kernels before 6.10 allow only
    /// with CAP_DAC_READ_SEARCH), else through `/proc/self/fd`. Returns 0 or the errno.
    private func linkUnnamed(_ fd: Int32, as name: String, _ linking: UnnamedLinking) -> Int32 {
        switch linking {
        case .impossible: return ENOENT
        case .throughProc: break
        case .automatic:
            if linkat(fd, "", descriptor, name, Self.emptyPathFlag) == 0 { return 0 }
            let first = errno
            guard first == ENOENT || first == EPERM else { return first }
        }
        if linkat(AT_FDCWD, "/proc/self/fd/\(fd)", descriptor, name, AT_SYMLINK_FOLLOW) == 0 { return 0 }
        return errno
    }

    private static func meansUnlinkable(_ code: Int32) -> Bool {
        code == ENOENT || code == EPERM || code == EACCES || code == EOPNOTSUPP || code == EINVAL
    }
}
