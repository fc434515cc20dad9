// Comparing revisions with each other (quilt3's `diff`) and with a directory (quilt3's `verify`).
import QuiltSupport
import QuiltFormat

public struct ManifestDiff: Sendable, Equatable {
    public var added: [String]
    public var modified: [String]
    public var deleted: [String]

    /// quilt3's `pkg.diff(other)` from `old` to `new`: modified means size, hash or meta differ; physical keys
    /// and directory metadata are ignored. `added` is sorted; the others are in walk order.
    public init(from old: Manifest, to new: Manifest) {
        var newByKey: [ExactString: ManifestEntry] = [:]
        for entry in new.entries { newByKey[ExactString(entry.logicalKey)] = entry }
        var oldKeys = Set<ExactString>()
        modified = []
        deleted = []
        for entry in old.entries {
            let key = ExactString(entry.logicalKey)
            oldKeys.insert(key)
            guard let other = newByKey[key] else {
                deleted.append(entry.logicalKey)
                continue
            }
            if other.size != entry.size || other.hash != entry.hash || other.meta != entry.meta {
                modified.append(entry.logicalKey)
            }
        }
        added = new.entries.map(\.logicalKey).filter { !oldKeys.contains(ExactString($0)) }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    public var isEmpty: Bool { added.isEmpty && modified.isEmpty && deleted.isEmpty }
}

public struct VerifyReport: Sendable, Equatable {
    public var missing: [String] = []
    public var modified: [String] = []
    public var extra: [String] = []

    public func ok(extraFilesOK: Bool) -> Bool {
        missing.isEmpty && modified.isEmpty && (extraFilesOK || extra.isEmpty)
    }

    /// quilt3's `pkg.verify(dir)`: every entry present under `directory` with the same size and the same hash,
    /// recomputed with the entry's own hash type; files not in the package are extra.
    public init(manifest: Manifest, directory: String, progress: ProgressHandler? = nil) throws {
        var onDisk: [ExactString: DirectoryScanner.File] = [:]
        for file in try DirectoryScanner.scanAll(directory) { onDisk[ExactString(file.relativePath)] = file }
        var toHash: [(key: String, path: String, type: HashType, expected: ObjectHash)] = []
        for entry in manifest.entries {
            guard let file = onDisk.removeValue(forKey: ExactString(entry.logicalKey)) else {
                missing.append(entry.logicalKey)
                continue
            }
            guard let hash = entry.hash, let type = hash.hashType else {
                throw HashError.unsupportedType(entry.hash?.type ?? "none")
            }
            if file.size != entry.size {
                modified.append(entry.logicalKey)
            } else {
                toHash.append((entry.logicalKey, file.realPath, type, hash))
            }
        }
        extra = onDisk.keys.map(\.string).sorted { LogicalKey.precedes($0, $1) }
        for type in HashType.allCases {
            let group = toHash.filter { $0.type == type }
            guard !group.isEmpty else { continue }
            let results = try EntryHasher.hashFiles(group.map(\.path), type: type, progress: progress)
            for (item, result) in zip(group, results) where result.hash.value != item.expected.value {
                modified.append(item.key)
            }
        }
        modified.sort { LogicalKey.precedes($0, $1) }
    }
}

extension DirectoryScanner {
    /// Every file below `directory`, `.quiltignore` not applied (verify looks at everything).
    public static func scanAll(_ directory: String) throws -> [File] {
        guard FileSystem.isDirectory(directory) else { throw BuildError.notADirectory(directory) }
        // A name that is not UTF-8 cannot be a logical key, so it was never among a revision's files; it is left
        // out here as it always was (it is not reported as extra).
        var undecodable: [[UInt8]] = []
        return try scan(directory, applyIgnore: false, skipped: &undecodable)
    }
}
