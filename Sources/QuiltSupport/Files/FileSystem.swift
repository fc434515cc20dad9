// Every system call on local files goes through the files of this directory (Sources/QuiltSupport/Files; the rest of
// the code is held to it by scripts/check-architecture): one place to read, to reason about atomicity, and to
// inject failures in tests. This one holds the stateless operations on paths.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What kind of thing a path names.
public enum FileKind: Sendable, Equatable {
    case regular(size: Int)
    case directory
    case symbolicLink
    case other

    /// The kind a stat result describes.
    init(_ info: stat) {
        switch info.st_mode & S_IFMT {
        case S_IFREG: self = .regular(size: Int(info.st_size))
        case S_IFDIR: self = .directory
        case S_IFLNK: self = .symbolicLink
        default: self = .other
        }
    }
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
        return FileKind(info)
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

    /// A file read until read(2) says it ended, for the files of /proc (their size says 0: `/proc/self/mountinfo`,
    /// `/proc/self/statm`); nil if it cannot be opened or read.
    public static func readToEnd(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var out: [UInt8] = []
        var block = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = block.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return n == 0 ? out : nil }
            out.append(contentsOf: block[0..<n])
        }
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
    static func readNames(_ dir: OpaquePointer) -> (names: [String], undecodable: [[UInt8]]) {
        var names: [String] = []
        var undecodable: [[UInt8]] = []
        while let entry = readdir(dir) {
            // Decoded in place (no array per name): a status walks 20,000 names to stat them.
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

    /// The programs called `name` that this process may run, in the order of `searchPath` (`PATH`'s
    /// colon-separated directories; empty ones are skipped).
    public static func executables(named name: String, searchPath: String) -> [String] {
        searchPath.split(separator: ":").map { $0 + "/" + name }.filter { access($0, X_OK) == 0 }
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
        return (FileKind(info), FileIdentity(info))
    }

    /// The file-stamp clock now (the coarse clock the kernel stamps files with), in nanoseconds: read it before a
    /// stat whose identity is to be recorded, for `FileIdentity.isRacy`.
    public static func stampClock() -> Int { fileStampClock() }
}
