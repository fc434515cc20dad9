// The in-memory manifest: header, directory metadata and file entries, and the rules that tie them together.
import QuiltSupport

/// One file entry of a manifest.
public struct ManifestEntry: Sendable, Equatable {
    public var logicalKey: String
    /// The physical key URL as stored (kept verbatim so a manifest round-trips byte for byte).
    public var physicalKey: String
    public var size: Int
    public var hash: ObjectHash?
    /// The full entry meta (user metadata at `user_meta`); `{}` when none.
    public var meta: JSONValue

    public init(logicalKey: String, physicalKey: String, size: Int, hash: ObjectHash?, meta: JSONValue = .object(JSONObject())) {
        self.logicalKey = logicalKey
        self.physicalKey = physicalKey
        self.size = size
        self.hash = hash
        self.meta = meta
    }

    /// `meta.user_meta`, or nil.
    public var userMeta: JSONValue? {
        get { meta.objectValue?["user_meta"] }
        set {
            var object = meta.objectValue ?? JSONObject()
            object["user_meta"] = newValue
            meta = .object(object)
        }
    }
}

/// A whole manifest.
public struct Manifest: Sendable {
    /// The header line (the package `_meta`), in its own key order. Never holds `top_hash`.
    public var header: JSONObject
    /// Directory metadata lines: `"dir/"` → that directory's user_meta.
    public var directoryMeta: [(key: String, meta: JSONValue)]
    /// File entries, in any order; writing and hashing put them in tree order.
    public var entries: [ManifestEntry]

    /// A new, empty package: `{"version": "v0"}`.
    public init() {
        header = JSONObject([("version", .string("v0"))])
        directoryMeta = []
        entries = []
    }

    public init(header: JSONObject, directoryMeta: [(key: String, meta: JSONValue)] = [], entries: [ManifestEntry]) {
        self.header = header
        self.directoryMeta = directoryMeta
        self.entries = entries
    }

    public var message: String? {
        get { header["message"]?.stringValue }
    }

    /// Sets `message` (null when nil), keeping its position if present.
    public mutating func setMessage(_ message: String?) {
        header["message"] = message.map { .string($0) } ?? .null
    }

    /// The package `user_meta`: nil when absent (which hashes differently from `null`).
    public var userMeta: JSONValue? {
        get { header["user_meta"] }
        set { header["user_meta"] = newValue }
    }

    /// Sorts entries into tree order and checks the tree: no duplicate keys, no file where a directory is.
    public mutating func normalize() throws(ManifestError) {
        // Writing normalises again, and input often arrives sorted: one pass is cheaper than a sort.
        let sorted = entries.withUnsafeBufferPointer { e in
            e.indices.dropFirst().allSatisfy { !Manifest.keyPrecedes(e, $0, $0 - 1) }
        }
        if !sorted {
            // Sorting positions moves 4-byte values instead of whole entries (and their reference counts); with
            // its scratch buffer this sort is the peak of memory use for a million entries.
            if entries.count <= Int(Int32.max) {
                var order = entries.indices.map { Int32(truncatingIfNeeded: $0) }
                entries.withUnsafeBufferPointer { e in order.sort { Manifest.keyPrecedes(e, Int($0), Int($1)) } }
                Manifest.permute(&entries, by: &order)
            } else {
                var order = Array(entries.indices)
                entries.withUnsafeBufferPointer { e in order.sort { Manifest.keyPrecedes(e, $0, $1) } }
                Manifest.permute(&entries, by: &order)
            }
        }
        try Manifest.checkTree(entries)
    }

    /// Tree order of two entries' logical keys, reading the keys' bytes in place: copying the Strings out cost
    /// two retains and releases per comparison, a quarter of writing a million-entry manifest.
    @inline(__always)
    static func keyPrecedes(_ e: UnsafeBufferPointer<ManifestEntry>, _ a: Int, _ b: Int) -> Bool {
        let inPlace = e[a].logicalKey.utf8.withContiguousStorageIfAvailable { l in
            e[b].logicalKey.utf8.withContiguousStorageIfAvailable { r in LogicalKey.precedes(l, r) }
        }
        return (inPlace ?? nil) ?? LogicalKey.precedes(e[a].logicalKey, e[b].logicalKey)
    }

    /// Puts at each position `i` the element that was at `order[i]`, following each cycle of the permutation so
    /// every element moves once and no second array (of a million entries) is needed. `order` is used up.
    static func permute<Element, Position: FixedWidthInteger>(_ elements: inout [Element], by order: inout [Position]) {
        for start in order.indices where Int(order[start]) != start {
            let held = elements[start]
            var current = start
            while Int(order[current]) != start {
                let next = Int(order[current])
                elements[current] = elements[next]
                order[current] = Position(current)
                current = next
            }
            elements[current] = held
            order[current] = Position(current)
        }
    }

    /// In tree order a key's descendants follow it directly (`a`, then `a/…`), so one pass over neighbours
    /// finds both duplicates and files that are also directories.
    static func checkTree(_ sorted: [ManifestEntry]) throws(ManifestError) {
        guard sorted.count > 1 else { return }
        for i in 1..<sorted.count {
            let previous = sorted[i - 1].logicalKey
            let current = sorted[i].logicalKey
            if previous.isIdentical(to: current) { throw .duplicateLogicalKey(current) }
            if current.utf8.count > previous.utf8.count, current.hasBytePrefix(previous),
               current.utf8[current.utf8.index(current.utf8.startIndex, offsetBy: previous.utf8.count)] == UInt8(ascii: "/") {
                throw .logicalKeyCollision(file: previous, directory: current)
            }
        }
    }

    /// Looks an entry up by logical key (linear; for small manifests and tests).
    public func entry(_ logicalKey: String) -> ManifestEntry? {
        entries.first { $0.logicalKey.isIdentical(to: logicalKey) }
    }
}

extension Manifest {
    /// A whole manifest parsed from its bytes (quilt3's form, and the compact form quilt-rs writes), for the few
    /// callers that need one as a value: the same splitter and codec as the streaming readers. Unknown header
    /// keys are kept, `top_hash` is dropped, a `null` entry meta becomes `{}`, a repeated directory line keeps its
    /// first position and its last value; the entries are put in tree order and the tree checked.
    public init(parsing bytes: [UInt8]) throws(ManifestError) {
        var header: JSONObject?
        var directories = DirectoryMetaList()
        var entries: [ManifestEntry] = []
        var splitter = LineSplitter()
        try bytes.withUnsafeBytes { raw in
            Result { () throws(ManifestError) in
                try splitter.feed(raw) { (line, number) throws(ManifestError) in
                    try Manifest.add(line, number, header: &header, directories: &directories, entries: &entries)
                }
                try splitter.finish { (line, number) throws(ManifestError) in
                    try Manifest.add(line, number, header: &header, directories: &directories, entries: &entries)
                }
            }
        }.get()
        guard let header else { throw .empty }
        self.init(header: header, directoryMeta: directories.list, entries: entries)
        try normalize()
    }

    private static func add(_ line: UnsafeRawBufferPointer, _ number: Int, header: inout JSONObject?,
                            directories: inout DirectoryMetaList, entries: inout [ManifestEntry]) throws(ManifestError) {
        guard header != nil else {
            header = try ManifestLine.parseHeader(line)
            return
        }
        switch try ManifestLine.parse(line, lineNumber: number, rules: .manifest) {
        case .directory(let key, let meta): directories.add(key, meta)
        case .entry(let entry): entries.append(entry)
        case .header, .shardTrailer: break
        }
    }
}

extension Manifest {
    /// The paths directory-metadata lines say are directories (`a` and `a/b` for `a/b/`), each with its line's
    /// key: no file entry may have one of them as its key (quilt3 could not load that).
    public static func directoryPaths(_ directories: [(key: String, meta: JSONValue)]) -> [ExactString: String] {
        var paths: [ExactString: String] = [:]
        for (key, _) in directories {
            var prefix = key.startIndex
            while let slash = key[prefix...].firstIndex(of: "/") {
                paths[ExactString(String(key[..<slash]))] = key
                prefix = key.index(after: slash)
            }
        }
        return paths
    }

    /// A directory-metadata key must name a directory, `<valid logical key>/`: quilt3 reads any line without
    /// physical keys as metadata of the directory holding its key, so `x` would be the package's metadata to
    /// quilt3 and `a/x` the metadata of `a/`, while the line itself says something else.
    public static func checkDirectoryKey(_ key: String) throws(ManifestError) {
        guard key.hasSuffix("/") else { throw .directoryKeyWithoutSlash(key) }
        do { try LogicalKey.validate(String(key.dropLast())) } catch {
            guard case .invalidLogicalKey(_, let reason) = error else { throw error }
            throw .invalidLogicalKey(key, reason: "its directory path: " + reason)
        }
    }
}

extension Collection where Element == ManifestEntry {
    /// The entries' sizes added up (a size not yet known, -1, counts 0), refused past 2^63-1 as the manifest
    /// readers refuse it: an entry stream can hold any sizes, and a sum must end in an error, never a trap.
    public func totalSize() throws(ManifestError) -> Int {
        var total = 0
        for entry in self {
            let (sum, overflow) = total.addingReportingOverflow(Swift.max(entry.size, 0))
            if overflow { throw ManifestError.sizeOverflow(logicalKey: entry.logicalKey) }
            total = sum
        }
        return total
    }
}
