// A revision's directory tree, on disk: built once per revision from one tree-order read of its manifest, then
// read through a mapping, so any directory of a million-entry package is listed (its children with their sizes
// and file counts, a directory's the sum below it) and any entry found by its key without reading the manifest
// again, and with nothing of it held in memory. A revision is immutable, so the index never goes stale. The
// browser (`quilt serve`) and the file system (`quilt mount`) stand on it.
//
// Tree order makes it one pass: a directory's subtree is one run of entries, so a stack of the directories open
// at the current entry is all the builder holds (with the ids of their children); each directory is written out
// when its run ends. Nodes are numbered in tree order from the root (0), so a subtree is a range of ids.
//
// The file (little-endian) is, in order: the data (the manifest's header line, each node's name, each file's
// manifest line as stored, each directory's metadata as JSON and its children's ids as UInt32s), padding to 8, one
// 64-byte record per node by id, and a 128-byte trailer (written last, so the file is written front to back):
//
//     record:  kind u32 | parent u32 | name length u32 | children u32 | subtree end u32 | files u32
//              | payload length u32 | meta length u32 | name offset u64 | size u64 | payload offset u64
//              | meta offset u64            (payload: a file's manifest line, a directory's children array)
//     trailer: "QuiltIdx" | version u32 | record size u32 | node count u64 | nodes offset u64
//              | header offset u64 | header length u64 | top hash (64 ASCII) | CRC-64/NVME u64 | zeros u64
//
// The checksum covers every byte before it, and is checked when a kept index is opened (a bit flipped in a size
// or a parent would pass every bounds check); past that, every record's ranges are checked to lie in the file.
//
// Files live under `<cache directory>/revision-index/v1/<registry>/<top hash>`, `<registry>` being a digest of the
// registry's URL: the top hash does not cover physical keys, so one revision in two registries (a local build and
// its push) has different lines. Each is written to a temporary file and renamed into place, so a reader sees a
// whole index or none. It is a cache, so it is not made durable first (a million-entry index is 440 MB to flush
// before a mount can answer): one torn by a crash fails its checksum and is built again. Two builders of the same
// index write the same bytes, and the last rename wins harmlessly. An index that fails its checks at open is built again. Where the cache cannot be written, the
// index is built into an unnamed file in TMPDIR, for this process only.
import QuiltSupport
import QuiltFormat

/// One revision's directory tree (see the top of this file). Immutable, and safe to read from any thread.
public final class RevisionIndex: @unchecked Sendable {
    // Unchecked: the mapping is read-only and every field is immutable after init.

    /// A file or directory of the revision. The root directory is id 0, with the empty name and itself as parent.
    public struct Node: Sendable, Equatable, Hashable {
        public enum Kind: String, Sendable {
            case file, directory
        }

        /// The node's number, 0 (the root) to `nodeCount - 1`, in tree order.
        public let id: Int
        public let kind: Kind
        public let parent: Int
        /// The last segment of its logical key.
        public let name: String
        /// A file's size; a directory's: the sum of the sizes of the files below it.
        public let size: Int
        /// 1 for a file; for a directory, the files below it.
        public let files: Int
        /// A directory's children (files and directories directly in it); 0 for a file.
        public let childCount: Int
        /// One past the last id of its subtree (for a file, id + 1): the subtree is `id..<subtreeEnd`.
        public let subtreeEnd: Int

        public var isDirectory: Bool { kind == .directory }
    }

    public let topHash: String
    /// The manifest's header line (message, user_meta, workflow, version).
    public let header: JSONObject
    /// Files and directories, the root included.
    public let nodeCount: Int
    /// Where the index is kept (for messages); an index built for this process only has no file left.
    public let path: String

    public static let rootID = 0
    static let formatVersion: UInt32 = 1
    static let recordSize = 64
    static let trailerSize = 128
    static let magic = Array("QuiltIdx".utf8)
    /// The checks at open read the index this many bytes at a time, letting each slice's pages go after it.
    static let checkSlice = 16 << 20

    private let file: MappedFile
    private let nodesOffset: Int

    public var message: String? { header["message"]?.stringValue }
    /// The package `user_meta`: nil when absent.
    public var userMeta: JSONValue? { header["user_meta"] }
    public var workflow: JSONValue? { header["workflow"] }
    public var root: Node { node(Self.rootID)! }
    /// The files of the revision and the sum of their sizes.
    public var fileCount: Int { root.files }
    public var totalSize: Int { root.size }

    // MARK: Opening

    /// The index of `topHash` in `registry`, kept under `directory` (`QuiltContext.revisionIndexDirectory`): opened
    /// if it is there and whole, else built from one read of the manifest (checked against its name before the
    /// index is kept) and kept. `directory` that cannot be written gives an index for this process only.
    public static func open(_ registry: Registry, topHash: String, directory: String) throws -> RevisionIndex {
        let folder = directory + "/v1/" + registryFolder(registry)
        if let kept = try? RevisionIndex(mapping: folder + "/" + topHash, topHash: topHash) { return kept }
        return try build(registry, topHash: topHash, folder: folder)
    }

    /// The directory below an index directory that holds `registry`'s indexes.
    static func registryFolder(_ registry: Registry) -> String {
        String(Hex.encode(SHA256Hasher.digest(Array(registry.url.utf8))).prefix(32))
    }

    /// Maps the file at `path` and checks it is a whole index of `topHash` whose records stay within it.
    /// Maps the file at `path` and checks it is a whole index of `topHash` whose records stay within it; with
    /// `checksum`, that its bytes are the ones written (not needed right after writing them).
    convenience init(mapping path: String, topHash: String, checksum: Bool = true) throws {
        let file = try MappedFile(path: path)
        try self.init(file, path: path, topHash: topHash, checksum: checksum)
    }

    private init(_ file: MappedFile, path: String, topHash: String, checksum: Bool) throws {
        self.file = file
        self.path = path
        self.topHash = topHash
        let bytes = file.bytes
        func damaged(_ reason: String) -> RevisionIndexError { .damaged(path: path, reason: reason) }
        guard bytes.count >= Self.trailerSize else { throw damaged("shorter than its trailer") }
        let trailer = bytes.count - Self.trailerSize
        guard bytes[trailer..<trailer + 8].elementsEqual(Self.magic) else { throw damaged("no trailer") }
        guard Self.u32(bytes, trailer + 8) == Self.formatVersion, Self.u32(bytes, trailer + 12) == Self.recordSize else {
            throw damaged("another format version")
        }
        let count = Self.u64(bytes, trailer + 16), nodes = Self.u64(bytes, trailer + 24)
        let headerOffset = Self.u64(bytes, trailer + 32), headerLength = Self.u64(bytes, trailer + 40)
        guard bytes[trailer + 48..<trailer + 112].elementsEqual(topHash.utf8) else { throw damaged("the index of another revision") }
        if checksum {
            // A slice at a time, each let go once summed: the pages of a million-entry index (350 MB) would
            // otherwise all stay resident in a mount server that only ever reads a few of them.
            var crc = CRC64NVME()
            var start = 0
            while start < trailer + 112 {
                let end = min(trailer + 112, start + Self.checkSlice)
                crc.update(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                file.releaseResidentPages(start..<end)
                start = end
            }
            guard crc.value == UInt64(truncatingIfNeeded: Self.u64(bytes, trailer + 112)) else { throw damaged("checksum mismatch") }
        }
        guard count >= 1, count < Int(UInt32.max), nodes % 8 == 0, nodes <= trailer,
              (trailer - nodes) / Self.recordSize == count, (trailer - nodes) % Self.recordSize == 0,
              headerOffset <= nodes, headerLength <= nodes - headerOffset else { throw damaged("sizes that do not add up") }
        nodeCount = count
        nodesOffset = nodes
        do {
            header = try ManifestLine.parseHeader(UnsafeRawBufferPointer(rebasing: bytes[headerOffset..<headerOffset + headerLength]))
        } catch {
            throw damaged("its header line: \(error.message)")
        }
        // Every record's ranges within the data, so that no later read can leave the file.
        for id in 0..<count {
            let r = nodes + id * Self.recordSize
            let kind = Self.u32(bytes, r), parent = Self.u32(bytes, r + 4), end = Self.u32(bytes, r + 16)
            guard kind <= 1, parent < count, (id == 0) == (parent == id), id == 0 || parent < id, end > id, end <= count,
                  Self.within(bytes, r + 32, Self.u32(bytes, r + 8), limit: nodes),
                  Self.within(bytes, r + 48, Self.u32(bytes, r + 24), limit: nodes),
                  Self.within(bytes, r + 56, Self.u32(bytes, r + 28), limit: nodes) else {
                throw damaged("node \(id) out of bounds")
            }
            if kind == 0 && Self.u32(bytes, r + 24) != Self.u32(bytes, r + 12) * 4 { throw damaged("node \(id)'s children") }
            if (id + 1) % (Self.checkSlice / Self.recordSize) == 0 {
                file.releaseResidentPages(r + Self.recordSize - Self.checkSlice..<r + Self.recordSize)
            }
        }
        file.releaseResidentPages(nodes..<trailer)
        guard Self.u32(bytes, nodes) == 0 else { throw damaged("a root that is not a directory") }
    }

    /// Whether `length` bytes at the offset stored at `at` end before `limit`.
    private static func within(_ bytes: UnsafeRawBufferPointer, _ at: Int, _ length: Int, limit: Int) -> Bool {
        let offset = u64(bytes, at)
        return offset >= 0 && offset <= limit && length <= limit - offset
    }

    private static func u32(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> Int {
        Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
    }

    private static func u64(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> Int {
        Int(truncatingIfNeeded: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
    }

    // MARK: Reading

    /// The node `id`; nil outside `0..<nodeCount`.
    public func node(_ id: Int) -> Node? {
        guard id >= 0 && id < nodeCount else { return nil }
        let r = record(id)
        return Node(id: id, kind: field32(r, 0) == 0 ? .directory : .file, parent: field32(r, 4),
                    name: String(decoding: nameBytes(r), as: UTF8.self), size: field64(r, 40), files: field32(r, 20),
                    childCount: field32(r, 12), subtreeEnd: field32(r, 16))
    }

    /// The children of directory `id` in tree order, from the `offset`-th, at most `limit` of them (a file, or an
    /// offset past the end: none).
    public func children(of id: Int, from offset: Int = 0, limit: Int = .max) -> [Node] {
        guard id >= 0 && id < nodeCount, offset >= 0, limit > 0 else { return [] }
        let r = record(id)
        let count = field32(r, 12)
        guard field32(r, 0) == 0, offset < count else { return [] }
        let upper = offset + min(limit, count - offset)
        return (offset..<upper).compactMap { node(childID(r, $0)) }
    }

    /// The child of directory `id` named `name` (a binary search: siblings are in byte order of their names).
    public func child(of id: Int, named name: String) -> Node? {
        var name = name
        return name.withUTF8 { childID(of: id, named: UnsafeRawBufferPointer($0)) }.flatMap(node)
    }

    /// The node `path` names: `""` (or `"/"`) the root, `"a/b"` or `"a/b/"` (a directory only) below it; nil when nothing of the
    /// revision has that key (which every path that is not a logical key, such as `..`, `a//b` or `/etc`, is).
    public func lookup(_ path: String) -> Node? {
        var path = path
        let directoryOnly = path.utf8.last == UInt8(ascii: "/")
        if directoryOnly { path.removeLast() }
        guard !path.isEmpty else { return root }
        return path.withUTF8 { key -> Int? in
            var id = Self.rootID
            var start = 0
            let bytes = UnsafeRawBufferPointer(key)
            while start <= bytes.count {
                let end = bytes[start...].firstIndex(of: UInt8(ascii: "/")) ?? bytes.count
                guard let next = childID(of: id, named: UnsafeRawBufferPointer(rebasing: bytes[start..<end])) else { return nil }
                id = next
                start = end + 1
            }
            return id
        }.flatMap(node).flatMap { directoryOnly && !$0.isDirectory ? nil : $0 }
    }

    /// The logical key of node `id` (a directory's without a trailing `/`; the root's is empty).
    public func path(of id: Int) -> String {
        var names: [String] = []
        var current = id
        while current > 0, let node = node(current) {
            names.append(node.name)
            current = node.parent
        }
        return names.reversed().joined(separator: "/")
    }

    /// The manifest entry of file `id`, parsed from its line as stored (the manifest was checked against its top
    /// hash before the index was kept, so its hash is what the bytes are checked against when read).
    public func entry(_ id: Int) throws -> ManifestEntry {
        guard let node = node(id) else { throw ReadError.noSuchKey("#\(id)") }
        guard node.kind == .file else { throw ReadError.isADirectory(path(of: id)) }
        let r = record(id)
        let line = UnsafeRawBufferPointer(rebasing: file.bytes[field64(r, 48)..<field64(r, 48) + field32(r, 24)])
        guard case .entry(let entry) = try ManifestLine.parse(line, lineNumber: 0, rules: .manifest) else {
            throw RevisionIndexError.damaged(path: path, reason: "node \(id) holds no file entry")
        }
        return entry
    }

    /// The metadata of directory `id` from the manifest's directory line for it, if it has one.
    public func directoryMeta(_ id: Int) -> JSONValue? {
        guard id >= 0 && id < nodeCount else { return nil }
        let r = record(id)
        guard field32(r, 0) == 0, field32(r, 28) > 0 else { return nil }
        return try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: file.bytes[field64(r, 56)..<field64(r, 56) + field32(r, 28)]))
    }

    /// Drops the pages of the index read so far from the process's resident memory (a mount that serves a
    /// `find` of a million entries would otherwise hold all of its mapping resident; the pages come back from the
    /// page cache on the next read of them).
    public func releaseResidentPages() { file.releaseResidentPages() }

    private func record(_ id: Int) -> Int { nodesOffset + id * Self.recordSize }
    private func field32(_ r: Int, _ at: Int) -> Int { Self.u32(file.bytes, r + at) }
    private func field64(_ r: Int, _ at: Int) -> Int { Self.u64(file.bytes, r + at) }

    private func nameBytes(_ r: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: file.bytes[field64(r, 32)..<field64(r, 32) + field32(r, 8)])
    }

    /// The `index`-th child id of the directory whose record is at `r` (ids out of range read as none).
    private func childID(_ r: Int, _ index: Int) -> Int {
        Self.u32(file.bytes, field64(r, 48) + index * 4)
    }

    private func childID(of id: Int, named name: UnsafeRawBufferPointer) -> Int? {
        guard id >= 0 && id < nodeCount else { return nil }
        let r = record(id)
        guard field32(r, 0) == 0 else { return nil }
        var low = 0, high = field32(r, 12)
        while low < high {
            let mid = (low + high) / 2
            let candidate = childID(r, mid)
            guard candidate < nodeCount else { return nil }
            let other = nameBytes(record(candidate))
            if other.lexicographicallyPrecedes(name) { low = mid + 1 }
            else if name.lexicographicallyPrecedes(other) { high = mid }
            else { return candidate }
        }
        return nil
    }

    // MARK: Building

    /// Builds the index of `topHash` from one tree-order read of its manifest into `folder` (or, if that cannot be
    /// written, an unnamed file in the registry's temporary directory) and opens it. Nothing is kept unless the
    /// manifest matched its name.
    static func build(_ registry: Registry, topHash: String, folder: String) throws -> RevisionIndex {
        var kept: DirectoryHandle?
        if (try? FileSystem.makeDirectories(folder)) != nil { kept = try? DirectoryHandle(path: folder) }
        let directory = try kept ?? DirectoryHandle(path: registry.temporaryDirectory)
        let name = kept == nil ? ".quilt-revision-index-" + topHash : topHash
        let writer = try registry.readManifest(topHash) { manifest in
            // Made anew on each attempt: a manifest found stored out of tree order is read again, sorted.
            let builder = try Builder(writer: AtomicFileWriter(in: directory, name: name), manifest: manifest,
                                      scratchDirectory: kept?.path ?? registry.temporaryDirectory)
            while let raw = try manifest.nextLine() { try builder.add(raw) }
            return try builder.finish(topHash: topHash)
        }
        if kept != nil {
            try writer.commit()
            return try RevisionIndex(mapping: folder + "/" + topHash, topHash: topHash, checksum: false)
        }
        // Mapped from the temporary file, which goes when the writer does (the mapping stays).
        let file = try MappedFile(writer.readBack())
        return try RevisionIndex(file, path: writer.pathBeforeCommit, topHash: topHash, checksum: false)
    }

    /// Writes an index as the entries of a manifest come, in tree order.
    final class Builder {
        private let writer: AtomicFileWriter
        /// Bytes written so far: the offset of the next.
        private var offset = 0
        /// Node records, by id, filled as nodes end (a directory's only at the end of its subtree).
        private let nodes: ScratchFile
        /// Records of ids `windowStart...` not written to `nodes` yet (files come in id order; a directory's slot
        /// is filled when it ends, in here if it is still in the window, else in place in `nodes`).
        private var window: [UInt8] = []
        private var windowStart = 0
        private var nextID = 0
        private var open: [OpenDirectory] = []
        private let directoryMeta: [String: JSONValue]
        private var headerOffset = 0, headerLength = 0
        private var checksum = CRC64NVME()

        private struct OpenDirectory {
            var id: Int
            var parent: Int
            var name: [UInt8]
            var nameOffset: Int
            var children: [UInt32] = []
            var size = 0
            var files = 0
            var meta: (offset: Int, length: Int) = (0, 0)
            /// The last child's name: siblings must come in byte order (the binary search relies on it).
            var lastChild: [UInt8] = []
        }

        init(writer: AtomicFileWriter, manifest: StoredManifest, scratchDirectory: String) throws {
            self.writer = writer
            nodes = try ScratchFile(directory: scratchDirectory)
            var meta: [String: JSONValue] = [:]
            for (key, value) in manifest.directoryMeta {
                var key = key
                while key.utf8.last == UInt8(ascii: "/") { key.removeLast() }
                meta[key] = value
            }
            directoryMeta = meta
            var line: [UInt8] = []
            JSONWriter.writeManifestForm(.object(manifest.header), to: &line)
            headerOffset = offset
            headerLength = line.count
            try append(line)
            try openDirectory(name: [], path: "")
        }

        private func append(_ bytes: UnsafeRawBufferPointer) throws {
            try writer.write(bytes)
            checksum.update(bytes)
            offset += bytes.count
        }

        private func append(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { try append($0) }
        }

        /// The path of the directory open at `depth` (1: a child of the root).
        private func openPath(_ depth: Int) -> String {
            open[1...depth].map { String(decoding: $0.name, as: UTF8.self) }.joined(separator: "/")
        }

        private func openDirectory(name: [UInt8], path: String) throws {
            let id = nextID
            nextID += 1
            var directory = OpenDirectory(id: id, parent: open.last?.id ?? id, name: name, nameOffset: offset)
            try append(name)
            if let meta = directoryMeta[path] {
                var json: [UInt8] = []
                JSONWriter.writeManifestForm(meta, to: &json)
                directory.meta = (offset, json.count)
                try append(json)
            }
            if !open.isEmpty { try adopt(id, named: name) }
            open.append(directory)
            try reserve(id)
        }

        /// Makes `id` a child of the innermost open directory.
        private func adopt(_ id: Int, named name: [UInt8]) throws {
            guard open[open.count - 1].children.isEmpty || open[open.count - 1].lastChild.lexicographicallyPrecedes(name) else {
                throw RevisionIndexError.notInTreeOrder(String(decoding: name, as: UTF8.self))
            }
            open[open.count - 1].children.append(UInt32(id))
            open[open.count - 1].lastChild = name
        }

        /// One file entry, the next in tree order.
        func add(_ raw: ManifestStream.RawEntry) throws {
            let key = raw.key
            var segments: [Range<Int>] = []
            var start = 0
            while let slash = key[start...].firstIndex(of: UInt8(ascii: "/")) {
                segments.append(start..<slash)
                start = slash + 1
            }
            segments.append(start..<key.count)
            // The directories this entry shares with the one before stay open; the rest have ended.
            var depth = 0
            while depth + 1 < open.count && depth < segments.count - 1
                    && open[depth + 1].name.elementsEqual(key[segments[depth]]) {
                depth += 1
            }
            while open.count > depth + 1 { try closeDirectory() }
            for d in depth..<(segments.count - 1) {
                try openDirectory(name: Array(key[segments[d]]), path: d == 0 ? String(decoding: key[segments[0]], as: UTF8.self)
                                    : openPath(d) + "/" + String(decoding: key[segments[d]], as: UTF8.self))
            }
            guard nextID < Int(UInt32.max) else { throw RevisionIndexError.tooLarge }
            let id = nextID
            nextID += 1
            let name = Array(key[segments[segments.count - 1]])
            try adopt(id, named: name)
            let nameOffset = offset
            try append(name)
            let lineOffset = offset
            try append(raw.line)
            try reserve(id)
            try put(id, record(kind: 1, parent: open[open.count - 1].id, name: (nameOffset, name.count), children: 0,
                               end: id + 1, files: 1, payload: (lineOffset, raw.line.count), meta: (0, 0), size: raw.size))
            open[open.count - 1].size &+= raw.size
            open[open.count - 1].files += 1
        }

        private func closeDirectory() throws {
            let directory = open.removeLast()
            let childrenOffset = offset
            var ids: [UInt8] = []
            ids.reserveCapacity(directory.children.count * 4)
            for child in directory.children { withUnsafeBytes(of: child.littleEndian) { ids.append(contentsOf: $0) } }
            try append(ids)
            try put(directory.id, record(kind: 0, parent: directory.parent, name: (directory.nameOffset, directory.name.count),
                                         children: directory.children.count, end: nextID, files: directory.files,
                                         payload: (childrenOffset, ids.count), meta: directory.meta, size: directory.size))
            if !open.isEmpty {
                open[open.count - 1].size &+= directory.size
                open[open.count - 1].files += directory.files
            }
        }

        private func record(kind: UInt32, parent: Int, name: (Int, Int), children: Int, end: Int, files: Int,
                            payload: (Int, Int), meta: (Int, Int), size: Int) -> [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(RevisionIndex.recordSize)
            for value in [kind, UInt32(parent), UInt32(name.1), UInt32(children), UInt32(end), UInt32(truncatingIfNeeded: files),
                          UInt32(payload.1), UInt32(meta.1)] {
                withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
            }
            for value in [name.0, size, payload.0, meta.0] {
                withUnsafeBytes(of: UInt64(truncatingIfNeeded: value).littleEndian) { out.append(contentsOf: $0) }
            }
            return out
        }

        /// Makes room in the window for the record of `id`, the newest; a full window goes to `nodes`.
        private func reserve(_ id: Int) throws {
            if window.count >= 1 << 20 { try flushWindow() }
            let needed = (id + 1 - windowStart) * RevisionIndex.recordSize
            if window.count < needed { window.append(contentsOf: repeatElement(0, count: needed - window.count)) }
        }

        private func flushWindow() throws {
            try window.withUnsafeBytes { try nodes.write($0, at: windowStart * RevisionIndex.recordSize) }
            windowStart += window.count / RevisionIndex.recordSize
            window.removeAll(keepingCapacity: true)
        }

        private func put(_ id: Int, _ bytes: [UInt8]) throws {
            if id >= windowStart {
                let at = (id - windowStart) * RevisionIndex.recordSize
                window.replaceSubrange(at..<at + bytes.count, with: bytes)
            } else {
                try bytes.withUnsafeBytes { try nodes.write($0, at: id * RevisionIndex.recordSize) }
            }
        }

        /// Ends the open directories, appends the records and the trailer; the writer is ready to commit.
        func finish(topHash: String) throws -> AtomicFileWriter {
            while !open.isEmpty { try closeDirectory() }
            try flushWindow()
            try append([UInt8](repeating: 0, count: (8 - offset % 8) % 8))
            let nodesOffset = offset
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
            defer { buffer.deallocate() }
            var copied = 0
            while copied < nextID * RevisionIndex.recordSize {
                let n = try nodes.read(into: buffer, at: copied)
                guard n > 0 else { throw RevisionIndexError.damaged(path: writer.destination, reason: "records cut short") }
                try append(UnsafeRawBufferPointer(rebasing: buffer[0..<min(n, nextID * RevisionIndex.recordSize - copied)]))
                copied += n
            }
            var trailer = RevisionIndex.magic
            for value in [RevisionIndex.formatVersion, UInt32(RevisionIndex.recordSize)] {
                withUnsafeBytes(of: value.littleEndian) { trailer.append(contentsOf: $0) }
            }
            for value in [nextID, nodesOffset, headerOffset, headerLength] {
                withUnsafeBytes(of: UInt64(value).littleEndian) { trailer.append(contentsOf: $0) }
            }
            trailer.append(contentsOf: topHash.utf8.prefix(64))
            trailer.withUnsafeBytes { checksum.update($0) }
            withUnsafeBytes(of: checksum.value.littleEndian) { trailer.append(contentsOf: $0) }
            trailer.append(contentsOf: [UInt8](repeating: 0, count: RevisionIndex.trailerSize - trailer.count))
            try writer.write(trailer)
            return writer
        }
    }
}

/// Why a revision index could not be used or made.
public enum RevisionIndexError: QuiltError {
    /// A kept index that is not whole or not of its revision (it is built again when opened).
    case damaged(path: String, reason: String)
    /// Siblings out of order: the manifest reader hands entries out in tree order, so this is a bug.
    case notInTreeOrder(String)
    /// More than 4,294,967,294 files and directories.
    case tooLarge

    public var kind: FailureKind { .operationFailed }

    public var message: String {
        switch self {
        case .damaged(let path, let reason): return "revision index \(quoted(path)) is damaged: \(reason)"
        case .notInTreeOrder(let name): return "revision index: \(quoted(name)) does not come in tree order"
        case .tooLarge: return "revision index: more than 4294967294 files and directories"
        }
    }
}

extension QuiltContext {
    /// Where revision indexes are kept: `revision-index` in quilt3's cache directory.
    public var revisionIndexDirectory: String { config.paths.cacheDirectory + "/revision-index" }

    /// The index of `topHash` in `registry`, opened or built (`RevisionIndex.open`).
    public func revisionIndex(_ registry: Registry, topHash: String) throws -> RevisionIndex {
        try RevisionIndex.open(registry, topHash: topHash, directory: revisionIndexDirectory)
    }
}
