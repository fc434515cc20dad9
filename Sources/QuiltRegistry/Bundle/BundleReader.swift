// Reading a bundle as a stream: header, manifest (its top hash checked), then each object, hashed as it is read and
// checked when its last byte arrives, so whoever consumes the bytes (verify, unbundle) cannot take bad data for good.
import QuiltSupport
import QuiltFormat
import QuiltArchive

/// Where a bundle is read from: a file, or a stream (standard input) the caller reads.
public enum BundleInput: Sendable {
    case path(String)
    case stream(@Sendable (UnsafeMutableRawBufferPointer) throws -> Int)
}

/// One object of a bundle, as the manifest describes it.
public struct BundleObject: Sendable {
    /// Its member name, `objects/<type>/<hex>`.
    public var member: String
    public var hash: ObjectHash
    public var size: Int
    /// The logical keys of the first few entries whose data it is (in the manifest's order), for messages and
    /// for where an upload puts it; and how many entries there are.
    public var keys: [String]
    public var entryCount: Int

    /// Keys kept per object: enough to name it in a message (which shows three, and `…` for more).
    static let keptKeys = 4
}

final class BundleReader {
    let header: BundleHeader
    /// The bundled manifest's header line (without `top_hash`), its directory-metadata lines, and its file entries
    /// in a spool (tree order, bounded memory): what the one build path writes when the bundle is unbundled.
    let manifestHeader: JSONObject
    let directories: [(key: String, meta: JSONValue)]
    let entries: EntrySpool
    /// Compressed bytes read so far.
    var compressedBytes: Int { gzip.compressedBytesRead }

    private let gzip: GzipReader
    private let tar: TarReader
    private var expected: [String: BundleObject] = [:]
    private var seen: Set<String> = []
    private var current: BundleObject?
    private var hasher: StreamingHasher?
    private var readSoFar = 0
    private var verified = true
    private var lastMember: String?

    /// A line of the bundled manifest longer than this is refused, whatever the bundle claims (a compressed
    /// stream can expand a few megabytes into gigabytes): the record limit, but not less than 16 MiB.
    static func maxManifestLine(recordLimit: Int) -> Int { max(recordLimit, 16 << 20) }

    /// Opens the bundle and reads its header and its manifest, as a stream: each entry's logical key is checked
    /// as install checks it (a bundle cannot name a path outside its destination), the sizes summed without
    /// overflow, and the entries kept in `spool`; the top hash is checked at the end of the member. Nothing
    /// is allocated from a size a header claims.
    init(_ input: BundleInput, spool: EntrySpool, topHash: (JSONObject, [(key: String, meta: JSONValue)], EntrySpool) throws -> String) throws {
        let source: (UnsafeMutableRawBufferPointer) throws -> Int
        switch input {
        case .path(let path):
            let file = try InputFile(path: path)
            var offset = 0
            source = { buffer in
                let n = try file.read(into: buffer, at: offset)
                offset += n
                return n
            }
        case .stream(let read):
            source = read
        }
        do { gzip = try GzipReader(source: source) } catch { throw BundleError.corrupt(member: nil, keys: [], reason: "\(error)") }
        let gzip = self.gzip
        tar = TarReader { try gzip.read(into: $0) }
        let tar = self.tar
        func member(_ name: String) throws -> TarEntry {
            guard let entry = try Self.translate(member: nil, keys: [], { try tar.next() }) else {
                throw BundleError.notABundle(reason: "no \(name) member")
            }
            guard entry.name == name, entry.isRegularFile else {
                throw BundleError.notABundle(reason: "the first members must be \(BundleFormat.headerName) and \(BundleFormat.manifestName), found \(quoted(entry.name))")
            }
            return entry
        }
        do {
            let entry = try member(BundleFormat.headerName)
            guard entry.size <= BundleFormat.maxHeaderSize else {
                throw BundleError.notABundle(reason: "\(BundleFormat.headerName) of \(entry.size) bytes")
            }
            var bytes = [UInt8](repeating: 0, count: entry.size)
            var done = 0
            try bytes.withUnsafeMutableBytes { raw in
                while done < entry.size {
                    done += try Self.translate(member: BundleFormat.headerName, keys: []) {
                        try tar.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[done...]))
                    }
                }
            }
            header = try BundleHeader(decoding: bytes)
        } catch BundleError.corrupt(nil, _, _, _) {
            // Not gzip at all is the likeliest reason the very first read fails.
            throw BundleError.notABundle(reason: "not a gzip-compressed tar")
        }

        // The manifest member, read line by line as it is inflated: its size is whatever its bytes turn out to
        // be (the tar header's claim only bounds the reads).
        _ = try member(BundleFormat.manifestName)
        let manifestName = BundleFormat.manifestName
        let stream = try Self.translate(member: manifestName, keys: []) {
            try ManifestStream(maxLineLength: Self.maxManifestLine(recordLimit: spool.maxRecordSize)) { buffer in
                try Self.translate(member: manifestName, keys: []) { try tar.read(into: buffer) }
            }
        }
        var bytes = 0
        while let entry = try Self.translate(member: manifestName, keys: [], { try stream.nextEntry() }) {
            try LogicalKey.validate(entry.logicalKey)
            guard let hash = entry.hash else { throw BundleError.entryWithoutHash(entry.logicalKey) }
            let name = try BundleFormat.objectName(hash)
            if var object = expected[name] {
                guard object.size == entry.size else {
                    throw BundleError.sizeMismatch(member: name, keys: [entry.logicalKey], expected: object.size, actual: entry.size)
                }
                if object.keys.count < BundleObject.keptKeys { object.keys.append(entry.logicalKey) }
                object.entryCount += 1
                expected[name] = object
            } else {
                expected[name] = BundleObject(member: name, hash: hash, size: entry.size, keys: [entry.logicalKey], entryCount: 1)
                let (sum, overflow) = bytes.addingReportingOverflow(entry.size)
                if overflow { throw ManifestError.sizeOverflow(logicalKey: entry.logicalKey) }
                bytes = sum
            }
            try spool.add(entry)
        }
        if let missing = stream.entryWithoutHash { throw BundleError.entryWithoutHash(missing) }
        let directories = stream.directoryMeta
        for (key, _) in directories { try Manifest.checkDirectoryKey(key) }
        try spool.finish()
        // Every manifest quilt3 and this suite write is hashed as it streams; one stored out of tree order is
        // hashed from the spool, through the one writer.
        let actual = try stream.topHash ?? topHash(stream.header, directories, spool)
        guard actual == header.topHash else { throw BundleError.topHashMismatch(header: header.topHash, manifest: actual) }
        manifestHeader = stream.header
        self.directories = directories
        entries = spool
        lastMember = BundleFormat.manifestName
        guard header.entries == stream.fileCount, header.objects == expected.count, header.bytes == bytes else {
            throw BundleError.notABundle(reason: "its header counts \(header.entries) entries, \(header.objects) objects, \(header.bytes) bytes; its manifest \(stream.fileCount), \(expected.count), \(bytes)")
        }
    }

    func keys(_ object: BundleObject?) -> [String] { object?.keys ?? [] }

    /// The object a manifest entry's data is, by its member name.
    func object(named member: String) -> BundleObject? { expected[member] }

    /// The next object (what is left of the current one is read and checked first); nil after the last, once
    /// every object the manifest needs has been seen and the end of the stream checked.
    func nextObject() throws -> BundleObject? {
        try finishObject()
        // A header that cannot be read belongs to no member yet: it is named by the member it follows.
        let entry = try Self.translate(member: lastMember, keys: [], after: true) { try tar.next() }
        guard let entry else {
            do {
                try Self.translate(member: nil, keys: []) {
                    try tar.checkOnlyZerosFollow()
                    try gzip.checkNothingFollows()
                }
            } catch BundleError.truncated(nil, _, _) {
                // The archive is whole; what is cut is gzip's trailer (its CRC-32 and length) after it.
                throw BundleError.truncatedTrailer
            }
            let missing = expected.keys.filter { !seen.contains($0) }
            // (The first in tree order of the first keys, as the objects were to come.)
            if let first = missing.compactMap({ expected[$0]?.keys[0] }).min(by: { LogicalKey.precedes($0, $1) }) {
                throw BundleError.missingObjects(count: missing.count, firstKey: first)
            }
            return nil
        }
        guard entry.isRegularFile, var object = expected[entry.name], !seen.contains(entry.name) else {
            throw BundleError.unexpectedMember(entry.name)
        }
        seen.insert(entry.name)
        guard entry.size == object.size else {
            throw BundleError.sizeMismatch(member: entry.name, keys: keys(object), expected: object.size, actual: entry.size)
        }
        object.member = entry.name
        current = object
        lastMember = entry.name
        hasher = StreamingHasher(type: object.hash.hashType!, expectedSize: object.size)
        readSoFar = 0
        verified = false
        if object.size == 0 { try check() }
        return object
    }

    /// Up to `buffer.count` bytes of the current object; 0 at its end. The read that ends the object checks its
    /// hash and throws if it is wrong.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let object = current else { return 0 }
        let n = try Self.translate(member: object.member, keys: keys(object)) { try tar.read(into: buffer) }
        guard n > 0 else { return 0 }
        hasher?.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        readSoFar += n
        if readSoFar == object.size { try check() }
        return n
    }

    /// Reads (and checks) what is left of the current object.
    func finishObject() throws {
        guard current != nil, !verified else { return }
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { scratch.deallocate() }
        while try read(into: scratch) > 0 {}
        if !verified { try check() }
    }

    private func check() throws {
        guard let object = current, let hasher else { return }
        verified = true
        let actual = hasher.finalize()
        guard actual.value == object.hash.value else {
            throw BundleError.hashMismatch(member: object.member, keys: keys(object), expected: object.hash.value, actual: actual.value)
        }
    }

    /// Runs `body`, turning archive errors into bundle errors that name `member` and its logical keys.
    static func translate<T>(member: String?, keys: [String], after: Bool = false, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ArchiveError {
            switch error {
            case .truncated: throw BundleError.truncated(member: member, keys: keys, after: after)
            case .corrupt(let reason), .zlib(let reason):
                throw BundleError.corrupt(member: member, keys: keys, after: after, reason: reason)
            case .badHeader(let reason):
                throw BundleError.corrupt(member: member, keys: keys, after: after, reason: "damaged tar header: \(reason)")
            case .trailingData: throw BundleError.corrupt(member: nil, keys: [], reason: "data after the end of the bundle")
            }
        }
    }
}
