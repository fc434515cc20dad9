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

/// Batches made on another thread and handed over in order, at most a few waiting: what lets the reading and
/// parsing of a manifest and the use of its entries share two cores.
final class Prefetcher<Batch>: @unchecked Sendable {
    // `state` is shared under its lock; the semaphores count batches waiting and room for more.
    private let state = Locked<(batches: [Batch], finished: Bool, failure: (any Error)?, cancelled: Bool)>(([], false, nil, false))
    private let filled = DispatchSemaphore(value: 0)
    private let free: DispatchSemaphore
    private let room: Int
    private var ended = false

    /// Starts `produce` on another thread; it hands each batch to the function it is given, which returns false
    /// when the reader has gone (then it should stop).
    init(batchesAhead: Int = 4, produce: @escaping @Sendable (_ put: (Batch) -> Bool) throws -> Void) {
        room = batchesAhead
        free = DispatchSemaphore(value: batchesAhead)
        DispatchQueue.global().async { [self] in
            var failure: (any Error)?
            do { try produce(put) } catch { failure = error }
            state.withLock {
                $0.finished = true
                $0.failure = failure
            }
            filled.signal()
        }
    }

    private func put(_ batch: Batch) -> Bool {
        free.wait()
        let cancelled = state.withLock { state -> Bool in
            if !state.cancelled { state.batches.append(batch) }
            return state.cancelled
        }
        if !cancelled { filled.signal() }
        return !cancelled
    }

    /// The next batch; nil once the producer has finished (its error, if it failed, is thrown once).
    func next() throws -> Batch? {
        guard !ended else { return nil }
        filled.wait()
        let taken = state.withLock { state -> (batch: Batch?, failure: (any Error)?) in
            if !state.batches.isEmpty { return (state.batches.removeFirst(), nil) }
            return (nil, state.failure)
        }
        guard let batch = taken.batch else {
            ended = true
            if let failure = taken.failure { throw failure }
            return nil
        }
        free.signal()
        return batch
    }

    /// Tells the producer to stop (the reader wants no more).
    func cancel() {
        state.withLock { $0.cancelled = true }
        for _ in 0...room { free.signal() }
    }
}

/// A manifest stream read (parsed, checked and hashed) on another thread, its items handed over in batches. The
/// stream itself may be looked at only after `next()` has returned nil.
final class ReadAhead: @unchecked Sendable {
    let stream: ManifestStream
    private let prefetcher: Prefetcher<[EntryStream.Item]>
    private var current: [EntryStream.Item] = []
    private var index = 0

    static let batchSize = 2048

    /// Starts reading `stream`; with `requireTreeOrder`, the first entry out of tree order ends it with
    /// `NotInTreeOrder`.
    init(_ stream: ManifestStream, requireTreeOrder: Bool) {
        self.stream = stream
        let shared = UnsafeSendable(stream)
        prefetcher = Prefetcher { put in
            let stream = shared.value
            var batch: [EntryStream.Item] = []
            batch.reserveCapacity(Self.batchSize)
            while let item = try stream.next() {
                if requireTreeOrder && !stream.inTreeOrder { throw NotInTreeOrder() }
                batch.append(item)
                if batch.count == Self.batchSize {
                    guard put(batch) else { return }
                    batch.removeAll(keepingCapacity: true)
                }
            }
            if !batch.isEmpty { _ = put(batch) }
        }
    }

    /// The next item of the stream; nil at its end.
    func next() throws -> EntryStream.Item? {
        while index == current.count {
            guard let batch = try prefetcher.next() else { return nil }
            current = batch
            index = 0
        }
        index += 1
        return current[index - 1]
    }

    func cancel() { prefetcher.cancel() }
}

/// File entry lines of a stream, in tree order (`NotInTreeOrder` otherwise), read and checked on another thread
/// and handed over as bytes: for readers that compare lines rather than values (diff).
final class RawReadAhead: RawEntrySource, @unchecked Sendable {
    let stream: ManifestStream
    private let prefetcher: Prefetcher<RawBatch>
    private var current: RawBatch?
    private var index = 0

    /// Lines of one batch, side by side in one buffer.
    final class RawBatch: @unchecked Sendable {
        let bytes: UnsafeMutableRawBufferPointer
        var used = 0
        /// Per entry: line start and end, key start and end, content start (-1 for none).
        var records: [Int] = []

        init(capacity: Int) { bytes = .allocate(byteCount: capacity, alignment: 16) }
        deinit { bytes.deallocate() }

        func fits(_ count: Int) -> Bool { used + count <= bytes.count }

        func add(_ entry: ManifestStream.RawEntry) {
            let lineStart = used
            bytes.baseAddress!.advanced(by: used).copyMemory(from: entry.line.baseAddress!, byteCount: entry.line.count)
            used += entry.line.count
            var keyStart = lineStart + (entry.key.baseAddress! - entry.line.baseAddress!)
            if keyStart < lineStart || keyStart + entry.key.count > lineStart + entry.line.count {
                // The key was not in the line (it needed unescaping): keep it after the line.
                keyStart = used
                if !entry.key.isEmpty {
                    bytes.baseAddress!.advanced(by: used).copyMemory(from: entry.key.baseAddress!, byteCount: entry.key.count)
                }
                used += entry.key.count
            }
            records.append(contentsOf: [lineStart, lineStart + entry.line.count, keyStart, keyStart + entry.key.count,
                                        entry.contentStart ?? -1])
        }
    }

    static let batchBytes = 1 << 20

    init(_ stream: ManifestStream) {
        self.stream = stream
        let shared = UnsafeSendable(stream)
        prefetcher = Prefetcher { put in
            let stream = shared.value
            var batch = RawBatch(capacity: Self.batchBytes)
            while let entry = try stream.nextRaw() {
                if !stream.inTreeOrder { throw NotInTreeOrder() }
                let needed = entry.line.count + entry.key.count
                if !batch.fits(needed) {
                    if !batch.records.isEmpty {
                        guard put(batch) else { return }
                    }
                    batch = RawBatch(capacity: max(Self.batchBytes, needed))
                }
                batch.add(entry)
            }
            if !batch.records.isEmpty { _ = put(batch) }
        }
    }

    deinit { prefetcher.cancel() }

    func next() throws -> RawLine? {
        while current == nil || index * 5 == current!.records.count {
            guard let batch = try prefetcher.next() else { return nil }
            current = batch
            index = 0
        }
        let batch = current!
        let r = index * 5
        index += 1
        let base = UnsafeRawPointer(batch.bytes.baseAddress!)
        let contentStart = batch.records[r + 4]
        return RawLine(line: UnsafeRawBufferPointer(start: base + batch.records[r], count: batch.records[r + 1] - batch.records[r]),
                       key: UnsafeRawBufferPointer(start: base + batch.records[r + 2], count: batch.records[r + 3] - batch.records[r + 2]),
                       contentStart: contentStart < 0 ? nil : contentStart)
    }
}

/// A file entry line and its key's bytes, valid until the next line is asked for.
struct RawLine {
    var line: UnsafeRawBufferPointer
    var key: UnsafeRawBufferPointer
    /// Where size, hash and meta start, for a line in the writer's form (see `ManifestStream.RawEntry`).
    var contentStart: Int?
}

/// File entry lines in tree order, one at a time.
protocol RawEntrySource: AnyObject {
    func next() throws -> RawLine?
}

/// The lines of a spool (sorted, so in tree order).
final class SpoolLines: RawEntrySource {
    private let spooled: SpooledManifest
    private var lines: EntrySpool.SortedLines

    init(_ spooled: SpooledManifest) throws {
        self.spooled = spooled
        lines = try spooled.entries.sortedLines()
    }

    func next() throws -> RawLine? {
        guard let (line, key) = try lines.next() else { return nil }
        return RawLine(line: line, key: key, contentStart: WriterFormLine.contentStart(of: line))
    }
}
