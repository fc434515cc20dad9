// A file mapped read-only into memory (a revision index, read at random without being held).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file mapped read-only into memory (`mmap`), unmapped when the value goes away: random reads of a
/// large derived file (a revision index) without holding it, the kernel paging it in and out as it is used.
/// Only files that are replaced by rename, never rewritten in place, are mapped: a file truncated under a mapping
/// would fault on the bytes it lost.
public final class MappedFile: @unchecked Sendable {
    // Immutable after init; the mapping is read-only, so any thread may read it.
    public let path: String
    /// The file's bytes (empty for an empty file).
    public let bytes: UnsafeRawBufferPointer
    private let mapping: UnsafeMutableRawPointer?

    /// Maps all of `file` as it is now.
    public init(_ file: InputFile) throws(FileSystemError) {
        path = file.path
        let size = file.size
        guard size > 0 else {
            mapping = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_SHARED, file.descriptor, 0), address != MAP_FAILED else {
            throw .cannotRead(path: file.path, reason: errnoText())
        }
        mapping = address
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    public convenience init(path: String) throws(FileSystemError) {
        try self.init(InputFile(path: path))
    }

    /// Drops the pages of `range` (all of the file by default; widened to whole pages) that were read from this
    /// process's resident memory: they stay in the page cache, and the next read of one maps it again. A
    /// long-lived reader that walks all of a large file keeps its memory bounded; the mapping is read-only, so
    /// nothing is lost.
    public func releaseResidentPages(_ range: Range<Int>? = nil) {
        guard let mapping else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let range = range ?? 0..<bytes.count
        let start = range.lowerBound / page * page, end = min(bytes.count, range.upperBound)
        guard start < end else { return }
        _ = madvise(mapping + start, end - start, MADV_DONTNEED)
    }

    deinit {
        if let mapping { munmap(mapping, bytes.count) }
    }
}
