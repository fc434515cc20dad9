// Reading stored manifests without holding them: streamed in file order with the top hash computed on the way
// (checked when the stream ends), or in tree order for the readers that merge (diff, verify, install). A manifest
// stored out of tree order, which no writer we know of produces, goes through a spool instead.
import QuiltSupport
import QuiltFormat
import QuiltStorage

/// What one streaming pass over a stored manifest found.
public struct ManifestSummary: Sendable {
    public var header: JSONObject
    /// Directory-metadata lines, as loading keeps them (a repeated key: first position, last value).
    public var directoryMeta: [(key: String, meta: JSONValue)]
    public var fileCount: Int
    public var totalSize: Int
    /// Whether the file entries are stored in tree order (then they can be read back in order from the file).
    public var inTreeOrder: Bool

    public var message: String? { header["message"]?.stringValue }
    public var userMeta: JSONValue? { header["user_meta"] }
}

/// Thrown by a tree-order reader over a file that turns out not to be in tree order.
struct NotInTreeOrder: Error {}

/// File entries in tree order, one at a time: from the file itself when it is stored in tree order, else from a
/// spool that sorted them.
public final class TreeOrderEntries {
    private let stream: ManifestStream?
    private var lines: EntrySpool.SortedLines?
    /// The spool behind `lines`, kept alive while they are read.
    private let spooled: SpooledManifest?

    init(stream: ManifestStream) {
        self.stream = stream
        spooled = nil
        lines = nil
    }

    init(spooled: SpooledManifest) throws {
        stream = nil
        self.spooled = spooled
        lines = try spooled.entries.sortedLines()
    }

    /// The next file entry in tree order; nil at the end.
    public func next() throws -> ManifestEntry? {
        if let stream {
            let entry = try stream.nextEntry()
            if !stream.inTreeOrder { throw NotInTreeOrder() }
            return entry
        }
        guard let line = try lines?.next()?.line else { return nil }
        guard case .entry(let entry) = try EntryStream.parseLine(line, lineNumber: 0) else { return try next() }
        return entry
    }

    /// The stream read, if the entries come from the file (for checking its top hash at the end).
    var fileStream: ManifestStream? { stream }
}

extension Registry {
    /// Opens a stored manifest for reading in file order; with `computeTopHash` the stream hashes what it reads,
    /// for `verify(_:as:)` at its end.
    public func openManifest(_ topHash: String, computeTopHash: Bool = true) throws -> ManifestStream {
        let reader: any ObjectReader
        do {
            reader = try storage.reader(Self.manifestKey(topHash))
        } catch StorageError.notFound {
            throw RegistryError.noSuchManifest(topHash)
        }
        return try ManifestStream(computeTopHash: computeTopHash) { try reader.read(into: $0) }
    }

    /// After `stream` has been read to its end: fails unless the manifest hashes to `topHash`. A manifest stored
    /// out of tree order is read again, sorted in a spool, and hashed in tree order.
    public func verify(_ stream: ManifestStream, as topHash: String) throws {
        let actual: String
        if stream.inTreeOrder {
            if let missing = stream.entryWithoutHash { throw ManifestError.missingHash(logicalKey: missing) }
            guard let hash = stream.topHash else { throw RegistryError.corruptManifest(topHash: topHash, actual: "unread") }
            actual = hash
        } else {
            actual = try writer.topHash(of: spooledManifest(topHash))
        }
        guard actual == topHash else { throw RegistryError.corruptManifest(topHash: topHash, actual: actual) }
    }

    /// A spool for a manifest's entries, within this registry's memory budget.
    public func makeSpool() -> EntrySpool {
        EntrySpool(memoryBudget: manifestMemoryBudget, temporaryDirectory: temporaryDirectory,
                   maxRecordSize: writer.maxRecordSize)
    }

    /// A stored manifest read into a spool: its entries in tree order whatever the order of the file.
    public func spooledManifest(_ topHash: String) throws -> SpooledManifest {
        let stream = try openManifest(topHash, computeTopHash: false)
        let spool = makeSpool()
        var directories = DirectoryMetaCollector()
        while let item = try stream.next() {
            switch item {
            case .entry(let entry): try spool.add(entry)
            case .directory(let key, let meta): directories.add(key, meta)
            case .header: break
            }
        }
        try spool.finish()
        return SpooledManifest(header: stream.header, directoryMeta: directories.list, entries: spool)
    }

    /// One streaming pass over a manifest: checks it against its name (unless `verify` is false) and sums it up.
    /// `visit`, if given, sees every file entry in file order (to count a selection, say).
    public func manifestSummary(_ topHash: String, verify: Bool = true,
                                visit: ((ManifestEntry) throws -> Void)? = nil) throws -> ManifestSummary {
        let stream = try openManifest(topHash, computeTopHash: verify)
        var directories = DirectoryMetaCollector()
        while let item = try stream.next() {
            switch item {
            case .entry(let entry): try visit?(entry)
            case .directory(let key, let meta): directories.add(key, meta)
            case .header: break
            }
        }
        if verify { try self.verify(stream, as: topHash) }
        return ManifestSummary(header: stream.header, directoryMeta: directories.list, fileCount: stream.fileCount,
                               totalSize: stream.totalSize, inTreeOrder: stream.inTreeOrder)
    }

    /// The file entries of a manifest in tree order, not checked against its name (a summary pass did that):
    /// straight from the file when `storedInTreeOrder`, else sorted in a spool.
    public func entriesInTreeOrder(_ topHash: String, storedInTreeOrder: Bool) throws -> TreeOrderEntries {
        if storedInTreeOrder { return TreeOrderEntries(stream: try openManifest(topHash, computeTopHash: false)) }
        return try TreeOrderEntries(spooled: spooledManifest(topHash))
    }

    /// The file entries of a manifest in tree order, to be checked against its name with `finish` once read:
    /// straight from the file, hashed on the way; `NotInTreeOrder` if the file turns out not to be in tree order
    /// (the caller then starts again with `entriesInTreeOrder(_:storedInTreeOrder: false)`).
    func checkedEntriesInTreeOrder(_ topHash: String) throws -> TreeOrderEntries {
        TreeOrderEntries(stream: try openManifest(topHash, computeTopHash: true))
    }

    /// After `entries` from `checkedEntriesInTreeOrder` were read to the end: the manifest's check.
    func finish(_ entries: TreeOrderEntries, as topHash: String) throws {
        guard let stream = entries.fileStream else { return }
        try verify(stream, as: topHash)
    }

    /// The stored bytes of a manifest, handed over in blocks as they are read.
    public func readManifestBytes(_ topHash: String, into body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let reader: any ObjectReader
        do {
            reader = try storage.reader(Self.manifestKey(topHash))
        } catch StorageError.notFound {
            throw RegistryError.noSuchManifest(topHash)
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = try reader.read(into: buffer)
            if n == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }
}

/// Directory-metadata lines as loading keeps them: a repeated key keeps its first position and its last value.
struct DirectoryMetaCollector {
    private(set) var list: [(key: String, meta: JSONValue)] = []
    private var positions: [ExactString: Int] = [:]

    mutating func add(_ key: String, _ meta: JSONValue) {
        if let index = positions[ExactString(key)] {
            list[index].meta = meta
        } else {
            positions[ExactString(key)] = list.count
            list.append((key, meta))
        }
    }
}
