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
    /// The manifest entries (indices) whose data it is.
    public var entries: [Int]
}

final class BundleReader {
    let header: BundleHeader
    /// The manifest exactly as bundled, and parsed.
    let manifestBytes: [UInt8]
    let manifest: Manifest
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

    /// Opens the bundle and reads its header and manifest.
    init(_ input: BundleInput, writer: ManifestWriter) throws {
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
        func member(_ name: String, limit: Int?) throws -> [UInt8] {
            guard let entry = try Self.translate(member: nil, keys: [], { try tar.next() }) else {
                throw BundleError.notABundle(reason: "no \(name) member")
            }
            guard entry.name == name, entry.isRegularFile else {
                throw BundleError.notABundle(reason: "the first members must be \(BundleFormat.headerName) and \(BundleFormat.manifestName), found \(quoted(entry.name))")
            }
            if let limit, entry.size > limit { throw BundleError.notABundle(reason: "\(name) of \(entry.size) bytes") }
            var bytes = [UInt8](repeating: 0, count: entry.size)
            var done = 0
            try bytes.withUnsafeMutableBytes { raw in
                while done < entry.size {
                    done += try Self.translate(member: name, keys: []) {
                        try tar.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[done...]))
                    }
                }
            }
            return bytes
        }
        do {
            header = try BundleHeader(decoding: member(BundleFormat.headerName, limit: BundleFormat.maxHeaderSize))
        } catch BundleError.corrupt(nil, _, _, _) {
            // Not gzip at all is the likeliest reason the very first read fails.
            throw BundleError.notABundle(reason: "not a gzip-compressed tar")
        }
        manifestBytes = try member(BundleFormat.manifestName, limit: nil)
        var manifest = try Manifest(parsing: manifestBytes)
        let actual = try writer.topHash(of: &manifest)
        guard actual == header.topHash else { throw BundleError.topHashMismatch(header: header.topHash, manifest: actual) }
        self.manifest = manifest
        lastMember = BundleFormat.manifestName
        for (i, entry) in manifest.entries.enumerated() {
            guard let hash = entry.hash else { throw BundleError.entryWithoutHash(entry.logicalKey) }
            let name = try BundleFormat.objectName(hash)
            if expected[name] == nil {
                expected[name] = BundleObject(member: name, hash: hash, size: entry.size, entries: [])
            } else if expected[name]!.size != entry.size {
                throw BundleError.sizeMismatch(member: name, keys: [entry.logicalKey], expected: expected[name]!.size, actual: entry.size)
            }
            expected[name]!.entries.append(i)
        }
        let bytes = expected.values.reduce(0) { $0 + $1.size }
        guard header.entries == manifest.entries.count, header.objects == expected.count, header.bytes == bytes else {
            throw BundleError.notABundle(reason: "its header counts \(header.entries) entries, \(header.objects) objects, \(header.bytes) bytes; its manifest \(manifest.entries.count), \(expected.count), \(bytes)")
        }
    }

    func keys(_ object: BundleObject?) -> [String] {
        object.map { $0.entries.map { manifest.entries[$0].logicalKey } } ?? []
    }

    /// The next object (what is left of the current one is read and checked first); nil after the last, once
    /// every object the manifest needs has been seen and the end of the stream checked.
    func nextObject() throws -> BundleObject? {
        try finishObject()
        // A header that cannot be read belongs to no member yet: it is named by the member it follows.
        let entry = try Self.translate(member: lastMember, keys: [], after: true) { try tar.next() }
        guard let entry else {
            try Self.translate(member: nil, keys: []) {
                try tar.checkOnlyZerosFollow()
                try gzip.checkNothingFollows()
            }
            let missing = expected.keys.filter { !seen.contains($0) }
            if let first = missing.compactMap({ expected[$0] }).min(by: { $0.entries[0] < $1.entries[0] }) {
                throw BundleError.missingObjects(count: missing.count, firstKey: manifest.entries[first.entries[0]].logicalKey)
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
