// The content-addressed object cache: bytes already downloaded once, kept by their hash so that no install or
// fetch downloads them again, whatever URL they came from (quilt3 keys its cache by URL).
import QuiltSupport
import QuiltFormat
#if canImport(Glibc)
import Glibc
#endif

/// Objects under `<quilt3's cache directory>/objects/<hash type>/<2 hex>/<rest of the hex digest>`.
///
/// Nothing read from it is trusted: the installer hashes what it copied out before putting it in place, and an
/// entry that does not match is removed. Entries are written by a temporary file and a rename in their own
/// directory, after the bytes were verified for an install, so an entry is whole or absent; a writer killed
/// midway leaves only a `.tmp-` file, which `prune` removes. Every failure to write is swallowed: the cache can
/// make an install faster, never make it fail.
///
/// Files are copied out, never hard-linked: an installed file is the user's to edit, and an edit through a link
/// would change the entry for every later install (it would be caught by the hash, but the cache would be
/// lost). The copy is `copy_file_range`, which the kernel may turn into a clone where the file system can.
public struct ObjectCache: Sendable {
    public let root: String
    /// Shard directories opened so far, kept open: an install looks up and adds thousands of objects, and opening
    /// the root, the type and the shard directory again for each was most of a small object's system calls.
    private let opened = Locked<[String: DirectoryHandle]>([:])

    public init(root: String) { self.root = root }

    /// The cache of quilt3's cache directory.
    public init(paths: QuiltPaths) { root = paths.cacheDirectory + "/objects" }

    /// Only cryptographic hashes key the cache: with CRC64NVME, bytes made to collide with an object's checksum
    /// would be installed as that object.
    static let cachedTypes: Set<HashType> = [.sha2256Chunked, .sha256]

    /// Where `hash` is kept (type directory, shard, file name), or nil if it is not cached.
    public static func location(of hash: ObjectHash) -> (type: String, shard: String, name: String)? {
        guard let type = hash.hashType, cachedTypes.contains(type) else { return nil }
        // The values are base64 (sha2-256-chunked) or hex (SHA256); the name is always lower-case hex of the
        // digest: file-system safe, and one name per object whatever case or padding the manifest used.
        let digest: [UInt8]?
        if hash.value.utf8.count == 64, let bytes = Hex.decode(hash.value.lowercased()) { digest = bytes }
        else { digest = Base64.decode(hash.value) }
        guard let digest, digest.count == 32 else { return nil }
        let hex = Hex.encode(digest)
        return (type.rawValue, String(hex.prefix(2)), String(hex.dropFirst(2)))
    }

    func directory(_ type: String, _ shard: String, create: Bool) -> DirectoryHandle? {
        let key = type + "/" + shard
        if let held = opened.withLock({ $0[key] }) { return held }
        if create { try? FileSystem.makeDirectories(root) }
        guard let top = try? DirectoryHandle(path: root),
              let typed = try? top.subdirectory(type, create: create),
              let found = try? typed.subdirectory(shard, create: create) else { return nil }
        opened.withLock { $0[key] = found }
        return found
    }

    /// The entry for `hash` if one of `size` bytes is there (one of another size is removed), open for reading.
    public func open(_ hash: ObjectHash, size: Int) -> InputFile? {
        guard let (type, shard, name) = Self.location(of: hash),
              let directory = directory(type, shard, create: false),
              let file = try? directory.openFile(name) else { return nil }
        guard file.size == size else {
            directory.unlink(name)
            return nil
        }
        return file
    }

    /// Removes the entry for `hash` (found damaged).
    public func remove(_ hash: ObjectHash) {
        guard let (type, shard, name) = Self.location(of: hash),
              let directory = directory(type, shard, create: false) else { return }
        directory.unlink(name)
    }

    /// Keeps a copy of `file`, whose bytes were verified to be `hash`. Returns whether it was kept; a failure
    /// (a full disk, a read-only cache) leaves no entry and no temporary file behind.
    @discardableResult
    public func insert(_ hash: ObjectHash, from file: InputFile) -> Bool {
        guard let (type, shard, name) = Self.location(of: hash),
              let directory = directory(type, shard, create: true) else { return false }
        if case .regular(let size)? = directory.kind(of: name), size == file.size { return true }
        do {
            let writer = try AtomicFileWriter(in: directory, name: name)
            try writer.copy(from: file)
            try writer.commit()
            return true
        } catch {
            return false
        }
    }
}
