// Reading stored manifests without holding them: streamed in file order with the top hash computed on the way
// (checked when the stream ends), or in tree order for the readers that merge (diff, verify, install). A manifest
// stored out of tree order, which no writer we know of produces, goes through a spool instead.
import QuiltSupport
import QuiltFormat
import QuiltStorage
import Dispatch

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
    /// The file read on another thread.
    private let reader: ReadAhead?
    private var lines: EntrySpool.SortedLines?
    /// The spool behind `lines`, kept alive while they are read.
    private let spooled: SpooledManifest?

    init(stream: ManifestStream) {
        reader = ReadAhead(stream, requireTreeOrder: true)
        spooled = nil
        lines = nil
    }

    init(spooled: SpooledManifest) throws {
        reader = nil
        self.spooled = spooled
        lines = try spooled.entries.sortedLines()
    }

    deinit { reader?.cancel() }

    /// The next file entry in tree order; nil at the end.
    public func next() throws -> ManifestEntry? {
        if let reader {
            while let item = try reader.next() {
                if case .entry(let entry) = item { return entry }
            }
            return nil
        }
        while let line = try lines?.next()?.line {
            if case .entry(let entry) = try EntryStream.parseLine(line, lineNumber: 0) { return entry }
        }
        return nil
    }

    /// The stream read, if the entries come from the file (for checking its top hash once they are all read).
    var fileStream: ManifestStream? { reader?.stream }
}

/// A stored manifest's entries in file order, read, parsed and hashed on another thread; checked against its
/// name by `verify()` once they have all been read.
public final class StreamedManifest {
    public let header: JSONObject
    private let reader: ReadAhead
    private let registry: Registry
    private let topHash: String

    init(stream: ManifestStream, registry: Registry, topHash: String) {
        header = stream.header
        reader = ReadAhead(stream, requireTreeOrder: false)
        self.registry = registry
        self.topHash = topHash
    }

    deinit { reader.cancel() }

    /// The next file entry (directory lines skipped); nil at the end.
    public func nextEntry() throws -> ManifestEntry? {
        while let item = try reader.next() {
            if case .entry(let entry) = item { return entry }
        }
        return nil
    }

    /// After the last entry: fails unless the manifest hashes to its name.
    public func verify() throws {
        while try nextEntry() != nil {}
        try registry.verify(reader.stream, as: topHash)
    }
}

extension Registry {
    /// A stored manifest's entries in file order, read ahead on another thread (see `StreamedManifest`).
    public func streamManifest(_ topHash: String) throws -> StreamedManifest {
        StreamedManifest(stream: try openManifest(topHash), registry: self, topHash: topHash)
    }

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

/// A manifest stream read (parsed, checked and hashed) on another thread, its items handed over in batches, so
/// the reader of the items and the parsing share two cores. The stream itself may be looked at only after
/// `next()` has returned nil.
final class ReadAhead: @unchecked Sendable {
    // `stream` belongs to the producer until it has finished; `state` is shared under its lock; `current` and
    // `index` are the consumer's.
    let stream: ManifestStream
    private let requireTreeOrder: Bool
    private let state = Locked<(batches: [[EntryStream.Item]], finished: Bool, failure: (any Error)?, cancelled: Bool)>(
        ([], false, nil, false))
    private let filled = DispatchSemaphore(value: 0)
    private let free = DispatchSemaphore(value: ReadAhead.batchesAhead)
    private var current: [EntryStream.Item] = []
    private var index = 0
    private var ended = false

    static let batchSize = 2048
    static let batchesAhead = 4

    /// Starts reading `stream`; with `requireTreeOrder`, the first entry out of tree order ends it with
    /// `NotInTreeOrder`.
    init(_ stream: ManifestStream, requireTreeOrder: Bool) {
        self.stream = stream
        self.requireTreeOrder = requireTreeOrder
        DispatchQueue.global().async { [self] in produce() }
    }

    private func produce() {
        var batch: [EntryStream.Item] = []
        batch.reserveCapacity(Self.batchSize)
        var failure: (any Error)?
        do {
            while let item = try stream.next() {
                if requireTreeOrder && !stream.inTreeOrder { throw NotInTreeOrder() }
                batch.append(item)
                if batch.count == Self.batchSize {
                    guard put(batch) else { return }
                    batch = []
                    batch.reserveCapacity(Self.batchSize)
                }
            }
            if !batch.isEmpty { guard put(batch) else { return } }
        } catch {
            failure = error
        }
        state.withLock {
            $0.finished = true
            $0.failure = failure
        }
        filled.signal()
    }

    /// Hands a batch over, waiting for room; false if the reader has gone.
    private func put(_ batch: [EntryStream.Item]) -> Bool {
        free.wait()
        let cancelled = state.withLock { state -> Bool in
            if !state.cancelled { state.batches.append(batch) }
            return state.cancelled
        }
        if !cancelled { filled.signal() }
        return !cancelled
    }

    /// The next item of the stream; nil at its end.
    func next() throws -> EntryStream.Item? {
        if index < current.count {
            index += 1
            return current[index - 1]
        }
        guard !ended else { return nil }
        filled.wait()
        let taken = state.withLock { state -> (batch: [EntryStream.Item]?, failure: (any Error)?) in
            if !state.batches.isEmpty { return (state.batches.removeFirst(), nil) }
            return (nil, state.failure)
        }
        guard let batch = taken.batch else {
            ended = true
            if let failure = taken.failure { throw failure }
            return nil
        }
        free.signal()
        current = batch
        index = 0
        return try next()
    }

    /// Stops the producer (the reader does not want more).
    func cancel() {
        state.withLock { $0.cancelled = true }
        for _ in 0...Self.batchesAhead { free.signal() }
    }
}
