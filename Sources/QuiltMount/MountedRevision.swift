// What a mounted revision answers, apart from FUSE: its tree from the shared revision index (a node's id is its
// inode), attributes from the manifest, extended attributes from its metadata, and verified bytes through the
// entry reader and the block cache. Every method may be called from any of the FUSE loop's threads at once.
import Foundation
import QuiltSupport
import QuiltFormat
import QuiltRegistry

/// One revision (or one directory of it, for a Quilt+ URI's path) as a read-only tree of files.
public final class MountedRevision: @unchecked Sendable {
    // Unchecked: the index and the settings are immutable; `handles` is Locked; the cache is thread-safe.

    /// A node's attributes as `stat` gives them.
    public struct Attributes: Sendable, Equatable {
        public var inode: UInt64
        public var isDirectory: Bool
        public var size: Int
        /// 0o555 for a directory, 0o444 for a file.
        public var permissions: UInt32 { isDirectory ? 0o555 : 0o444 }
    }

    public let index: RevisionIndex
    /// The node mounted as the root: the revision's root, or the directory a URI's path names.
    public let rootID: Int
    /// The revision's time (seconds since 1970): every node's mtime, ctime and atime.
    public let time: Int
    /// What the mount says for `df`: a name, for the messages.
    public let description: String
    let reader: EntryReader
    let cache: BlockCache
    /// Reports a read that failed (the damaged key named), once per failure; the command prints it on stderr.
    let report: @Sendable (String) -> Void
    /// Open entries by node id, with the opens that hold them; a few closed ones are kept (their chunk digests
    /// and verified spools serve the next open).
    private let handles = Locked(HandleTable())

    public static let xattrMeta = "user.quilt.meta"
    public static let xattrHash = "user.quilt.hash"

    public init(index: RevisionIndex, rootID: Int = RevisionIndex.rootID, time: Int, description: String,
                reader: EntryReader, cacheBudget: Int = BlockCache.defaultBudget,
                report: @escaping @Sendable (String) -> Void) {
        self.index = index
        self.rootID = rootID
        self.time = time
        self.description = description
        self.reader = reader
        self.cache = BlockCache(budget: cacheBudget)
        self.report = report
    }

    /// Resident memory past which the index's mapped pages are let go (the block cache's budget, the handles and
    /// the runtime are well below it).
    static let residentLimit = 192 << 20

    /// Runs for the life of the mount: once a second, lets the index's mapped pages go when the process's
    /// resident memory has passed `residentLimit` (a walk of a million-entry tree maps all of its 350 MB index).
    func keepMemoryBounded() {
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        while true {
            sleep(1)
            if let resident = Self.residentPages(), resident * pageSize > Self.residentLimit { index.releaseResidentPages() }
        }
    }

    /// The process's resident pages, from /proc/self/statm (its second field).
    static func residentPages() -> Int? {
        guard let statm = FileSystem.readToEnd("/proc/self/statm") else { return nil }
        let fields = statm.split(separator: UInt8(ascii: " "))
        return fields.count > 1 ? Int(String(decoding: fields[1], as: UTF8.self)) : nil
    }

    // MARK: Inodes

    /// FUSE's root inode is 1; every other node's inode is its id + 1 (the mounted root's own id + 1 is never given
    /// out when it is not the revision's root, and no node outside its subtree is reachable).
    public func inode(of id: Int) -> UInt64 { id == rootID ? 1 : UInt64(id + 1) }

    /// The node id of `inode`, or nil for one this mount never gave out.
    public func id(of inode: UInt64) -> Int? {
        if inode == 1 { return rootID }
        guard inode >= 2, inode <= UInt64(index.nodeCount) else { return nil }
        let id = Int(inode) - 1
        guard id != rootID, id > rootID, id < subtreeEnd else { return nil }
        return id
    }

    private var subtreeEnd: Int { index.node(rootID)!.subtreeEnd }

    // MARK: The tree

    public func attributes(_ inode: UInt64) -> Attributes? {
        guard let id = id(of: inode), let node = index.node(id) else { return nil }
        return attributes(node)
    }

    func attributes(_ node: RevisionIndex.Node) -> Attributes {
        Attributes(inode: inode(of: node.id), isDirectory: node.isDirectory, size: node.isDirectory ? 0 : node.size)
    }

    /// The child `name` of directory `parent`.
    public func lookup(_ parent: UInt64, _ name: String) -> Attributes? {
        guard let id = id(of: parent), let child = index.child(of: id, named: name) else { return nil }
        return attributes(child)
    }

    /// Whether `inode` is a directory (nil: no such inode).
    public func isDirectory(_ inode: UInt64) -> Bool? {
        guard let id = id(of: inode) else { return nil }
        return index.node(id)?.isDirectory
    }

    /// The children of directory `inode` from the `offset`-th, at most `limit`, with their attributes.
    public func children(_ inode: UInt64, from offset: Int, limit: Int) -> [(name: String, attributes: Attributes)] {
        guard let id = id(of: inode) else { return [] }
        return index.children(of: id, from: offset, limit: limit).map { ($0.name, attributes($0)) }
    }

    /// The nodes below the mounted root, and the sum of its files' sizes.
    public var nodeCount: Int { subtreeEnd - rootID }
    public var totalSize: Int { index.node(rootID)!.size }

    // MARK: Extended attributes

    /// The names of `inode`'s extended attributes: `user.quilt.meta` where there is metadata (a file's user_meta, a
    /// directory's from its manifest line, the root's the package's), `user.quilt.hash` for a file.
    public func extendedAttributeNames(_ inode: UInt64) -> [String]? {
        guard let id = id(of: inode), let node = index.node(id) else { return nil }
        var names: [String] = []
        if (try? metadata(node)) ?? nil != nil { names.append(Self.xattrMeta) }
        if !node.isDirectory { names.append(Self.xattrHash) }
        return names
    }

    /// The value of extended attribute `name` of `inode` (JSON, as the manifest writes it), nil when it has none.
    public func extendedAttribute(_ inode: UInt64, _ name: String) throws -> [UInt8]? {
        guard let id = id(of: inode), let node = index.node(id) else { return nil }
        var out: [UInt8] = []
        switch name {
        case Self.xattrMeta:
            guard let meta = try metadata(node) else { return nil }
            JSONWriter.writeManifestForm(meta, to: &out)
        case Self.xattrHash:
            guard !node.isDirectory, let hash = try index.entry(node.id).hash else { return nil }
            var object = JSONObject()
            object["type"] = .string(hash.type)
            object["value"] = .string(hash.value)
            JSONWriter.writeManifestForm(.object(object), to: &out)
        default:
            return nil
        }
        return out
    }

    private func metadata(_ node: RevisionIndex.Node) throws -> JSONValue? {
        if !node.isDirectory { return try index.entry(node.id).userMeta }
        if node.id == RevisionIndex.rootID { return index.userMeta }
        return index.directoryMeta(node.id)
    }

    // MARK: Reading

    /// Opens file `inode` for reading (a `file://` entry's file is opened, and must have the entry's size); the
    /// same entry opened again shares one handle. Balanced by `close`.
    public func open(_ inode: UInt64) throws -> EntryHandle {
        guard let id = id(of: inode), let node = index.node(id) else { throw ReadError.noSuchKey("#\(inode)") }
        guard !node.isDirectory else { throw ReadError.isADirectory(index.path(of: id)) }
        if let handle = handles.withLock({ $0.take(id) }) { return handle }
        let handle: EntryHandle
        do {
            handle = try reader.open(try index.entry(id))
        } catch {
            report(Self.describe(error, key: index.path(of: id)))
            throw error
        }
        return handles.withLock { $0.add(id, handle) }
    }

    public func close(_ inode: UInt64) {
        guard let id = id(of: inode) else { return }
        handles.withLock { $0.release(id) }
    }

    /// Up to `count` bytes of the open `handle` at `offset`, verified: handed to `body` as one or two buffers
    /// (a read across two blocks), valid only during the call. A read of a damaged chunk throws before `body`
    /// sees any byte, and is reported with the entry's key.
    public func read<R>(_ handle: EntryHandle, inode: UInt64, offset: Int, count: Int,
                        _ body: ([UnsafeRawBufferPointer]) throws -> R) throws -> R {
        let size = handle.size
        let end = min(size, offset + max(0, count))
        guard offset < end else { return try body([]) }
        let blockSize = ChunkedHash.chunkSize(forSize: size)
        let first = offset / blockSize, last = (end - 1) / blockSize
        var blocks: [BlockCache.Block] = []
        do {
            for n in first...last { blocks.append(try cache.block(BlockCache.Key(inode: inode, index: n)) { try self.fetch(handle, n, blockSize) }) }
        } catch {
            report(Self.describe(error, key: handle.logicalKey))
            throw error
        }
        readAhead(handle, inode: inode, from: offset, to: end, blockSize: blockSize)
        var pieces: [UnsafeRawBufferPointer] = []
        for (i, block) in blocks.enumerated() {
            let start = (first + i) * blockSize
            let lower = max(offset, start) - start, upper = min(end, start + block.count) - start
            pieces.append(UnsafeRawBufferPointer(rebasing: block.bytes[lower..<upper]))
        }
        return try withExtendedLifetime(blocks) { try body(pieces) }
    }

    /// Block `n` of the entry, read and verified by the entry reader straight into a buffer of the block cache (a
    /// chunk of a sha2-256-chunked object: `blockSize` is the entry's chunk size). A pooled buffer holds the bytes
    /// of the block it served last; `readChunk` fills every byte of it or throws.
    private func fetch(_ handle: EntryHandle, _ n: Int, _ blockSize: Int) throws -> BlockCache.Block {
        let range = n * blockSize..<min(handle.size, (n + 1) * blockSize)
        let (buffer, pool) = cache.buffer(range.count)
        let block = BlockCache.Block(owning: buffer, from: pool)
        try handle.readChunk(n, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<range.count]))
        return block
    }

    /// A reader that has come, in order, past the middle of a block gets the next block read ahead, so the
    /// chunk it needs next is being fetched and verified while it reads this one. Random reads get none: reading
    /// 1 MiB of an object fetches the chunk that holds it and nothing more.
    private func readAhead(_ handle: EntryHandle, inode: UInt64, from offset: Int, to end: Int, blockSize: Int) {
        guard cache.isSequential(inode: inode, offset: offset, end: end) else { return }
        let current = (end - 1) / blockSize
        guard end - current * blockSize >= blockSize / 2 else { return }
        for ahead in 1...BlockCache.readAheadBlocks {
            let n = current + ahead
            guard n * blockSize < handle.size else { break }
            cache.prefetch(BlockCache.Key(inode: inode, index: n)) { try self.fetch(handle, n, blockSize) }
        }
    }

    /// A failed read as one line that names the entry (a ReadError's message does already).
    static func describe(_ error: any Error, key: String) -> String {
        if let error = error as? ReadError { return error.message }
        return "cannot read \(quoted(key)): " + ((error as? any QuiltError)?.message ?? "\(error)")
    }
}

/// Open entry handles by node id: counted while open, the last few closed ones kept.
struct HandleTable {
    private var open: [Int: (handle: EntryHandle, opens: Int)] = [:]
    private var closed: [(id: Int, handle: EntryHandle)] = []
    static let closedKept = 64

    mutating func take(_ id: Int) -> EntryHandle? {
        if let found = open[id] {
            open[id]!.opens += 1
            return found.handle
        }
        guard let at = closed.firstIndex(where: { $0.id == id }) else { return nil }
        let handle = closed.remove(at: at).handle
        open[id] = (handle, 1)
        return handle
    }

    /// Adds a handle just opened, unless another thread added one first (that one is returned).
    mutating func add(_ id: Int, _ handle: EntryHandle) -> EntryHandle {
        if let other = take(id) { return other }
        open[id] = (handle, 1)
        return handle
    }

    mutating func release(_ id: Int) {
        guard let found = open[id] else { return }
        if found.opens > 1 {
            open[id]!.opens -= 1
            return
        }
        open[id] = nil
        closed.append((id, found.handle))
        if closed.count > Self.closedKept { closed.removeFirst() }
    }
}
