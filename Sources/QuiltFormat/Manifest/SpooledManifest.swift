// Manifests too big to hold as values: the entries wait in an EntrySpool as lines, and the writer streams lines
// that arrive in tree order to the sink in large blocks while a second core derives each line's canonical form
// and computes the top hash. Nothing is held but the spool and a few blocks in flight.
import QuiltSupport
import Dispatch
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A manifest whose file entries wait in a spool: what `quilt-write-manifest` and `quilt build` of a directory
/// make, in memory bounded by the spool's budget however many entries there are.
public struct SpooledManifest {
    /// The header line (the package `_meta`), in its own key order.
    public var header: JSONObject
    /// Directory metadata lines: `"dir/"` → that directory's user_meta (few; held as values).
    public var directoryMeta: [(key: String, meta: JSONValue)]
    /// The file entries.
    public let entries: EntrySpool

    public init(header: JSONObject = JSONObject([("version", .string("v0"))]),
                directoryMeta: [(key: String, meta: JSONValue)] = [], entries: EntrySpool) {
        self.header = header
        self.directoryMeta = directoryMeta
        self.entries = entries
    }

    /// The package `user_meta`: nil when absent (which hashes differently from `null`).
    public var userMeta: JSONValue? {
        get { header["user_meta"] }
        set { header["user_meta"] = newValue }
    }

    /// Sets `message` (null when nil), keeping its position if present.
    public mutating func setMessage(_ message: String?) {
        header["message"] = message.map { .string($0) } ?? .null
    }

    /// Every file entry, parsed back from its line, in tree order (for the few readers that need values, such
    /// as a workflow's entries schema).
    public func forEachEntry(_ body: (ManifestEntry) throws -> Void) throws {
        try entries.forEachSorted { line, _ in
            guard case .entry(let entry) = try EntryStream.parseLine(line, lineNumber: 0) else { return }
            try body(entry)
        }
    }
}

extension ManifestWriter {
    /// Writes a spooled manifest to `sink` (its entries in tree order); returns the top hash.
    @discardableResult
    public func write(_ manifest: SpooledManifest, to sink: (UnsafeRawBufferPointer) throws -> Void) throws -> String {
        try write(header: manifest.header, directories: manifest.directoryMeta, lines: { emit in
            try manifest.forEachLine { line, _ in try emit(line) }
        }, to: sink)
    }

    /// The top hash of a spooled manifest, writing nothing.
    public func topHash(of manifest: SpooledManifest) throws -> String {
        try write(manifest) { _ in }
    }

    /// Writes a manifest whose file lines `lines` hands over in tree order (each a line as `EntryStream` writes
    /// it, without its newline): the header, the directory lines, then the file lines, in blocks; returns the
    /// top hash, computed on another core from the lines themselves.
    @discardableResult
    public func write(header: JSONObject, directories: [(key: String, meta: JSONValue)],
                      lines: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void,
                      to sink: (UnsafeRawBufferPointer) throws -> Void) throws -> String {
        var header = header
        header.removeValue(forKey: "top_hash")
        try Self.checkFinite(.object(header), subject: "package metadata")
        var canonicalHeader: [UInt8] = []
        JSONWriter.writeCanonicalForm(.object(header), to: &canonicalHeader)
        let hashing = TopHashPipeline(canonicalHeader: canonicalHeader)
        defer { hashing.wait() }

        var output: [UInt8] = []
        output.reserveCapacity(Self.blockSize + 4096)
        JSONWriter.writeManifestForm(.object(header), to: &output)
        try checkRecord(output.count, subject: "package metadata")
        output.append(0x0A)
        let sortedDirectories = directories
            .filter { $0.meta.isTruthy }
            .sorted { LogicalKey.precedes($0.key, $1.key) }
        for directory in sortedDirectories {
            try Self.checkFinite(directory.meta, subject: "directory \(quoted(directory.key))")
            let start = output.count
            EntryStream.appendDirectoryLine(key: directory.key, meta: directory.meta, to: &output)
            try checkRecord(output.count - start, subject: "entry with logical key \(quoted(directory.key))")
            output.append(0x0A)
        }
        // Header and directory lines are not hashed as entries: they go out on their own.
        try output.withUnsafeBytes { try sink($0) }
        output.removeAll(keepingCapacity: true)

        try withoutActuallyEscaping(sink) { sink in
            try lines { line in
                if line.count > maxRecordSize {
                    try checkRecord(line.count, subject: "entry with logical key \(quoted(EntrySpool.logicalKey(ofLine: line)))")
                }
                output.append(contentsOf: line)
                output.append(0x0A)
                if output.count >= Self.blockSize {
                    try output.withUnsafeBytes { try sink($0) }
                    hashing.submit(lines: output)
                    output = []
                    output.reserveCapacity(Self.blockSize + 4096)
                }
            }
        }
        try output.withUnsafeBytes { try sink($0) }
        hashing.submit(lines: output)
        return Hex.encode(try hashing.finish())
    }

    private func checkRecord(_ size: Int, subject: @autoclosure () -> String) throws(ManifestError) {
        if size > maxRecordSize { throw .recordTooLarge(subject: subject(), size: size, limit: maxRecordSize) }
    }

    /// Appends the canonical form of the file entry a manifest line describes. Lines in the form this writer
    /// writes are read in place (only a non-empty meta is parsed); anything else goes through the entry parser.
    static func appendCanonicalEntry(line: UnsafeRawBufferPointer, to out: inout [UInt8]) throws {
        if appendCanonicalEntryInPlace(line, to: &out) { return }
        guard case .entry(let entry) = try EntryStream.parseLine(line, lineNumber: 0), let hash = entry.hash else {
            throw ManifestError.missingHash(logicalKey: EntrySpool.logicalKey(ofLine: line))
        }
        appendCanonicalEntry(entry, hash: hash, to: &out)
    }

    /// The fast path of `appendCanonicalEntry(line:to:)`; false (with nothing appended) for any line not in the
    /// writer's own form.
    static func appendCanonicalEntryInPlace(_ line: UnsafeRawBufferPointer, to out: inout [UInt8]) -> Bool {
        guard let shape = WriterFormLine(line) else { return false }
        return shape.appendCanonical(line, to: &out)
    }
}

/// A file entry line in the form this suite and quilt3 write (`{"logical_key": …, "physical_keys": […], "size":
/// …, "hash": {…}, "meta": …}`, those separators, the hash's keys in either order), as ranges of its bytes. Made
/// without building a String or a value; the strings' UTF-8 and the meta's JSON are checked only on request.
public struct WriterFormLine {
    var key: LineScanner.Token
    var url: LineScanner.Token
    var size: Range<Int>
    var type: LineScanner.Token
    var value: LineScanner.Token
    var meta: Range<Int>
    /// Where `], "size": …` starts: everything from there on is what entries compare by (size, hash, meta).
    var contentStart: Int

    init?(_ line: UnsafeRawBufferPointer) {
        var scan = LineScanner(bytes: line)
        guard scan.literal(#"{"logical_key": "#), let key = scan.string(),
              scan.literal(#", "physical_keys": ["#), let url = scan.string() else { return nil }
        let contentStart = scan.position
        guard scan.literal(#"], "size": "#), let size = scan.digits(),
              scan.literal(#", "hash": {""#) else { return nil }
        if scan.literal(#"type": "#) {
            guard let t = scan.string(), scan.literal(#", "value": "#), let v = scan.string() else { return nil }
            (type, value) = (t, v)
        } else if scan.literal(#"value": "#) {
            guard let v = scan.string(), scan.literal(#", "type": "#), let t = scan.string() else { return nil }
            (type, value) = (t, v)
        } else {
            return nil
        }
        guard scan.literal(#"}, "meta": "#), line.count > scan.position, line[line.count - 1] == UInt8(ascii: "}") else {
            return nil
        }
        self.key = key
        self.url = url
        self.size = size
        self.meta = scan.position..<(line.count - 1)
        self.contentStart = contentStart
    }

    /// Where a line in the writer's form has its size, hash and meta (nil for another line).
    public static func contentStart(of line: UnsafeRawBufferPointer) -> Int? {
        WriterFormLine(line)?.contentStart
    }

    /// Whether every string is UTF-8 (what a line read from storage must be shown to be).
    func stringsAreUTF8(_ line: UnsafeRawBufferPointer) -> Bool {
        for token in [key, url, type, value] where token.nonASCII {
            let body = UnsafeRawBufferPointer(rebasing: line[(token.range.lowerBound + 1)..<(token.range.upperBound - 1)])
            if !UTF8Check.isValid(body) { return false }
        }
        return true
    }

    /// Appends the canonical form of the entry; false, with nothing appended, if the meta is not JSON.
    func appendCanonical(_ line: UnsafeRawBufferPointer, to out: inout [UInt8]) -> Bool {
        let scan = LineScanner(bytes: line)
        let mark = out.count
        out.append(contentsOf: #"{"hash":{"type":"#.utf8)
        guard scan.appendCanonical(type, to: &out) else { out.removeSubrange(mark...); return false }
        out.append(contentsOf: #","value":"#.utf8)
        guard scan.appendCanonical(value, to: &out) else { out.removeSubrange(mark...); return false }
        out.append(contentsOf: #"},"logical_key":"#.utf8)
        guard scan.appendCanonical(key, to: &out) else { out.removeSubrange(mark...); return false }
        out.append(contentsOf: #","meta":"#.utf8)
        let metaBytes = UnsafeRawBufferPointer(rebasing: line[meta])
        if metaBytes.count == 2 && metaBytes[0] == UInt8(ascii: "{") && metaBytes[1] == UInt8(ascii: "}") {
            out.append(contentsOf: metaBytes)
        } else {
            guard let value = try? JSONParser.parse(metaBytes) else { out.removeSubrange(mark...); return false }
            JSONWriter.writeCanonicalForm(value, to: &out)
        }
        out.append(contentsOf: #","size":"#.utf8)
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: line[size]))
        out.append(UInt8(ascii: "}"))
        return true
    }
}

/// Reads the fixed shape of a manifest line: literals, strings (as ranges, noting whether they are plain ASCII
/// without escapes), digits.
struct LineScanner {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    struct Token {
        /// The string with its quotes.
        var range: Range<Int>
        /// No escapes and nothing outside printable ASCII: its bytes are its canonical form.
        var plain: Bool
        /// A backslash escape somewhere (else the bytes between the quotes are the string's own).
        var escaped: Bool
        /// A byte of 0x80 or more somewhere (UTF-8 to be checked when it comes from outside).
        var nonASCII: Bool
    }

    mutating func literal(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard position + count <= bytes.count, memcmp(bytes.baseAddress! + position, text.utf8Start, count) == 0 else {
            return false
        }
        position += count
        return true
    }

    /// A JSON string starting at the current position.
    mutating func string() -> Token? {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
        var i = position + 1
        var escaped = false
        var seen = ByteScan.Seen()
        while true {
            i = ByteScan.stringEnd(bytes, from: i, seen: &seen)
            guard i < bytes.count else { return nil }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { break }
            // A control character is no JSON; a backslash starts an escape (what follows is never the end).
            guard b == UInt8(ascii: "\\") else { return nil }
            escaped = true
            i += 2
        }
        let token = Token(range: position..<(i + 1), plain: !escaped && !seen.beyondPrintable, escaped: escaped,
                          nonASCII: seen.nonASCII)
        position = i + 1
        return token
    }

    /// A non-negative integer as JSON writes one, of at most 18 digits (so it fits an Int).
    mutating func digits() -> Range<Int>? {
        let start = position
        while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 { position += 1 }
        guard position > start, position - start <= 18, bytes[start] != 0x30 || position - start == 1 else { return nil }
        return start..<position
    }

    /// The value of digits from `digits()`.
    func integer(_ range: Range<Int>) -> Int {
        var value = 0
        for i in range { value = value * 10 + Int(bytes[i] - 0x30) }
        return value
    }

    /// The string's canonical form: its bytes when plain, else decoded and escaped to ASCII.
    func appendCanonical(_ token: Token, to out: inout [UInt8]) -> Bool {
        if token.plain {
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[token.range]))
            return true
        }
        var reader = JSONParser.Reader(bytes: UnsafeRawBufferPointer(rebasing: bytes[token.range]))
        guard let string = try? reader.parseString() else { return false }
        JSONWriter.writeString(string, asciiOnly: true, to: &out)
        return true
    }
}

/// The top hash computed on another core: blocks of file lines are handed over as they are written, and each
/// line's canonical form is fed to SHA-256. At most a few blocks wait, so memory stays flat.
final class TopHashPipeline: @unchecked Sendable {
    // `hasher`, `canonical` and `failure` are used on `queue` only; `slots` bounds the blocks in flight.
    private let queue = DispatchQueue(label: "quilt.top-hash")
    private let slots = DispatchSemaphore(value: 4)
    private let hasher = SHA256Hasher()
    private var canonical: [UInt8] = []
    private var failure: (any Error)?

    init(canonicalHeader: [UInt8]) {
        canonical.reserveCapacity(ManifestWriter.blockSize + 8192)
        canonical.append(contentsOf: canonicalHeader)
    }

    /// Hands over a block of file lines, each ending in a newline.
    func submit(lines block: [UInt8]) {
        guard !block.isEmpty else { return }
        slots.wait()
        queue.async { [self] in
            defer { slots.signal() }
            guard failure == nil else { return }
            do { try hash(block) } catch { failure = error }
        }
    }

    private func hash(_ block: [UInt8]) throws {
        try block.withUnsafeBytes { raw in
            var start = 0
            while start < raw.count {
                var end = raw.count
                if let found = memchr(raw.baseAddress! + start, 0x0A, raw.count - start) {
                    end = UnsafeRawPointer(found) - raw.baseAddress!
                }
                try ManifestWriter.appendCanonicalEntry(line: UnsafeRawBufferPointer(rebasing: raw[start..<end]), to: &canonical)
                if canonical.count >= ManifestWriter.blockSize {
                    hasher.update(canonical)
                    canonical.removeAll(keepingCapacity: true)
                }
                start = end + 1
            }
        }
    }

    /// Waits for the blocks handed over and returns the digest.
    func finish() throws -> [UInt8] {
        try queue.sync {
            if let failure { throw failure }
            hasher.update(canonical)
            canonical.removeAll()
            return hasher.finalize()
        }
    }

    /// Waits for the blocks handed over (after a failure, so none outlives the writer's call).
    func wait() { queue.sync {} }
}

extension EntrySpool {
    /// The logical key of an entry line, for messages.
    static func logicalKey(ofLine line: UnsafeRawBufferPointer) -> String {
        if case .entry(let entry)? = try? EntryStream.parseLine(line, lineNumber: 0) { return entry.logicalKey }
        if case .directory(let key, _)? = try? EntryStream.parseLine(line, lineNumber: 0) { return key }
        return String(decoding: line.prefix(80), as: UTF8.self)
    }
}
