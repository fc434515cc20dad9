// The object cache's partial entries: the chunks of a sha2-256-chunked S3 object read by range (a mount's reads, a
// preview, a ranged cat), kept as they are verified, so that no chunk is downloaded twice and the object becomes
// an ordinary cache entry once all of its chunks have been read.
import QuiltSupport
import QuiltFormat

/// A partial entry is `.<entry name>.part` in the entry's shard directory: a sparse file of the object's size in
/// which each chunk read from S3 is written once it matched its digest. Nothing in it is trusted: a chunk read from
/// it is hashed and compared with its digest like any other (one that does not match is fetched again and written
/// over), and only chunks verified by this process count towards the whole. When every chunk has been, the file is
/// renamed to the entry's name (in the same directory, so the entry appears whole or not at all). Pruning removes
/// partial entries nobody has written to for an hour, as it does the temporary files of killed writers.
public final class PartialObject: @unchecked Sendable {
    // Unchecked: the file is thread-safe (pread, pwrite); `verified` is Locked; the rest is immutable.
    private let directory: DirectoryHandle
    private let name: String
    private let partName: String
    let file: SparseFile
    private let chunkSize: Int
    private let chunkCount: Int
    /// The chunks this process has seen match their digests in the file; nil once the file became the entry (or
    /// could not).
    private let verified = Locked<Set<Int>?>([])

    static let suffix = ".part"

    /// The partial entry's file name for the entry `name`, and back (nil for a name that is not one).
    static func fileName(ofEntry name: String) -> String { "." + name + suffix }
    static func entryName(ofFile name: String) -> Substring? {
        name.hasPrefix(".") && name.hasSuffix(suffix) ? name.dropFirst().dropLast(suffix.count) : nil
    }

    init(directory: DirectoryHandle, name: String, size: Int) throws {
        self.directory = directory
        self.name = name
        partName = Self.fileName(ofEntry: name)
        file = try directory.openSparseFile(partName, size: size)
        chunkSize = ChunkedHash.chunkSize(forSize: size)
        chunkCount = ChunkedHash.partCount(forSize: size)
    }

    private func range(of index: Int) -> Range<Int> { index * chunkSize..<min(file.size, (index + 1) * chunkSize) }

    /// The file, to read chunk `index` from, if it holds it. The caller checks what it reads and says so with
    /// `verified` or `write`.
    func source(of index: Int) -> SparseFile? { file.holdsData(range(of: index)) ? file : nil }

    /// Chunk `index` read from the file matched its digest.
    func verified(_ index: Int) { record(index) }

    /// Keeps chunk `index`, which matched its digest; a failure to write is swallowed (the cache never makes a read
    /// fail).
    func write(_ index: Int, _ bytes: UnsafeRawBufferPointer) {
        guard bytes.count == range(of: index).count, (try? file.write(bytes, at: range(of: index).lowerBound)) != nil else { return }
        record(index)
    }

    /// Counts chunk `index` as verified; the last one makes the file the cache's entry.
    private func record(_ index: Int) {
        let complete = verified.withLock { set -> Bool in
            guard set != nil, set!.insert(index).inserted else { return false }
            guard set!.count == chunkCount else { return false }
            set = nil
            return true
        }
        if complete { try? directory.rename(partName, to: name) }
    }
}

extension ObjectCache {
    /// The partial entry of `hash`, a sha2-256-chunked object of `size` bytes in more than one chunk, opened or
    /// made; nil for other objects or when the cache cannot be written.
    public func partialObject(for hash: ObjectHash, size: Int) -> PartialObject? {
        guard hash.hashType == .sha2256Chunked, ChunkedHash.partCount(forSize: size) > 1,
              let (type, shard, name) = Self.location(of: hash),
              let directory = directory(type, shard, create: true) else { return nil }
        return try? PartialObject(directory: directory, name: name, size: size)
    }

    /// Whether `name` in a shard directory is a partial entry.
    static func isPartialEntry(_ name: String) -> Bool { PartialObject.entryName(ofFile: name) != nil }
}
