// File entries in bounded memory: each entry is kept as its manifest line in a byte arena, indexed by a small
// record, sorted into tree order; past a memory budget the sorted lines go to a scratch file as one run, and the
// runs are merged (a k-way merge) when the manifest is written. Millions of entries cost their lines' bytes and
// 32 bytes each, not Strings and JSON values.
import QuiltSupport
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// File entries waiting to be written, in any order going in and in tree order coming out.
///
/// Entries go in with `add`; `finish` sorts what is held; then `forEachSorted` (or a `SortedLines` iterator) gives
/// every entry's manifest line in tree order, as often as needed, with duplicates and file/directory collisions
/// reported (within one run when it is sorted, across runs as the merge meets them). With `.lastWins`, an entry
/// whose key was added before replaces the earlier one instead (quilt3's `set` of a key already set).
public final class EntrySpool {
    /// What two entries with the same logical key mean.
    public enum Duplicates: Sendable {
        /// An error (`duplicateLogicalKey`): an entry stream may not name a key twice.
        case refuse
        /// The one added last is kept: a build's `--set` replaces a file of its directory.
        case lastWins
    }

    /// Bytes of lines and index held in memory before a sorted run is written to disk.
    public let memoryBudget: Int
    /// Where runs are written (as unnamed scratch files: nothing is left behind, even after a kill).
    public let temporaryDirectory: String
    public let maxRecordSize: Int
    public let duplicates: Duplicates

    /// The default budget: a million entries of a realistic data lake fit, ten million take a few runs.
    public static let defaultMemoryBudget = 512 << 20
    /// Smaller budgets are raised to this (a run must hold a few lines).
    public static let minimumMemoryBudget = 64 << 10

    /// Where the logical key starts in a line: after `{"logical_key": "`.
    static let keyOffset = 17
    /// Set in `Slot.keyLength` when the key is stored, unescaped, after the line (it needed escaping in it).
    static let separateKey: UInt32 = 1 << 31

    /// One entry's place in the arena and its sort prefix.
    struct Slot {
        /// The key's first 8 bytes, ranked for tree order, big-endian: most comparisons end here.
        var prefix: UInt64
        /// The next 8 (during a sort, the 8 after `prefix`'s).
        var next: UInt64
        /// Chunk index in the high 32 bits, offset in the low 32.
        var location: UInt64
        var lineLength: UInt32
        var keyLength: UInt32
    }

    private var chunks: [UnsafeMutableRawBufferPointer] = []
    private var currentChunk = -1
    private var used = 0
    private let chunkSize: Int
    private var slots: [Slot] = []
    private var runs: [ScratchFile] = []
    private var line: [UInt8] = []
    private var finished = false
    /// Entries added (with `.lastWins`, replaced ones included).
    public private(set) var count = 0
    /// Sorted runs written to disk so far.
    public var runCount: Int { runs.count }

    public init(memoryBudget: Int = EntrySpool.defaultMemoryBudget, temporaryDirectory: String,
                maxRecordSize: Int = ManifestWriter.defaultMaxRecordSize, duplicates: Duplicates = .refuse) {
        self.memoryBudget = max(memoryBudget, Self.minimumMemoryBudget)
        self.duplicates = duplicates
        self.temporaryDirectory = temporaryDirectory
        self.maxRecordSize = maxRecordSize
        chunkSize = min(16 << 20, max(16 << 10, self.memoryBudget / 16))
        line.reserveCapacity(4096)
    }

    deinit {
        for chunk in chunks { chunk.deallocate() }
    }

    /// Memory held: the arena's chunks and the index (with room for the sort's scratch space).
    private var memoryInUse: Int {
        chunks.reduce(0) { $0 + $1.count } + slots.capacity * MemoryLayout<Slot>.stride * 3 / 2
    }

    // MARK: Adding

    /// Adds a file entry; it must have its size. An entry without a hash is kept as a line whose hash is null (a
    /// push's files, hashed as they are uploaded): such a line must be completed before it reaches a writer,
    /// which refuses it. Its line is checked against the record-size limit now.
    public func add(_ entry: ManifestEntry) throws {
        precondition(!finished, "EntrySpool.add after finish")
        guard entry.size >= 0 else { throw ManifestError.missingHash(logicalKey: entry.logicalKey) }
        try ManifestWriter.checkFinite(entry.meta, subject: "entry \(quoted(entry.logicalKey))")
        line.removeAll(keepingCapacity: true)
        ManifestLine.appendEntry(entry, to: &line)
        if line.count > maxRecordSize || line.count >= Int(Self.separateKey) {
            throw ManifestError.recordTooLarge(subject: "entry with logical key \(quoted(entry.logicalKey))",
                                               size: line.count, limit: maxRecordSize)
        }
        var key = entry.logicalKey
        try key.withUTF8 { key in
            try line.withUnsafeBytes { line in
                // The key is read in place unless the line had to escape it.
                let key = UnsafeRawBufferPointer(key)
                let inPlace = line.count >= Self.keyOffset + key.count + 1
                    && (key.isEmpty || memcmp(line.baseAddress! + Self.keyOffset, key.baseAddress!, key.count) == 0)
                    && line[Self.keyOffset + key.count] == UInt8(ascii: "\"")
                try store(line: line, key: key, inPlace: inPlace)
            }
        }
    }

    /// Adds an entry-stream line, if it is an entry line plain enough to be turned into its manifest line
    /// straight from its bytes (`ManifestLine.appendNormalized`); false, adding nothing, for any other line.
    public func add(line input: UnsafeRawBufferPointer) throws -> Bool {
        try add(line: input) { _ in }
    }

    /// `add(line:)`, showing `seeKey` the entry's logical key (unescaped bytes) when the line was added.
    func add(line input: UnsafeRawBufferPointer, seeKey: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        precondition(!finished, "EntrySpool.add after finish")
        line.removeAll(keepingCapacity: true)
        guard let key = ManifestLine.appendNormalized(input, to: &line) else { return false }
        if line.count > maxRecordSize || line.count >= Int(Self.separateKey) { return false }
        try line.withUnsafeBytes { line in
            let keyBytes = UnsafeRawBufferPointer(rebasing: line[key])
            try seeKey(keyBytes)
            try store(line: line, key: keyBytes, inPlace: true)
        }
        return true
    }

    /// Stores a line whose logical key is `key` (unescaped bytes).
    private func store(line: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer, inPlace: Bool) throws {
        let needed = line.count + (inPlace ? 0 : key.count)
        if currentChunk < 0 || used + needed > chunks[currentChunk].count {
            try nextChunk(needed)
        }
        let base = chunks[currentChunk].baseAddress!
        base.advanced(by: used).copyMemory(from: line.baseAddress!, byteCount: line.count)
        if !inPlace, key.count > 0 {
            base.advanced(by: used + line.count).copyMemory(from: key.baseAddress!, byteCount: key.count)
        }
        slots.append(Slot(prefix: Self.sortPrefix(key), next: Self.sortPrefix(key, from: 8), location: UInt64(currentChunk) << 32 | UInt64(used),
                          lineLength: UInt32(line.count), keyLength: UInt32(key.count) | (inPlace ? 0 : Self.separateKey)))
        used += needed
        count += 1
    }

    /// Moves to a chunk with room for `needed` bytes: the next one held, a new one within the budget, or, past
    /// the budget, the first one again after the lines held have gone to disk as a sorted run.
    private func nextChunk(_ needed: Int) throws {
        var next = currentChunk + 1
        if next == chunks.count && !slots.isEmpty && memoryInUse + max(chunkSize, needed) > memoryBudget {
            try spill()
            next = 0
        }
        if next == chunks.count {
            chunks.append(.allocate(byteCount: max(chunkSize, needed), alignment: 16))
        } else if chunks[next].count < needed {
            chunks[next].deallocate()
            chunks[next] = .allocate(byteCount: max(chunkSize, needed), alignment: 16)
        }
        currentChunk = next
        used = 0
    }

    // MARK: Sorting

    /// A byte's rank in tree order, fitted in a byte: `/` lowest (equal to the padding of a short key, which a
    /// full comparison then settles), every other byte in its own order.
    @inline(__always)
    static func rankByte(_ byte: UInt8) -> UInt64 {
        byte == 0x2F ? 0 : (byte < 0x2F ? UInt64(byte) + 1 : UInt64(byte))
    }

    /// The 8 bytes of `key` from `offset` as ranks (zero past its end), so that when two keys agree before
    /// `offset`, a smaller prefix means an earlier key.
    @inline(__always)
    static func sortPrefix(_ key: UnsafeRawBufferPointer, from offset: Int = 0) -> UInt64 {
        guard offset < key.count else { return 0 }
        var prefix: UInt64 = 0
        let n = min(8, key.count - offset)
        for i in offset..<(offset + n) { prefix = prefix << 8 | rankByte(key[i]) }
        return prefix << (8 * UInt64(8 - n))
    }

    @inline(__always)
    static func key(_ slot: Slot, _ bases: UnsafeBufferPointer<UnsafeMutableRawPointer>) -> UnsafeBufferPointer<UInt8> {
        let start = bases[Int(slot.location >> 32)] + Int(slot.location & 0xFFFF_FFFF)
        let length = Int(slot.keyLength & ~separateKey)
        let offset = slot.keyLength & separateKey == 0 ? keyOffset : Int(slot.lineLength)
        return UnsafeBufferPointer(start: (start + offset).assumingMemoryBound(to: UInt8.self), count: length)
    }

    @inline(__always)
    static func line(_ slot: Slot, _ bases: UnsafeBufferPointer<UnsafeMutableRawPointer>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: bases[Int(slot.location >> 32)] + Int(slot.location & 0xFFFF_FFFF),
                               count: Int(slot.lineLength))
    }

    /// Sorts the slots held into tree order and checks neighbours.
    private func sortHeld() throws {
        let bases = chunks.map { $0.baseAddress! }
        try bases.withUnsafeBufferPointer { bases in
            try slots.withUnsafeMutableBufferPointer { slots in
                Self.sort(slots, depth: 0, nextHeld: true, bases: bases)
                guard slots.count > 1 else { return }
                for i in 1..<slots.count {
                    try Self.checkNeighbours(UnsafeRawBufferPointer(Self.key(slots[i - 1], bases)),
                                             UnsafeRawBufferPointer(Self.key(slots[i], bases)),
                                             duplicatesAllowed: duplicates == .lastWins)
                }
            }
            if duplicates == .lastWins { dropReplaced(bases) }
        }
    }

    /// Keeps, of sorted slots with equal keys, the one added last: within a run, slots are laid in the arena in the
    /// order they were added, so the greatest location is the latest.
    private func dropReplaced(_ bases: UnsafeBufferPointer<UnsafeMutableRawPointer>) {
        guard slots.count > 1 else { return }
        var kept = 0
        var i = 0
        while i < slots.count {
            var latest = slots[i]
            var j = i + 1
            while j < slots.count && UnsafeRawBufferPointer(Self.key(slots[j], bases)).hasSameBytes(as: UnsafeRawBufferPointer(Self.key(slots[i], bases))) {
                if slots[j].location > latest.location { latest = slots[j] }
                j += 1
            }
            slots[kept] = latest
            kept += 1
            i = j
        }
        slots.removeLast(slots.count - kept)
    }

    /// Sorts slots whose keys agree on their first `depth` bytes (and whose prefixes hold the next 8, and, with
    /// `nextHeld`, their `next` the 8 after): by prefix, then each group of equal prefixes by its next 8 bytes,
    /// and so on. Comparisons read only the slots, which lie side by side; a key is read from the arena only
    /// where 16 bytes did not tell it from its neighbours, and then once per 8 bytes, not once per comparison.
    static func sort(_ slots: UnsafeMutableBufferPointer<Slot>, depth: Int, nextHeld: Bool,
                     bases: UnsafeBufferPointer<UnsafeMutableRawPointer>) {
        var slots = slots
        slots.sort { $0.prefix < $1.prefix }
        var start = 0
        while start < slots.count {
            var end = start + 1
            while end < slots.count && slots[end].prefix == slots[start].prefix { end += 1 }
            if end - start > 1 {
                var group = UnsafeMutableBufferPointer(rebasing: slots[start..<end])
                if group.contains(where: { Int($0.keyLength & ~separateKey) > depth + 8 }) {
                    for i in group.indices {
                        group[i].prefix = nextHeld ? group[i].next
                            : sortPrefix(UnsafeRawBufferPointer(key(group[i], bases)), from: depth + 8)
                    }
                    sort(group, depth: depth + 8, nextHeld: false, bases: bases)
                } else {
                    // Every key ends here: equal, or differing only by a `/` against a shorter key's end.
                    group.sort { LogicalKey.precedes(key($0, bases), key($1, bases)) }
                }
            }
            start = end
        }
    }

    /// In tree order a key's descendants follow it directly (`a`, then `a/…`), so comparing neighbours finds both
    /// duplicates and files that are also directories.
    @inline(__always)
    public static func checkNeighbours(_ previous: UnsafeRawBufferPointer, _ current: UnsafeRawBufferPointer,
                                duplicatesAllowed: Bool = false) throws(ManifestError) {
        if current.count >= previous.count,
           previous.count == 0 || memcmp(previous.baseAddress!, current.baseAddress!, previous.count) == 0 {
            if current.count == previous.count {
                if duplicatesAllowed { return }
                throw .duplicateLogicalKey(String(decoding: current, as: UTF8.self))
            }
            if current[previous.count] == UInt8(ascii: "/") {
                throw .logicalKeyCollision(file: String(decoding: previous, as: UTF8.self),
                                           directory: String(decoding: current, as: UTF8.self))
            }
        }
    }

    /// Writes the lines held, sorted, as a run: per entry its line length and key field (two little-endian
    /// UInt32s), the line, and the key when it is stored apart.
    private func spill() throws {
        try sortHeld()
        let file = try ScratchFile(directory: temporaryDirectory)
        var buffer: [UInt8] = []
        buffer.reserveCapacity((1 << 20) + 4096)
        let bases = chunks.map { $0.baseAddress! }
        try bases.withUnsafeBufferPointer { bases in
            for slot in slots {
                withUnsafeBytes(of: slot.lineLength.littleEndian) { buffer.append(contentsOf: $0) }
                withUnsafeBytes(of: slot.keyLength.littleEndian) { buffer.append(contentsOf: $0) }
                buffer.append(contentsOf: Self.line(slot, bases))
                if slot.keyLength & Self.separateKey != 0 { buffer.append(contentsOf: Self.key(slot, bases)) }
                if buffer.count >= 1 << 20 {
                    try buffer.withUnsafeBytes { try file.append($0) }
                    buffer.removeAll(keepingCapacity: true)
                }
            }
        }
        try buffer.withUnsafeBytes { try file.append($0) }
        runs.append(file)
        slots.removeAll(keepingCapacity: true)
        currentChunk = -1
        used = 0
    }

    // MARK: Reading back

    /// Ends adding: sorts what is held in memory (runs on disk are sorted already) and checks it.
    public func finish() throws {
        guard !finished else { return }
        finished = true
        try sortHeld()
    }

    /// Every entry's line (manifest form, no newline) and logical key (unescaped), in tree order; both are valid
    /// only during the call. Duplicates and collisions across runs throw when the merge meets them.
    public func forEachSorted(_ body: (_ line: UnsafeRawBufferPointer, _ key: UnsafeRawBufferPointer) throws -> Void) throws {
        var lines = try sortedLines()
        while let (line, key) = try lines.next() { try body(line, key) }
    }

    /// An iterator over the sorted lines (for readers that pull, such as a merge with another manifest).
    public func sortedLines() throws -> SortedLines {
        try finish()
        return SortedLines(spool: self)
    }

    /// The merge of the runs on disk and the one in memory, in tree order.
    public struct SortedLines {
        private let spool: EntrySpool
        private var sources: [Source]
        /// Source indices ordered as a binary min-heap by current key.
        private var heap: [Int] = []
        /// The source whose record was handed out last; advanced on the next call.
        private var pending: Int?
        private var previousKey: [UInt8] = []
        private var started = false
        private let bases: [UnsafeMutableRawPointer]

        /// With no run on disk, the sorted slots held, read in place (no merge: they were sorted and checked).
        private let held: [Slot]?
        private var heldIndex = 0

        init(spool: EntrySpool) {
            self.spool = spool
            bases = spool.chunks.map { $0.baseAddress! }
            let perRun = min(1 << 20, max(64 << 10, spool.memoryBudget / 8 / max(1, spool.runs.count)))
            sources = spool.runs.map { Source(run: $0, bufferSize: perRun) }
            held = spool.runs.isEmpty ? spool.slots : nil
            if held == nil && !spool.slots.isEmpty { sources.append(Source(memory: spool.slots.count)) }
        }

        /// The next line and key, valid until the next call; nil at the end.
        public mutating func next() throws -> (line: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer)? {
            if let held {
                guard heldIndex < held.count else { return nil }
                let slot = held[heldIndex]
                heldIndex += 1
                return bases.withUnsafeBufferPointer { bases in
                    (EntrySpool.line(slot, bases), UnsafeRawBufferPointer(EntrySpool.key(slot, bases)))
                }
            }
            if !started {
                started = true
                for i in sources.indices where try advance(i) { heap.append(i) }
                for i in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
            } else if let source = pending {
                previousKey.removeAll(keepingCapacity: true)
                previousKey.append(contentsOf: sources[source].key)
                if try advance(source) {
                    siftDown(0)
                } else {
                    heap[0] = heap[heap.count - 1]
                    heap.removeLast()
                    if !heap.isEmpty { siftDown(0) }
                }
            }
            if spool.duplicates == .lastWins { try dropReplacedTop() }
            guard let top = heap.first else {
                pending = nil
                return nil
            }
            let current = sources[top]
            if pending != nil {
                try previousKey.withUnsafeBytes { try EntrySpool.checkNeighbours($0, current.key) }
            }
            pending = top
            return (current.line, current.key)
        }

        private mutating func advance(_ i: Int) throws -> Bool {
            try bases.withUnsafeBufferPointer { bases in
                try spool.slots.withUnsafeBufferPointer { slots in try sources[i].advance(slots: slots, bases: bases) }
            }
        }

        /// Key order, and for equal keys the order of the runs (the earlier run first): so with `.lastWins` the
        /// record at the top is replaced when a child holds the same key, and the last run's record comes out.
        private func precedes(_ a: Int, _ b: Int) -> Bool {
            let x = sources[a], y = sources[b]
            if x.prefix != y.prefix { return x.prefix < y.prefix }
            let l = x.key.assumingMemoryBound(to: UInt8.self), r = y.key.assumingMemoryBound(to: UInt8.self)
            if LogicalKey.precedes(l, r) { return true }
            if LogicalKey.precedes(r, l) { return false }
            return a < b
        }

        /// Passes over the records at the top of the heap that a later run replaces (each run holds a key once, so
        /// the next record with the top's key, if any, is one of its children).
        private mutating func dropReplacedTop() throws {
            while let top = heap.first {
                let replaced = [1, 2].contains { child in
                    child < heap.count && sources[heap[child]].key.hasSameBytes(as: sources[top].key)
                }
                guard replaced else { return }
                if try advance(top) {
                    siftDown(0)
                } else {
                    heap[0] = heap[heap.count - 1]
                    heap.removeLast()
                    if !heap.isEmpty { siftDown(0) }
                }
            }
        }

        private mutating func siftDown(_ start: Int) {
            var i = start
            while true {
                let left = 2 * i + 1, right = left + 1
                var smallest = i
                if left < heap.count && precedes(heap[left], heap[smallest]) { smallest = left }
                if right < heap.count && precedes(heap[right], heap[smallest]) { smallest = right }
                if smallest == i { return }
                heap.swapAt(i, smallest)
                i = smallest
            }
        }
    }

    /// One sorted run being read: from a scratch file through a buffer, or the slots held in memory.
    final class Source {
        private let run: ScratchFile?
        private var buffer: UnsafeMutableRawBufferPointer
        private var start = 0, end = 0, fileOffset = 0
        private var index = -1
        private let memoryCount: Int
        private(set) var line = UnsafeRawBufferPointer(start: nil, count: 0)
        private(set) var key = UnsafeRawBufferPointer(start: nil, count: 0)
        private(set) var prefix: UInt64 = 0

        init(run: ScratchFile, bufferSize: Int) {
            self.run = run
            buffer = .allocate(byteCount: bufferSize, alignment: 16)
            memoryCount = 0
        }

        init(memory count: Int) {
            run = nil
            buffer = .allocate(byteCount: 0, alignment: 16)
            memoryCount = count
        }

        deinit { buffer.deallocate() }

        /// Moves to the next record; false at the end of the run.
        func advance(slots: UnsafeBufferPointer<Slot>, bases: UnsafeBufferPointer<UnsafeMutableRawPointer>) throws -> Bool {
            guard let run else {
                index += 1
                guard index < memoryCount else { return false }
                line = EntrySpool.line(slots[index], bases)
                key = UnsafeRawBufferPointer(EntrySpool.key(slots[index], bases))
                prefix = EntrySpool.sortPrefix(key)  // the sort left deeper prefixes in the slots
                return true
            }
            guard try fill(8, from: run) else { return false }
            let base = UnsafeRawPointer(buffer.baseAddress!) + start
            let lineLength = Int(UInt32(littleEndian: base.loadUnaligned(as: UInt32.self)))
            let keyField = UInt32(littleEndian: (base + 4).loadUnaligned(as: UInt32.self))
            let keyLength = Int(keyField & ~EntrySpool.separateKey)
            let separate = keyField & EntrySpool.separateKey != 0
            let total = 8 + lineLength + (separate ? keyLength : 0)
            guard try fill(total, from: run) else {
                throw FileSystemError.cannotRead(path: run.directory, reason: "a sorted run ended in the middle of a record")
            }
            let record = UnsafeRawPointer(buffer.baseAddress!) + start
            line = UnsafeRawBufferPointer(start: record + 8, count: lineLength)
            key = UnsafeRawBufferPointer(start: record + 8 + (separate ? lineLength : EntrySpool.keyOffset), count: keyLength)
            prefix = EntrySpool.sortPrefix(key)
            start += total
            return true
        }

        /// Makes `count` bytes from `start` available in the buffer (moving what is left to its front and
        /// reading more, growing it for a record bigger than the buffer); false if the run has ended cleanly.
        private func fill(_ count: Int, from run: ScratchFile) throws -> Bool {
            if end - start >= count { return true }
            let left = end - start
            if left > 0 && start > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: left) }
            start = 0
            end = left
            if buffer.count < count {
                let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
                if left > 0 { bigger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: left) }
                buffer.deallocate()
                buffer = bigger
            }
            while end < count {
                let n = try run.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]), at: fileOffset)
                if n == 0 { break }
                end += n
                fileOffset += n
            }
            if end - start >= count { return true }
            if end - start == 0 { return false }
            throw FileSystemError.cannotRead(path: run.directory, reason: "a sorted run ended in the middle of a record")
        }
    }
}
