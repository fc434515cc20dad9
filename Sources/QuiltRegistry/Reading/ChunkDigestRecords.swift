// The chunk-digest records of the object cache: for a sha2-256-chunked object once read whole, or hashed by a
// build or hash-object (`EntryHasher.hashFiles`), the SHA-256 digest of each of its chunks, so a later read can
// check every chunk as it goes instead of hashing the object first.
import QuiltSupport
import QuiltFormat

/// Records live under `<cache>/chunk-digests/<2 hex>/<62 hex>` (the object's digest, as its cache entry is named)
/// and hold the chunks' 32-byte digests one after another. A record needs no trust: it is used only if its digests
/// combine (`ChunkedHash.combine`) to the hash it is named by, which no other list of digests can do; one that
/// does not is removed. It is kept whether or not the object itself is cached (a `file://` entry is never copied
/// into the cache, and its record is what makes its second read a single pass), and it is small: 32 bytes per
/// 8 MiB chunk. Like every cache write, a failure to keep one is swallowed.
extension ObjectCache {
    static let chunkDigestDirectory = "chunk-digests"

    /// The record's directory (created with `create`) and file name for `hash`, or nil for another hash type.
    private func recordLocation(_ hash: ObjectHash, create: Bool) -> (DirectoryHandle, String)? {
        guard hash.hashType == .sha2256Chunked, let (_, shard, name) = Self.location(of: hash) else { return nil }
        if create { try? FileSystem.makeDirectories(root) }
        guard let top = try? DirectoryHandle(path: root),
              let records = try? top.subdirectory(Self.chunkDigestDirectory, create: create),
              let directory = try? records.subdirectory(shard, create: create) else { return nil }
        return (directory, name)
    }

    /// The chunk digests recorded for `hash` (an object of `size` bytes), if a record is there and combines to it.
    public func chunkDigests(for hash: ObjectHash, size: Int) -> [[UInt8]]? {
        guard let (directory, name) = recordLocation(hash, create: false),
              let file = try? directory.openFile(name) else { return nil }
        let count = ChunkedHash.partCount(forSize: size)
        guard file.size == count * 32, let bytes = try? file.readAll(), bytes.count == count * 32 else {
            directory.unlink(name)
            return nil
        }
        let digests = (0..<count).map { Array(bytes[$0 * 32..<($0 + 1) * 32]) }
        guard ChunkedHash.combine(partDigests: digests) == hash.value else {
            directory.unlink(name)
            return nil
        }
        return digests
    }

    /// Keeps `digests` for `hash`, if they combine to it.
    public func keepChunkDigests(_ digests: [[UInt8]], for hash: ObjectHash) {
        guard digests.count > 1, ChunkedHash.combine(partDigests: digests) == hash.value,
              let (directory, name) = recordLocation(hash, create: true) else { return }
        if case .regular(let size)? = directory.kind(of: name), size == digests.count * 32 { return }
        guard let writer = try? AtomicFileWriter(in: directory, name: name) else { return }
        for digest in digests { try? writer.write(digest) }
        try? writer.commit()
    }

    /// A writer for the cache entry of `hash`, to be committed only once its bytes are verified; nil when the type
    /// is not cached or the cache cannot be written.
    func entryWriter(for hash: ObjectHash) -> AtomicFileWriter? {
        guard let (type, shard, name) = Self.location(of: hash) else { return nil }
        try? FileSystem.makeDirectories(root)
        guard let top = try? DirectoryHandle(path: root), let typed = try? top.subdirectory(type),
              let directory = try? typed.subdirectory(shard) else { return nil }
        return try? AtomicFileWriter(in: directory, name: name)
    }
}
