// A stored manifest read line by line, in file order, without holding it: what show, diff, verify, install and
// cat-manifest use, so a revision of ten million entries costs a buffer, not gigabytes. The top hash is computed
// on the way, and the order checked, so a reader can tell at the end whether the manifest is what its name says.
import QuiltSupport
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Splits bytes pulled from a source into lines, holding one buffer (grown only for a line longer than it).
public final class LineReader {
    private let read: (UnsafeMutableRawBufferPointer) throws -> Int
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0, end = 0
    private var atEnd = false
    /// Lines handed out so far (the number of the last one).
    public private(set) var lineNumber = 0

    /// `read` fills the buffer it is given and returns how many bytes it put there, 0 at the end.
    public init(bufferSize: Int = 1 << 20, read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) {
        self.read = read
        buffer = .allocate(byteCount: bufferSize, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// The next line without its newline, valid until the next call; nil at the end. A last line without a
    /// newline counts.
    public func next() throws -> UnsafeRawBufferPointer? {
        var searched = start
        while true {
            if searched < end, let found = memchr(buffer.baseAddress! + searched, 0x0A, end - searched) {
                let newline = UnsafeRawPointer(found) - UnsafeRawPointer(buffer.baseAddress!)
                let line = UnsafeRawBufferPointer(rebasing: buffer[start..<newline])
                start = newline + 1
                lineNumber += 1
                return line
            }
            searched = end
            if atEnd {
                guard start < end else { return nil }
                let line = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
                start = end
                lineNumber += 1
                return line
            }
            // Move the partial line to the front (growing the buffer if it fills it) and read more.
            let left = end - start
            if start > 0 {
                if left > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: left) }
                searched -= start
                start = 0
                end = left
            }
            if end == buffer.count {
                let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 16)
                bigger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: end)
                buffer.deallocate()
                buffer = bigger
            }
            let n = try read(UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
            if n == 0 { atEnd = true } else { end += n }
        }
    }
}

/// A manifest read in file order: `header` at once, then `next()` for each directory and file entry.
///
/// While reading it checks that file entries come in tree order without duplicates or file/directory
/// collisions (a collision or duplicate between neighbours throws, as loading would), and computes the top hash
/// of what it has read. At the end, `topHash` is the manifest's top hash when `inTreeOrder` held throughout; a
/// manifest out of tree order (none written by quilt3, quilt-rs or this suite is) must be hashed after a sort.
public final class ManifestStream {
    public let header: JSONObject
    private let lines: LineReader
    private var previousKey: [UInt8] = []
    private var hasPrevious = false
    private var keyScratch: [UInt8] = []
    private let hasher: SHA256Hasher?
    private var canonical: [UInt8] = []
    private var missingHash: String?
    private var ended = false
    /// False once a file entry came before its predecessor in tree order.
    public private(set) var inTreeOrder = true
    /// File entries read so far, and their bytes.
    public private(set) var fileCount = 0
    public private(set) var totalSize = 0
    /// After the end: the top hash of the manifest as read (meaningful only when `inTreeOrder`).
    public private(set) var topHash: String?

    /// Reads the header line from `read` (see `LineReader`); with `computeTopHash`, entries are hashed as they go.
    public init(computeTopHash: Bool = true, read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) throws {
        lines = LineReader(read: read)
        guard let first = try lines.next() else { throw ManifestError.empty }
        header = try ManifestReader.parseHeader(first)
        hasher = computeTopHash ? SHA256Hasher() : nil
        if hasher != nil {
            canonical.reserveCapacity(ManifestWriter.blockSize + 8192)
            JSONWriter.writeCanonicalForm(.object(header), to: &canonical)
        }
    }

    /// The next directory or file entry in file order; nil at the end (then `topHash` is set).
    public func next() throws -> EntryStream.Item? {
        guard !ended else { return nil }
        guard let line = try lines.next() else {
            finishHash()
            return nil
        }
        let item = try ManifestReader.parseLine(line, lineNumber: lines.lineNumber)
        if case .entry(let entry) = item { try account(entry, line: line) }
        return item
    }

    /// A file entry line as stored, and what is known of it without parsing it into values.
    public struct RawEntry {
        /// The line, without its newline.
        public var line: UnsafeRawBufferPointer
        /// The logical key's bytes (unescaped).
        public var key: UnsafeRawBufferPointer
        /// For a line in the writer's own form, where `], "size": …` starts: two such lines with equal bytes
        /// from there on have equal size, hash and meta.
        public var contentStart: Int?
    }

    /// The next file entry as its line, directory lines skipped, in file order; nil at the end. A line in the
    /// writer's form (every line quilt3 and this suite write) is checked and hashed without being parsed into
    /// values; any other is parsed as `next()` parses it. Valid until the next call.
    public func nextRaw() throws -> RawEntry? {
        while !ended {
            guard let line = try lines.next() else {
                finishHash()
                return nil
            }
            if let shape = WriterFormLine(line), !shape.key.escaped, shape.stringsAreUTF8(line) {
                let key = UnsafeRawBufferPointer(rebasing: line[(shape.key.range.lowerBound + 1)..<(shape.key.range.upperBound - 1)])
                let mark = canonical.count
                if hasher == nil || !inTreeOrder || shape.appendCanonical(line, to: &canonical) {
                    // (A meta that is not JSON fails `appendCanonical`; the general path words the error. Without
                    // hashing, it is parsed here to be checked all the same.)
                    if hasher != nil || JSONParser.isValid(UnsafeRawBufferPointer(rebasing: line[shape.meta])) {
                        try checkOrder(key)
                        fileCount += 1
                        totalSize += LineScanner(bytes: line).integer(shape.size)
                        if !inTreeOrder { canonical.removeSubrange(mark...) }
                        flushCanonical()
                        return RawEntry(line: line, key: key, contentStart: shape.contentStart)
                    }
                }
            }
            switch try ManifestReader.parseLine(line, lineNumber: lines.lineNumber) {
            case .entry(let entry):
                try account(entry, line: line)
                keyScratch.removeAll(keepingCapacity: true)
                keyScratch.append(contentsOf: entry.logicalKey.utf8)
                return keyScratch.withUnsafeBytes { RawEntry(line: line, key: $0, contentStart: nil) }
            case .directory, .header:
                continue
            }
        }
        return nil
    }

    /// The next file entry (directory lines skipped); nil at the end.
    public func nextEntry() throws -> ManifestEntry? {
        while let item = try next() {
            if case .entry(let entry) = item { return entry }
        }
        return nil
    }

    /// Checks a file entry's key against the one before (while the file is in tree order) and keeps it.
    private func checkOrder(_ key: UnsafeRawBufferPointer) throws {
        if inTreeOrder && hasPrevious {
            try previousKey.withUnsafeBytes { previous in
                try EntrySpool.checkNeighbours(previous, key)
                if !LogicalKey.precedes(previous.assumingMemoryBound(to: UInt8.self), key.assumingMemoryBound(to: UInt8.self)) {
                    inTreeOrder = false
                }
            }
        }
        hasPrevious = true
        previousKey.removeAll(keepingCapacity: true)
        previousKey.append(contentsOf: key)
    }

    private func flushCanonical() {
        guard let hasher, canonical.count >= ManifestWriter.blockSize else { return }
        hasher.update(canonical)
        canonical.removeAll(keepingCapacity: true)
    }

    private func account(_ entry: ManifestEntry, line: UnsafeRawBufferPointer) throws {
        fileCount += 1
        totalSize += entry.size
        var key = entry.logicalKey
        try key.withUTF8 { try checkOrder(UnsafeRawBufferPointer($0)) }
        guard hasher != nil, inTreeOrder else { return }
        guard let hash = entry.hash else {
            if missingHash == nil { missingHash = entry.logicalKey }
            return
        }
        // A line in the writer's own form gives its canonical form without a String being made.
        if !ManifestWriter.appendCanonicalEntryInPlace(line, to: &canonical) {
            ManifestWriter.appendCanonicalEntry(entry, hash: hash, to: &canonical)
        }
        flushCanonical()
    }

    private func finishHash() {
        ended = true
        guard let hasher, inTreeOrder, missingHash == nil else { return }
        hasher.update(canonical)
        canonical = []
        topHash = Hex.encode(hasher.finalize())
    }

    /// After the end, the first file entry without a hash, if any (such a manifest has no top hash).
    public var entryWithoutHash: String? { missingHash }
}
