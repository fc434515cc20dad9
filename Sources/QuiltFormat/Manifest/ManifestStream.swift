// A stored manifest's bytes read line by line, in file order, without holding them: the streaming half of every
// reader of stored manifests (QuiltRegistry's StoredManifest drives it). The header and the directory lines that
// lead the file are read at once; each file entry is checked against the one before it as it comes (tree order,
// duplicates, a file where a directory is) and fed to the top hash, so at the end the reader can tell whether
// the manifest is what its name says.
import QuiltSupport

/// A manifest read in file order: `header` and the leading `directoryMeta` at once, then `next()`/`nextRaw()`
/// for each file entry.
///
/// Every manifest quilt3, quilt-rs and this suite write has the canonical layout: the header, the directory
/// lines, then the file entries in tree order. `canonicalLayout` turns false when the file is found not to be
/// (an entry out of tree order, a directory line after an entry); `topHash` is then nil, and such a manifest must
/// be sorted (in a spool) to be hashed and read in tree order.
public final class ManifestStream {
    public let header: JSONObject
    private let lines: LineReader
    /// The first file entry line, read while looking for the end of the leading directory lines.
    private var pending: UnsafeRawBufferPointer?
    private var previousKey: [UInt8] = []
    private var hasPrevious = false
    private var keyScratch: [UInt8] = []
    private let hasher: TopHasher?
    private var missingHash: String?
    private var ended = false
    private var directories = DirectoryMetaList()
    /// Directory-metadata lines as loading keeps them (a repeated key: first position, last value). Complete at
    /// once for a manifest in the canonical layout; else only once the end is reached.
    public var directoryMeta: [(key: String, meta: JSONValue)] { directories.list }
    /// False once a file entry came before its predecessor in tree order, or a directory line after an entry.
    public private(set) var canonicalLayout = true
    /// File entries read so far, and their bytes (a sum that does not fit 64 bits is refused).
    public private(set) var fileCount = 0
    public private(set) var totalSize = 0
    /// After the end: the top hash of the manifest as read (nil unless `canonicalLayout` held throughout and
    /// every entry had a hash).
    public private(set) var topHash: String?

    /// Reads the header and the leading directory lines from `read` (see `LineReader`); with `computeTopHash`,
    /// entries are hashed as they go; a line longer than `maxLineLength` is refused.
    public init(computeTopHash: Bool = true, maxLineLength: Int = .max,
                read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) throws {
        lines = LineReader(maxLineLength: maxLineLength, read: read)
        guard let first = try lines.next() else { throw ManifestError.empty }
        header = try ManifestLine.parseHeader(first)
        hasher = computeTopHash ? TopHasher(header: header) : nil
        while let line = try lines.next() {
            if let directory = try Self.directoryLine(line, lineNumber: lines.lineNumber) {
                directories.add(directory.key, directory.meta)
                continue
            }
            pending = line
            break
        }
        if pending == nil { finishHash() }
    }

    /// The line's directory key and meta, or nil for a file entry line. Entry lines in the writer's form are
    /// told apart by their shape without being parsed.
    private static func directoryLine(_ line: UnsafeRawBufferPointer, lineNumber: Int) throws -> (key: String, meta: JSONValue)? {
        if WriterFormLine(line) != nil { return nil }
        guard case .directory(let key, let meta) = try ManifestLine.parse(line, lineNumber: lineNumber, rules: .manifest) else {
            return nil
        }
        return (key, meta)
    }

    private func nextLine() throws -> UnsafeRawBufferPointer? {
        if let line = pending {
            pending = nil
            return line
        }
        return try lines.next()
    }

    /// A file entry line as stored, and what is known of it without parsing it into values.
    public struct RawEntry {
        /// The line, without its newline.
        public var line: UnsafeRawBufferPointer
        /// The logical key's bytes (unescaped).
        public var key: UnsafeRawBufferPointer
        public var size: Int
        /// For a line in the writer's own form, where `], "size": …` starts: two such lines with equal bytes
        /// from there on have equal size, hash and meta.
        public var contentStart: Int?
        /// For a line in the writer's form whose hash strings have no escapes, where the bytes of its hash's type
        /// and value lie (without quotes): `ManifestLine.hash(of:)` reads them without looking at the line again.
        public var hashBytes: (type: Range<Int>, value: Range<Int>)?

        public init(line: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer, size: Int, contentStart: Int?,
                    hashBytes: (type: Range<Int>, value: Range<Int>)? = nil) {
            self.line = line
            self.key = key
            self.size = size
            self.contentStart = contentStart
            self.hashBytes = hashBytes
        }

        /// A line whose key is known (a spool's): its size and content start read from its shape, or from the
        /// line parsed when it is not in the writer's form.
        public init(line: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer) throws(ManifestError) {
            var size = 0
            var contentStart: Int?
            if let shape = WriterFormLine(line) {
                size = LineScanner(bytes: line).integer(shape.size)
                contentStart = shape.contentStart
            } else if case .entry(let entry) = try ManifestLine.parse(line, lineNumber: 0, rules: .entryStream) {
                size = entry.size
            }
            self.init(line: line, key: key, size: size, contentStart: contentStart)
        }
    }

    /// The next file entry as its line, in file order (directory lines are collected); nil at the end. A line in
    /// the writer's form (every line quilt3 and this suite write) is checked and hashed without being parsed into
    /// values; any other is parsed. Valid until the next call.
    public func nextRaw() throws -> RawEntry? {
        while !ended {
            guard let line = try nextLine() else {
                finishHash()
                return nil
            }
            if let shape = WriterFormLine(line), !shape.key.escaped, shape.stringsAreUTF8(line),
               hasher != nil || JSONParser.isValid(UnsafeRawBufferPointer(rebasing: line[shape.meta])) {
                let key = UnsafeRawBufferPointer(rebasing: line[(shape.key.range.lowerBound + 1)..<(shape.key.range.upperBound - 1)])
                // (A meta that is not JSON fails the hash; the general path below words the error. Without
                // hashing, the meta was checked above all the same.)
                let size = LineScanner(bytes: line).integer(shape.size)
                if try account(key: key, size: size, line: line, shape: shape) {
                    return RawEntry(line: line, key: key, size: size, contentStart: shape.contentStart, hashBytes: shape.hashBytes)
                }
            }
            switch try ManifestLine.parse(line, lineNumber: lines.lineNumber, rules: .manifest) {
            case .entry(let entry):
                keyScratch.removeAll(keepingCapacity: true)
                keyScratch.append(contentsOf: entry.logicalKey.utf8)
                _ = try keyScratch.withUnsafeBytes { try account(key: $0, size: entry.size, line: line, entry: entry, shape: nil) }
                return keyScratch.withUnsafeBytes { RawEntry(line: line, key: $0, size: entry.size, contentStart: nil) }
            case .directory(let key, let meta):
                // After an entry: the file is not in the canonical layout.
                canonicalLayout = false
                directories.add(key, meta)
            case .header, .shardTrailer:
                continue
            }
        }
        return nil
    }

    /// The next file entry, parsed (directory lines are collected); nil at the end.
    public func nextEntry() throws -> ManifestEntry? {
        while !ended {
            guard let line = try nextLine() else {
                finishHash()
                return nil
            }
            switch try ManifestLine.parse(line, lineNumber: lines.lineNumber, rules: .manifest) {
            case .entry(let entry):
                var key = entry.logicalKey
                _ = try key.withUTF8 { try account(key: UnsafeRawBufferPointer($0), size: entry.size, line: line, entry: entry, shape: nil) }
                return entry
            case .directory(let key, let meta):
                canonicalLayout = false
                directories.add(key, meta)
            case .header, .shardTrailer:
                continue
            }
        }
        return nil
    }

    /// Checks a file entry against the one before (while the layout holds), counts it and hashes it. False, with
    /// nothing counted, when the line's hash could not be made from its bytes (the caller then parses it).
    private func account(key: UnsafeRawBufferPointer, size: Int, line: UnsafeRawBufferPointer, entry: ManifestEntry? = nil,
                         shape: WriterFormLine?) throws -> Bool {
        if let hasher, canonicalLayout {
            if let shape {
                // The writer's form: hashed in place, or parsed by the caller if that fails.
                guard hasher.add(line: line, shape: shape) else { return false }
            } else if entry?.hash == nil {
                if missingHash == nil { missingHash = entry?.logicalKey }
            } else {
                try hasher.add(line: line, parsed: entry)
            }
        }
        try checkOrder(key)
        let (sum, overflow) = totalSize.addingReportingOverflow(size)
        if overflow { throw ManifestError.sizeOverflow(logicalKey: String(decoding: key, as: UTF8.self)) }
        totalSize = sum
        fileCount += 1
        return true
    }

    /// Checks a file entry's key against the one before (while the layout holds) and keeps it.
    private func checkOrder(_ key: UnsafeRawBufferPointer) throws {
        if canonicalLayout && hasPrevious {
            try previousKey.withUnsafeBytes { previous in
                try EntrySpool.checkNeighbours(previous, key)
                if !LogicalKey.precedes(previous.assumingMemoryBound(to: UInt8.self), key.assumingMemoryBound(to: UInt8.self)) {
                    canonicalLayout = false
                }
            }
        }
        hasPrevious = true
        previousKey.removeAll(keepingCapacity: true)
        previousKey.append(contentsOf: key)
    }

    private func finishHash() {
        ended = true
        guard let hasher, canonicalLayout, missingHash == nil else { return }
        topHash = hasher.finish()
    }

    /// After the end, the first file entry without a hash, if any (such a manifest has no top hash).
    public var entryWithoutHash: String? { missingHash }
}

/// Directory-metadata lines as loading keeps them: a repeated key keeps its first position and its last value.
public struct DirectoryMetaList: Sendable {
    public private(set) var list: [(key: String, meta: JSONValue)] = []
    private var positions: [ExactString: Int] = [:]

    public init() {}

    public mutating func add(_ key: String, _ meta: JSONValue) {
        if let index = positions[ExactString(key)] {
            list[index].meta = meta
        } else {
            positions[ExactString(key)] = list.count
            list.append((key, meta))
        }
    }
}
