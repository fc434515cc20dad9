// The one reader of stored manifests. Every command that reads a revision (show, diff, verify, install, bundle,
// a build or push from one, cat, ls, fsck…) reads it here: the header at once, then the file entries in tree
// order, each checked as it streams (order, duplicates, a file where a directory is), the whole checked against
// its name before the reader says it has ended. The file is read on another thread, so reading, parsing and
// hashing it and using its entries share two cores; nothing of it is held but a few blocks.
import QuiltSupport
import QuiltFormat
import QuiltStorage

/// In which order a reader gets a stored manifest's file entries.
public enum ManifestOrder: Sendable {
    /// Tree order (the format's own). A manifest stored otherwise is sorted first (see `Registry.readManifest`).
    case tree
    /// The order of the file, never started again: for readers that print as they read and do not care.
    case stored
}

/// A stored manifest being read. Get one from `Registry.readManifest`.
public final class StoredManifest {
    public let topHash: String
    public let header: JSONObject
    public let order: ManifestOrder
    /// File entries handed out so far, and their bytes.
    public private(set) var fileCount = 0
    public private(set) var totalSize = 0
    private let source: Source
    private let registry: Registry
    private var ended = false
    /// What the reader hands out, fixed by its first call (`next` or `nextLine`).
    private var readAhead: ReadAhead?
    private var sorted: EntrySpool.SortedLines?

    private enum Source {
        /// The stored file, streamed.
        case file(ManifestStream)
        /// A manifest stored out of the canonical layout, sorted in a spool (and checked against its name).
        case sorted(SpooledManifest)
    }

    public var message: String? { header["message"]?.stringValue }
    /// The package `user_meta`: nil when absent (which hashes differently from `null`).
    public var userMeta: JSONValue? { header["user_meta"] }
    /// The workflow stamp, if a workflow checked the revision.
    public var workflow: JSONValue? { header["workflow"] }

    /// Directory-metadata lines (a repeated key: first position, last value). Complete from the start in tree
    /// order; in stored order, complete once the end has been reached.
    public var directoryMeta: [(key: String, meta: JSONValue)] {
        switch source {
        case .file(let stream): return stream.directoryMeta
        case .sorted(let spooled): return spooled.directoryMeta
        }
    }

    init(topHash: String, stream: ManifestStream, order: ManifestOrder, registry: Registry) {
        self.topHash = topHash
        header = stream.header
        self.order = order
        self.registry = registry
        source = .file(stream)
    }

    init(topHash: String, sorted spooled: SpooledManifest, registry: Registry) {
        self.topHash = topHash
        header = spooled.header
        order = .tree
        self.registry = registry
        source = .sorted(spooled)
    }

    deinit { readAhead?.cancel() }

    /// The next file entry; nil at the end, and only once the manifest has been checked against its name (a
    /// manifest that is not what its name says throws instead).
    public func next() throws -> ManifestEntry? {
        guard !ended else { return nil }
        switch source {
        case .file(let stream):
            if readAhead == nil { readAhead = ReadAhead(stream, topHash: topHash, lines: false, requireCanonical: order == .tree) }
            guard let entry = try readAhead!.nextEntry() else { try end(); return nil }
            try count(entry.size, entry.logicalKey)
            return entry
        case .sorted(let spooled):
            if sorted == nil { sorted = try spooled.entries.sortedLines() }
            while let (line, _) = try sorted!.next() {
                guard case .entry(let entry) = try ManifestLine.parse(line, lineNumber: 0, rules: .entryStream) else { continue }
                try count(entry.size, entry.logicalKey)
                return entry
            }
            try end()
            return nil
        }
    }

    /// The next file entry as its line and logical key (unescaped), valid until the next call; nil at the end, as
    /// `next`. For readers that compare or copy lines rather than values (diff, a build from a revision).
    public func nextLine() throws -> ManifestStream.RawEntry? {
        guard !ended else { return nil }
        switch source {
        case .file(let stream):
            if readAhead == nil { readAhead = ReadAhead(stream, topHash: topHash, lines: true, requireCanonical: order == .tree) }
            guard let raw = try readAhead!.nextLine() else { try end(); return nil }
            try count(raw.size, raw.key)
            return raw
        case .sorted(let spooled):
            if sorted == nil { sorted = try spooled.entries.sortedLines() }
            guard let (line, key) = try sorted!.next() else { try end(); return nil }
            let raw = try ManifestStream.RawEntry(line: line, key: key)
            try count(raw.size, key)
            return raw
        }
    }

    /// After the end of a read in stored order: whether the file was in the canonical layout.
    var storedInCanonicalLayout: Bool {
        guard case .file(let stream) = source else { return false }
        return stream.canonicalLayout
    }

    /// Reads what is left, so the manifest is checked against its name.
    public func finish() throws {
        while try next() != nil {}
    }

    private func count(_ size: Int, _ key: @autoclosure () -> String) throws {
        let (sum, overflow) = totalSize.addingReportingOverflow(size)
        if overflow { throw ManifestError.sizeOverflow(logicalKey: key()) }
        totalSize = sum
        fileCount += 1
    }

    private func count(_ size: Int, _ key: UnsafeRawBufferPointer) throws {
        try count(size, String(decoding: key, as: UTF8.self))
    }

    /// The end: the check against the name (a sorted copy was checked before its first entry).
    private func end() throws {
        ended = true
        guard case .file(let stream) = source else { return }
        let actual: String
        if stream.canonicalLayout {
            if let missing = stream.entryWithoutHash { throw ManifestError.missingHash(logicalKey: missing) }
            guard let hash = stream.topHash else { throw RegistryError.corruptManifest(topHash: topHash, actual: "unread") }
            actual = hash
        } else {
            // Stored order of a file out of the canonical layout: its top hash needs the tree order.
            actual = try registry.writer.topHash(of: registry.sortedManifest(topHash, verify: false))
        }
        guard actual == topHash else { throw RegistryError.corruptManifest(topHash: topHash, actual: actual) }
    }
}

/// Thrown by a tree-order reader of a file found not to be in the canonical layout; `Registry.readManifest`
/// catches it and starts again on a sorted copy.
struct NotInCanonicalLayout: Error {
    let topHash: String
}

extension Registry {
    /// Reads the manifest `topHash` names: `body` gets it as a `StoredManifest` in `order`.
    ///
    /// Every manifest quilt3, quilt-rs and this suite write is stored in tree order with its directory lines
    /// first. One that is not (a hand edit, another tool) is found out part-way through a tree-order read; it is
    /// then read again into a spool, sorted, checked against its name, and `body` runs again from the start on the
    /// sorted copy. So `body` must be able to start again until it has seen the end: it collects, compares or
    /// writes to a staged object, and commits only afterwards. A reader that prints as it goes takes `.stored`.
    ///
    /// `canonicalLayout` is what an earlier pass (`manifestSummary`) found: false goes straight to the sorted copy,
    /// so even a reader that prints as it goes can read in tree order. A body that reads a second manifest while
    /// it reads this one uses `readManifests`, which starts both again together.
    public func readManifest<R>(_ topHash: String, order: ManifestOrder = .tree, canonicalLayout: Bool = true,
                                _ body: (StoredManifest) throws -> R) throws -> R {
        try readManifests([topHash], order: order, sorted: canonicalLayout ? [] : [topHash]) { try body($0[0]) }
    }

    /// Reads several manifests side by side (a diff, a merge): `body` gets them in the order of `topHashes`. When
    /// any of them turns out to be stored out of the canonical layout, `body` starts again on them all, that one
    /// (and any found so before) read from a sorted copy.
    public func readManifests<R>(_ topHashes: [String], order: ManifestOrder = .tree,
                                 _ body: ([StoredManifest]) throws -> R) throws -> R {
        try readManifests(topHashes, order: order, sorted: [], body)
    }

    private func readManifests<R>(_ topHashes: [String], order: ManifestOrder, sorted: Set<String>,
                                  _ body: ([StoredManifest]) throws -> R) throws -> R {
        var sorted = order == .tree ? sorted : []
        while true {
            let manifests = try topHashes.map { topHash in
                sorted.contains(topHash)
                    ? StoredManifest(topHash: topHash, sorted: try sortedManifest(topHash, verify: true), registry: self)
                    : StoredManifest(topHash: topHash, stream: try openStream(topHash, computeTopHash: true), order: order,
                                     registry: self)
            }
            do {
                return try body(manifests)
            } catch let error as NotInCanonicalLayout where topHashes.contains(error.topHash) && !sorted.contains(error.topHash) {
                sorted.insert(error.topHash)
            }
        }
    }

    /// A stored manifest's file, opened for streaming.
    private func openStream(_ topHash: String, computeTopHash: Bool) throws -> ManifestStream {
        let reader: any ObjectReader
        do {
            reader = try storage.reader(Self.manifestKey(topHash))
        } catch StorageError.notFound {
            throw RegistryError.noSuchManifest(topHash)
        }
        return try ManifestStream(computeTopHash: computeTopHash) { try reader.read(into: $0) }
    }

    /// A stored manifest read into a spool, its entries in tree order whatever the order of the file; with
    /// `verify`, checked against its name first.
    func sortedManifest(_ topHash: String, verify: Bool) throws -> SpooledManifest {
        let stream = try openStream(topHash, computeTopHash: false)
        let spool = makeSpool()
        while let entry = try stream.nextEntry() { try spool.add(entry) }
        try spool.finish()
        let spooled = SpooledManifest(header: stream.header, directoryMeta: stream.directoryMeta, entries: spool)
        if verify {
            let actual = try writer.topHash(of: spooled)
            guard actual == topHash else { throw RegistryError.corruptManifest(topHash: topHash, actual: actual) }
        }
        return spooled
    }

    /// A spool for a manifest's entries, within this registry's memory budget.
    public func makeSpool() -> EntrySpool {
        EntrySpool(memoryBudget: manifestMemoryBudget, temporaryDirectory: temporaryDirectory,
                   maxRecordSize: writer.maxRecordSize)
    }

    /// One pass over a manifest, checking it against its name, summed up.
    public func manifestSummary(_ topHash: String) throws -> ManifestSummary {
        try readManifest(topHash, order: .stored) { manifest in
            try manifest.finish()
            return ManifestSummary(header: manifest.header, directoryMeta: manifest.directoryMeta,
                                   fileCount: manifest.fileCount, totalSize: manifest.totalSize,
                                   canonicalLayout: manifest.storedInCanonicalLayout)
        }
    }

    /// The header line of a manifest, read alone (for `log`, which needs only messages): not checked against the
    /// manifest's name, which would take reading all of it.
    public func manifestHeader(_ topHash: String) throws -> JSONObject {
        // The header is the first line: 64 KiB nearly always holds it; a longer one costs a second, full read.
        var bytes: [UInt8]
        do {
            bytes = try storage.getPrefix(Self.manifestKey(topHash), count: 64 << 10)
        } catch StorageError.notFound {
            throw RegistryError.noSuchManifest(topHash)
        }
        if !bytes.contains(0x0A) && bytes.count == 64 << 10 { bytes = try storage.get(Self.manifestKey(topHash)) }
        let end = bytes.firstIndex(of: 0x0A) ?? bytes.count
        return try bytes[0..<end].withUnsafeBytes { raw in Result { () throws(ManifestError) in try ManifestLine.parseHeader(raw) } }.get()
    }

    /// The header lines of several manifests, read several at a time; a manifest that cannot be read is left out.
    public func manifestHeaders(_ topHashes: [String]) -> [String: JSONObject] {
        let unique = Array(Set(topHashes))
        let headers = Locked<[String: JSONObject]>([:])
        try? TransferPool.run(count: unique.count, maxConcurrency: readConcurrency) { i in
            if let header = try? manifestHeader(unique[i]) { headers.withLock { $0[unique[i]] = header } }
        }
        return headers.value
    }

    /// The stored bytes of a manifest, handed over in blocks as they are read (not checked: `quilt-cat-manifest`
    /// prints a manifest exactly as stored, and `--verify` reads it first).
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

/// What one pass over a stored manifest found.
public struct ManifestSummary: Sendable {
    public var header: JSONObject
    public var directoryMeta: [(key: String, meta: JSONValue)]
    public var fileCount: Int
    public var totalSize: Int
    /// Whether the file is stored in tree order with its directory lines first (every writer we know of does so).
    public var canonicalLayout: Bool

    public var message: String? { header["message"]?.stringValue }
    public var userMeta: JSONValue? { header["user_meta"] }
}

/// A manifest stream read (parsed or split, checked and hashed) on another thread, its file entries handed over
/// in batches: as values, or as lines side by side in one buffer. The stream itself may be looked at only after
/// the end has been handed over.
final class ReadAhead: @unchecked Sendable {
    private let lineBatches: Prefetcher<LineBatch>?
    private let entryBatches: Prefetcher<[ManifestEntry]>?
    private var lines: LineBatch?
    private var entries: [ManifestEntry] = []
    private var index = 0

    static let entriesPerBatch = 2048
    static let bytesPerBatch = 1 << 20

    /// Lines of one batch, side by side in one buffer.
    final class LineBatch: @unchecked Sendable {
        let bytes: UnsafeMutableRawBufferPointer
        var used = 0
        /// Per entry: line start and end, key start and end, size, content start (-1 for none), hash type start
        /// and end, hash value start and end (relative to the line; -1 for none).
        var records: [Int] = []
        static let fields = 10

        init(capacity: Int) { bytes = .allocate(byteCount: capacity, alignment: 16) }
        deinit { bytes.deallocate() }

        var count: Int { records.count / Self.fields }
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
                                        entry.size, entry.contentStart ?? -1,
                                        entry.hashBytes?.type.lowerBound ?? -1, entry.hashBytes?.type.upperBound ?? -1,
                                        entry.hashBytes?.value.lowerBound ?? -1, entry.hashBytes?.value.upperBound ?? -1])
        }

        func entry(_ i: Int) -> ManifestStream.RawEntry {
            let r = i * Self.fields
            let base = UnsafeRawPointer(bytes.baseAddress!)
            let contentStart = records[r + 5]
            return ManifestStream.RawEntry(
                line: UnsafeRawBufferPointer(start: base + records[r], count: records[r + 1] - records[r]),
                key: UnsafeRawBufferPointer(start: base + records[r + 2], count: records[r + 3] - records[r + 2]),
                size: records[r + 4], contentStart: contentStart < 0 ? nil : contentStart,
                hashBytes: records[r + 6] < 0 ? nil : (records[r + 6]..<records[r + 7], records[r + 8]..<records[r + 9]))
        }
    }

    /// Starts reading `stream` (file entries as lines, or as values); with `requireCanonical`, the first sign that
    /// the file is not in the canonical layout ends it with `NotInCanonicalLayout`.
    init(_ stream: ManifestStream, topHash: String, lines wantLines: Bool, requireCanonical: Bool) {
        let shared = UnsafeSendable(stream)
        let check: @Sendable () throws -> Void = {
            if requireCanonical && !shared.value.canonicalLayout { throw NotInCanonicalLayout(topHash: topHash) }
        }
        if wantLines {
            entryBatches = nil
            lineBatches = Prefetcher { put in
                let stream = shared.value
                var batch = LineBatch(capacity: Self.bytesPerBatch)
                while let entry = try stream.nextRaw() {
                    try check()
                    let needed = entry.line.count + entry.key.count
                    if !batch.fits(needed) {
                        if !batch.records.isEmpty {
                            guard put(batch) else { return }
                        }
                        batch = LineBatch(capacity: max(Self.bytesPerBatch, needed))
                    }
                    batch.add(entry)
                }
                try check()
                if !batch.records.isEmpty { _ = put(batch) }
            }
        } else {
            lineBatches = nil
            entryBatches = Prefetcher { put in
                let stream = shared.value
                var batch: [ManifestEntry] = []
                batch.reserveCapacity(Self.entriesPerBatch)
                while let entry = try stream.nextEntry() {
                    try check()
                    batch.append(entry)
                    if batch.count == Self.entriesPerBatch {
                        guard put(batch) else { return }
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                try check()
                if !batch.isEmpty { _ = put(batch) }
            }
        }
    }

    func nextEntry() throws -> ManifestEntry? {
        while index == entries.count {
            guard let batch = try entryBatches!.next() else { return nil }
            entries = batch
            index = 0
        }
        index += 1
        return entries[index - 1]
    }

    func nextLine() throws -> ManifestStream.RawEntry? {
        while lines == nil || index == lines!.count {
            guard let batch = try lineBatches!.next() else { return nil }
            lines = batch
            index = 0
        }
        index += 1
        return lines!.entry(index - 1)
    }

    func cancel() {
        lineBatches?.cancel()
        entryBatches?.cancel()
    }
}
