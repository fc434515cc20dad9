// Temporary files with no name, gone when closed (the sorted runs of manifests too big for memory).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
        let n = readAt(descriptor, buffer, offset)
        guard n >= 0 else { throw .cannotRead(path: directory, reason: errnoText()) }
        return n
    }
}
