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
    private var previousKey: String?
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

    /// The next file entry (directory lines skipped); nil at the end.
    public func nextEntry() throws -> ManifestEntry? {
        while let item = try next() {
            if case .entry(let entry) = item { return entry }
        }
        return nil
    }

    private func account(_ entry: ManifestEntry, line: UnsafeRawBufferPointer) throws {
        fileCount += 1
        totalSize += entry.size
        if inTreeOrder, let previous = previousKey {
            var a = previous, b = entry.logicalKey
            try a.withUTF8 { a in
                try b.withUTF8 { b in
                    try EntrySpool.checkNeighbours(UnsafeRawBufferPointer(a), UnsafeRawBufferPointer(b))
                    if !LogicalKey.precedes(a, b) { inTreeOrder = false }
                }
            }
        }
        previousKey = entry.logicalKey
        guard let hasher, inTreeOrder else { return }
        guard let hash = entry.hash else {
            if missingHash == nil { missingHash = entry.logicalKey }
            return
        }
        // A line in the writer's own form gives its canonical form without a String being made.
        if !ManifestWriter.appendCanonicalEntryInPlace(line, to: &canonical) {
            ManifestWriter.appendCanonicalEntry(entry, hash: hash, to: &canonical)
        }
        if canonical.count >= ManifestWriter.blockSize {
            hasher.update(canonical)
            canonical.removeAll(keepingCapacity: true)
        }
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
