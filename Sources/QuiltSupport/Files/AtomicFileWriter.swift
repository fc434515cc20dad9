// Files written whole or not at all: a temporary file beside the destination, renamed into place on commit.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file being written: created as a temporary file beside its destination, renamed into place by `commit`,
/// removed if never committed. Readers of the destination see the old file or the new one, never a part.
public final class AtomicFileWriter {
    /// The destination's path, for messages (and for renames when no directory is held).
    public let destination: String
    private let temporaryPath: String
    /// With a held directory, the temporary file and the destination are names in it, never paths.
    private let directory: DirectoryHandle?
    /// Nil for an unnamed file (`O_TMPFILE`, in a held directory), which gets its name only at `commit`.
    private let temporaryName: String?
    private let linking: UnnamedLinking
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

    /// The temporary name of `name` is this prefix and six random characters: `.<name>.tmp-`, or, for a name
    /// too long for that to fit a file name (NAME_MAX, 255 bytes), its first bytes and a digest of the rest, so a
    /// temporary name always fits whatever the final one (which may itself be 255 bytes), and names a file of
    /// its own (an install's cleanup finds it by this prefix).
    public static func temporaryPrefix(for name: String) -> String {
        let plain = "." + name + ".tmp-"
        if plain.utf8.count + 6 <= 255 { return plain }
        var kept = Substring(name)
        // `.` + kept + `~` + 16 hex digits + `.tmp-` + 6 characters.
        while kept.utf8.count > 255 - 29 { kept.removeLast() }
        let digest = Hex.encode(Array(SHA256Hasher.digest(Array(name.utf8)).prefix(8)))
        return "." + kept + "~" + digest + ".tmp-"
    }

    public init(destination: String, permissions: mode_t = 0o644) throws(FileSystemError) {
        linking = .automatic
        self.destination = destination
        self.permissions = permissions
        try FileSystem.makeDirectories(FileSystem.parent(of: destination))
        let base = FileSystem.parent(of: destination) + "/" + Self.temporaryPrefix(for: FileSystem.baseName(of: destination))
        var template = Array((base + "XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .cannotWrite(path: destination, reason: errnoText()) }
        descriptor = fd
        temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        directory = nil
        temporaryName = FileSystem.baseName(of: temporaryPath)
        destinationName = FileSystem.baseName(of: destination)
        modeFromUmask = false
    }

    /// A file to be named `name` in `directory` (mode 0666 less the umask), by descriptor, so no path is
    /// resolved again on the way: an unnamed file (`O_TMPFILE`) linked there by `commit`, or, where the kernel
    /// or file system has none (or `unnamed` is false), the temporary `.<name>.tmp-XXXXXX` renamed there.
    ///
    /// Unnamed by default: nothing is left behind by a process killed midway, and an install of 2,000 small
    /// files spent a tenth of its system time creating and renaming the named ones (a C loop writing 4 KiB files
    /// here: 18 µs a file named and renamed, 12 µs unnamed and linked).
    public convenience init(in directory: DirectoryHandle, name: String, unnamed: Bool = true) throws(FileSystemError) {
        try self.init(in: directory, name: name, unnamed: unnamed, linking: .automatic)
    }

    /// `linking`: how the unnamed file is named at commit (tests force the fallbacks).
    init(in directory: DirectoryHandle, name: String, unnamed: Bool, linking: UnnamedLinking) throws(FileSystemError) {
        self.linking = linking
        destination = directory.path + "/" + name
        self.directory = directory
        destinationName = name
        modeFromUmask = true
        permissions = 0o644
        if unnamed, let fd = directory.createUnnamedFile() {
            descriptor = fd
            temporaryName = nil
            temporaryPath = destination
            return
        }
        let (fd, temporary) = try directory.createTemporaryFile(prefix: Self.temporaryPrefix(for: name))
        descriptor = fd
        temporaryName = temporary
        temporaryPath = directory.path + "/" + temporary
    }

    /// An unnamed file has no temporary name to remove: closing it is removing it.
    private var isUnnamed: Bool { directory != nil && temporaryName == nil }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        if !committed, let temporaryName {
            if let directory { directory.unlink(temporaryName) } else { unlink(temporaryPath) }
        }
    }

    public func write(_ bytes: [UInt8]) throws(FileSystemError) {
        reserveBuffer()
        buffer.append(contentsOf: bytes)
        if buffer.count >= Self.flushThreshold { try flush() }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(FileSystemError) {
        reserveBuffer()
        buffer.append(contentsOf: bytes)
        if buffer.count >= Self.flushThreshold { try flush() }
    }

    /// Writes `bytes` now, after what was buffered, with no copy into the buffer: for bytes already whole in
    /// memory (a small object downloaded so).
    public func writeUnbuffered(_ bytes: UnsafeRawBufferPointer) throws(FileSystemError) {
        try flush()
        guard writeAll(descriptor, bytes) else { throw .cannotWrite(path: destination, reason: errnoText()) }
    }

    /// The buffer is taken at the first buffered write, not at creation: most writers of an install are filled by
    /// `pwrite` or `copy_file_range` and never use it, and a megabyte reserved per file was page faults and heap
    /// growth for each of thousands of small files.
    private func reserveBuffer() {
        if buffer.capacity == 0 { buffer.reserveCapacity(Self.flushThreshold + 4096) }
    }

    private func flush() throws(FileSystemError) {
        if buffer.isEmpty { return }
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
        file.adviseSequentialRead()
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

    /// The temporary file's path, for a caller that wants to read back what was written before committing. An
    /// unnamed file has none: this is then its destination's path, for messages only.
    public var pathBeforeCommit: String { temporaryPath }

    /// What was written so far, open for reading through the writer's own descriptor (before `finish`).
    public func readBack() throws(FileSystemError) -> InputFile {
        try flush()
        return try InputFile(duplicating: descriptor, path: temporaryPath)
    }

    /// Flushes and closes the temporary file without moving it into place. An unnamed file stays open (closing
    /// it would lose it) until `commit`.
    public func finish(durable: Bool = false) throws(FileSystemError) {
        try flush()
        if durable { fsync(descriptor) }
        if isUnnamed { return }
        if !modeFromUmask { fchmod(descriptor, permissions) }
        if close(descriptor) != 0 {
            descriptor = -1
            throw .cannotWrite(path: destination, reason: errnoText())
        }
        descriptor = -1
    }

    /// Flushes, closes and renames the file into place (links it there, if unnamed).
    public func commit(durable: Bool = false) throws(FileSystemError) {
        if descriptor >= 0 { try finish(durable: durable) }
        try place(unnamed: descriptor)
        if isUnnamed {
            let closed = close(descriptor) == 0
            descriptor = -1
            guard closed else { throw .cannotWrite(path: destination, reason: errnoText()) }
        }
    }

    /// Commits, and returns the file now in place, open for reading on the writer's own descriptor: what
    /// `readBack` then `commit` give, with no second descriptor to open and close. Its `identity` is the file's
    /// just before the commit (a link or rename changes only its change time).
    public func commitReturningFile(durable: Bool = false) throws(FileSystemError) -> InputFile {
        try flush()
        if durable { fsync(descriptor) }
        if !modeFromUmask { fchmod(descriptor, permissions) }
        let file = try InputFile(adopting: descriptor, path: destination)
        descriptor = -1
        try place(unnamed: file.descriptor)
        return file
    }

    /// Puts the finished file under its name. An unnamed one (`fd`, still open) is linked; where it cannot be
    /// linked at all, its bytes are copied to a named temporary file renamed into place instead. A named one is
    /// renamed.
    private func place(unnamed fd: Int32) throws(FileSystemError) {
        if let directory, isUnnamed {
            let linked = try directory.link(unnamed: fd, as: destinationName,
                                            temporaryPrefix: Self.temporaryPrefix(for: destinationName), linking: linking)
            if !linked {
                let named = try AtomicFileWriter(in: directory, name: destinationName, unnamed: false)
                try named.copy(from: InputFile(duplicating: fd, path: destination))
                try named.commit()
            }
        } else if let directory, let temporaryName {
            try directory.rename(temporaryName, to: destinationName)
        } else if rename(temporaryPath, destination) != 0 {
            throw .cannotWrite(path: destination, reason: errnoText())
        }
        committed = true
    }

    /// Renames the finished file to another destination instead (when its name is known only at the end).
    /// Only for files made by path (`init(destination:)`).
    public func commit(as path: String, durable: Bool = false) throws(FileSystemError) {
        precondition(!isUnnamed, "commit(as:) of a file made in a held directory")
        if descriptor >= 0 { try finish(durable: durable) }
        try FileSystem.makeDirectories(FileSystem.parent(of: path))
        guard rename(temporaryPath, path) == 0 else {
            throw .cannotWrite(path: path, reason: errnoText())
        }
        committed = true
    }
}

/// `copy_file_range(2)`, looked up at run time: Glibc's Swift module does not declare it.
private typealias CopyFileRange = @convention(c) (Int32, UnsafeMutablePointer<Int64>?, Int32, UnsafeMutablePointer<Int64>?, Int, UInt32) -> Int
private let kernelCopyFileRange: CopyFileRange? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "copy_file_range") else { return nil }
    return unsafeBitCast(symbol, to: CopyFileRange.self)
}()
