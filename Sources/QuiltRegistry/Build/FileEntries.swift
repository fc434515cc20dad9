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

    /// One entry per path of this shard, in order, each hashed with `type`.
    public func entries(_ paths: [String], type: HashType) throws -> [ManifestEntry] {
        var keys: [String] = [], selected: [String] = []
        for path in paths {
            let key = try logicalKey(path)
            guard shard?.contains(key) ?? true else { continue }
            keys.append(key)
            selected.append(path)
        }
        let results = try EntryHasher.hashFiles(selected, type: type)
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
