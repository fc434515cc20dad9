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
    /// Shard (and hash type) directories opened so far, kept open: an install looks up and adds thousands of
    /// objects, and opening the root, the type and the shard directory again for each was most of a small
    /// object's system calls.
    private let opened = Locked<[String: DirectoryHandle]>([:])

    public init(root: String) { self.root = root }

    /// The cache of quilt3's cache directory.
    public init(paths: QuiltPaths) { root = paths.cacheDirectory + "/objects" }

    /// Only cryptographic hashes key the cache: with CRC64NVME, bytes made to collide with an object's checksum
    /// would be installed as that object.
    static let cachedTypes: Set<HashType> = [.sha2256Chunked, .sha256]

    /// Where an object is kept: type directory, shard directory, file name.
    public typealias Location = (type: String, shard: String, name: String)

    /// Where `hash` is kept, or nil if it is not cached.
    public static func location(of hash: ObjectHash) -> Location? {
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
        guard let typed = typeDirectory(type, create: create),
              let found = try? typed.subdirectory(shard, create: create) else { return nil }
        opened.withLock { $0[key] = found }
        return found
    }

    /// The directory of one hash type, kept open as the shards are: a cold cache's first install makes 256
    /// shards, and finding the root and the type again for each was a dozen system calls a shard.
    private func typeDirectory(_ type: String, create: Bool) -> DirectoryHandle? {
        if let held = opened.withLock({ $0[type] }) { return held }
        if create { try? FileSystem.makeDirectories(root) }
        guard let top = try? DirectoryHandle(path: root), let typed = try? top.subdirectory(type, create: create) else { return nil }
        opened.withLock { $0[type] = typed }
        return typed
    }

    /// The entry for `hash` if one of `size` bytes is there (one of another size is removed), open for reading.
    public func open(_ hash: ObjectHash, size: Int) -> InputFile? {
        Self.location(of: hash).flatMap { self.open(at: $0, size: size) }
    }

    /// The entry at `location` (of `location(of:)`, worked out once by a caller that opens and then inserts).
    public func open(at location: Location, size: Int) -> InputFile? {
        guard let directory = directory(location.type, location.shard, create: false),
              let file = try? directory.openFile(location.name) else { return nil }
        guard file.size == size else {
            directory.unlink(location.name)
            return nil
        }
        return file
    }

    /// Removes the entry for `hash` (found damaged).
    public func remove(_ hash: ObjectHash) {
        if let location = Self.location(of: hash) { remove(at: location) }
    }

    public func remove(at location: Location) {
        directory(location.type, location.shard, create: false)?.unlink(location.name)
    }

    /// Keeps a copy of `file`, whose bytes were verified to be `hash`. Returns whether it was kept; a failure
    /// (a full disk, a read-only cache) leaves no entry and no temporary file behind.
    @discardableResult
    public func insert(_ hash: ObjectHash, from file: InputFile) -> Bool {
        guard let location = Self.location(of: hash) else { return false }
        return insert(at: location, from: file)
    }

    /// `insert` at a location worked out before. `missing`: the caller has just found no entry there (`open`
    /// returned nil), so it is not looked for again; one written meanwhile by another process is replaced by
    /// this copy of the same bytes.
    @discardableResult
    public func insert(at location: Location, from file: InputFile, missing: Bool = false) -> Bool {
        write(at: location, size: file.size, missing: missing) { try $0.copy(from: file) }
    }

    /// `insert` of bytes held in memory (a small object downloaded whole), verified to be the object's.
    @discardableResult
    public func insert(at location: Location, bytes: [UInt8], missing: Bool = false) -> Bool {
        write(at: location, size: bytes.count, missing: missing) { writer in
            try bytes.withUnsafeBytes { try writer.writeUnbuffered($0) }
        }
    }

    private func write(at location: Location, size: Int, missing: Bool, _ fill: (AtomicFileWriter) throws -> Void) -> Bool {
        let (type, shard, name) = location
        guard let directory = directory(type, shard, create: true) else { return false }
        if !missing, case .regular(let found)? = directory.kind(of: name), found == size { return true }
        do {
            let writer = try AtomicFileWriter(in: directory, name: name)
            try fill(writer)
            try writer.commit()
            return true
        } catch {
            return false
        }
    }
}
