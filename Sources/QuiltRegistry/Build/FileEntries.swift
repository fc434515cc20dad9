// Local files as entries (quilt-hash-object --entries): logical keys relative to a root directory, physical
// keys at the files' resolved paths, hashed on all cores.
import QuiltSupport
import QuiltFormat

/// Makes entries of files below one root.
public struct FileEntries: Sendable {
    /// The root as given (made absolute, not resolved) and as resolved: a path may be below either, so
    /// `--root .` works from a symbolically linked working directory.
    private let roots: [String]
    private let rootText: String
    /// Only the files whose logical keys fall in this shard become entries (the others are not even read).
    private let shard: Shard?

    public init(root: String, shard: Shard? = nil) throws {
        rootText = root
        self.shard = shard
        roots = [try FileSystem.realPath(root), FileSystem.normalized(FileSystem.absolute(root))]
    }

    /// One entry per path of this shard, in order, each hashed with `type` (big files' chunk digests kept in
    /// `chunkDigestsTo`, as `EntryHasher.hashFiles` does).
    public func entries(_ paths: [String], type: HashType, chunkDigestsTo cache: ObjectCache? = nil) throws -> [ManifestEntry] {
        var keys: [String] = [], selected: [String] = []
        for path in paths {
            let key = try logicalKey(path)
            guard shard?.contains(key) ?? true else { continue }
            keys.append(key)
            selected.append(path)
        }
        let results = try EntryHasher.hashFiles(selected, type: type, chunkDigestsTo: cache)
        return try zip(zip(keys, selected), results).map { named, result in
            ManifestEntry(logicalKey: named.0, physicalKey: PhysicalKey.local(path: try FileSystem.realPath(named.1)).url,
                          size: result.size, hash: result.hash)
        }
    }

    /// The path below the root, `/`-separated, as a valid logical key.
    public func logicalKey(_ path: String) throws -> String {
        let absolute = FileSystem.normalized(FileSystem.absolute(path))
        for base in roots {
            let prefix = base == "/" ? "/" : base + "/"
            if absolute.hasBytePrefix(prefix) {
                let key = String(decoding: absolute.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
                try LogicalKey.validate(key)
                return key
            }
        }
        throw ManifestError.invalidLogicalKey(path, reason: "not below --root \(quoted(rootText))")
    }
}

/// Paths read from a stream (`quilt-hash-object --stdin-paths`), a batch at a time, so a list of millions is
/// hashed as it arrives, every batch on all cores, in memory that does not grow with the list.
public enum PathList {
    /// Paths per batch.
    public static let batchSize = 4096

    /// Splits what `input` hands over into paths, separated by NUL or by newline (a carriage return before it is
    /// dropped), empty ones skipped; hands each batch of paths to `body`, in input order. A path that is not UTF-8
    /// is refused: read as a String it would be silently changed.
    public static func forEachBatch(of input: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void, nulSeparated: Bool,
                                    _ body: ([String]) throws -> Void) throws {
        try withoutActuallyEscaping(body) { body in try forEachBatch(of: input, nulSeparated: nulSeparated, escaping: body) }
    }

    private static func forEachBatch(of input: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void, nulSeparated: Bool,
                                     escaping body: @escaping ([String]) throws -> Void) throws {
        var splitter = LineSplitter(separator: nulSeparated ? 0 : 0x0A)
        var batch: [String] = []
        batch.reserveCapacity(batchSize)
        func add(_ piece: UnsafeRawBufferPointer, _ number: Int) throws {
            guard !piece.isEmpty else { return }
            guard var path = String(validating: piece, as: UTF8.self) else { throw BuildError.pathNotUTF8(Array(piece)) }
            if !nulSeparated && path.hasSuffix("\r") { path.removeLast() }
            batch.append(path)
            if batch.count == batchSize {
                try body(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        try input { block in try splitter.feed(block, add) }
        try splitter.finish(add)
        if !batch.isEmpty { try body(batch) }
    }
}
