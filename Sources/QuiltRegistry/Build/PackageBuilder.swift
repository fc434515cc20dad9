// Building a package revision: quilt3's `set_dir`, `set`, `delete`, `set_meta` on a manifest, then hashing
// whatever has no hash yet, on all cores.
import QuiltSupport
import QuiltFormat
import QuiltStorage
import QuiltAWS
import Dispatch

/// Progress of a long operation, reported to whoever shows it (the core never prints).
public struct Progress: Sendable {
    public var filesDone: Int
    public var filesTotal: Int
    public var bytesDone: Int
    public var bytesTotal: Int

    public init(filesDone: Int, filesTotal: Int, bytesDone: Int, bytesTotal: Int) {
        self.filesDone = filesDone
        self.filesTotal = filesTotal
        self.bytesDone = bytesDone
        self.bytesTotal = bytesTotal
    }
}

public typealias ProgressHandler = @Sendable (Progress) -> Void

/// Errors of building packages from local files.
public enum BuildError: QuiltError {
    case notADirectory(String)
    case unreadable(path: String, reason: String)
    case noSuchEntry(String)
    case unsupportedPhysicalKey(String)

    public var kind: FailureKind {
        switch self {
        case .noSuchEntry: return .badInput
        default: return .operationFailed
        }
    }
    public var message: String {
        switch self {
        case .notADirectory(let path): return "not a directory \(quoted(path))"
        case .unreadable(let path, let reason): return "cannot read file \(quoted(path)): \(reason)"
        case .noSuchEntry(let key): return "no such logical key \(quoted(key))"
        case .unsupportedPhysicalKey(let url): return "cannot hash data at \(quoted(url)) here"
        }
    }
}

/// A manifest under construction, with quilt3's editing operations.
public struct PackageBuilder: Sendable {
    public private(set) var manifest: Manifest
    private var index: [ExactString: Int] = [:]

    /// A new, empty package (`{"version": "v0"}`), or an existing revision to update.
    public init(base: Manifest = Manifest()) {
        manifest = base
        for (i, entry) in manifest.entries.enumerated() { index[ExactString(entry.logicalKey)] = i }
    }

    /// quilt3's `set_meta` on the package: the header's `user_meta` (nil removes it).
    public mutating func setPackageMeta(_ meta: JSONValue?) {
        manifest.userMeta = meta
    }

    public mutating func setMessage(_ message: String?) {
        manifest.setMessage(message)
    }

    /// Adds or replaces one entry.
    public mutating func set(_ entry: ManifestEntry) throws(ManifestError) {
        try LogicalKey.validate(entry.logicalKey)
        let key = ExactString(entry.logicalKey)
        if let i = index[key] {
            manifest.entries[i] = entry
        } else {
            index[key] = manifest.entries.count
            manifest.entries.append(entry)
        }
    }

    /// Adds the local file at `path` as `logicalKey` (size read now, hash computed by `hashMissing`).
    public mutating func setFile(_ logicalKey: String, path: String, userMeta: JSONValue? = nil) throws {
        let real = try FileSystem.realPath(path)
        guard case .regular(let size)? = FileSystem.kind(ofPath: real) else {
            throw FileSystemError.notARegularFile(path: path)
        }
        var entry = ManifestEntry(logicalKey: logicalKey, physicalKey: PhysicalKey.local(path: real).url, size: size, hash: nil)
        if let userMeta { entry.userMeta = userMeta }
        try set(entry)
    }

    /// quilt3's `delete(lk)`: an entry, or every entry below a directory key.
    public mutating func remove(_ logicalKey: String) throws(BuildError) {
        let trimmed = logicalKey.hasSuffix("/") ? String(logicalKey.dropLast()) : logicalKey
        let prefix = trimmed + "/"
        let before = manifest.entries.count
        manifest.entries.removeAll { $0.logicalKey.isIdentical(to: trimmed) || $0.logicalKey.hasBytePrefix(prefix) }
        guard manifest.entries.count != before else { throw .noSuchEntry(logicalKey) }
        manifest.directoryMeta.removeAll { $0.key.hasBytePrefix(prefix) }
        rebuildIndex()
    }

    private mutating func rebuildIndex() {
        index.removeAll(keepingCapacity: true)
        for (i, entry) in manifest.entries.enumerated() { index[ExactString(entry.logicalKey)] = i }
    }

    /// quilt3's `set_dir(lkey, path, meta)`: every regular file below `path` (symbolic links to files followed,
    /// links to directories not descended, `.quiltignore` applied) at `lkey/<relative path>`; files replace
    /// entries with the same key. The directory's metadata is set to `meta` even when it is nil.
    public mutating func setDirectory(_ logicalKey: String, path: String, meta: JSONValue?) throws {
        var prefix = logicalKey
        while prefix.hasPrefix("/") { prefix.removeFirst() }
        while prefix.hasSuffix("/") { prefix.removeLast() }
        let isRoot = prefix.isEmpty || prefix == "." || prefix == "./"
        if isRoot {
            manifest.userMeta = meta ?? .null
        } else {
            try LogicalKey.validate(prefix)
            let key = prefix + "/"
            manifest.directoryMeta.removeAll { $0.key.isIdentical(to: key) }
            manifest.directoryMeta.append((key, meta ?? .null))
        }
        for file in try DirectoryScanner.scan(path) {
            let entry = ManifestEntry(
                logicalKey: isRoot ? file.relativePath : prefix + "/" + file.relativePath,
                physicalKey: PhysicalKey.local(path: file.realPath).url, size: file.size, hash: nil)
            try set(entry)
        }
    }

    /// Computes every missing hash, in parallel; S3 objects need `remote`.
    public mutating func hashMissing(type: HashType = .sha2256Chunked, remote: S3Transfers? = nil,
                                     progress: ProgressHandler? = nil) throws {
        try EntryHasher.hashMissing(&manifest.entries, type: type, remote: remote, progress: progress)
    }

    /// quilt3's `set(lk, "s3://…")`: the object as it is now (its current version unless the URL names one).
    /// The size and version come from a HEAD; the hash is computed from the bytes by `hashMissing`.
    public mutating func setS3Object(_ logicalKey: String, url: String, client: S3Client) throws {
        guard case .s3(let bucket, let key, let versionId) = try PhysicalKey(url: url) else {
            throw BuildError.unsupportedPhysicalKey(url)
        }
        guard let head = try client.headObject(bucket: bucket, key: key, versionId: versionId) else {
            throw StorageError.notFound(location: url)
        }
        let physical = PhysicalKey.s3(bucket: bucket, key: key, versionId: versionId ?? head.versionId)
        try set(ManifestEntry(logicalKey: logicalKey, physicalKey: physical.url, size: head.size, hash: nil))
    }

    /// quilt3's `set_dir(lkey, "s3://bucket/prefix/")`: the latest version of every object below the prefix
    /// (keys ending in `/` skipped). The directory's metadata is set to `meta`.
    public mutating func setS3Directory(_ logicalKey: String, url: String, meta: JSONValue?, client: S3Client) throws {
        guard case .s3(let bucket, var prefix, let versionId) = try PhysicalKey(url: url), versionId == nil else {
            throw BuildError.unsupportedPhysicalKey(url)
        }
        if !prefix.isEmpty && !prefix.hasSuffix("/") { prefix += "/" }
        var root = logicalKey
        while root.hasPrefix("/") { root.removeFirst() }
        while root.hasSuffix("/") { root.removeLast() }
        let isRoot = root.isEmpty || root == "."
        if isRoot {
            manifest.userMeta = meta ?? .null
        } else {
            try LogicalKey.validate(root)
            manifest.directoryMeta.removeAll { $0.key.isIdentical(to: root + "/") }
            manifest.directoryMeta.append((root + "/", meta ?? .null))
        }
        for object in try client.listAllObjectVersions(bucket: bucket, prefix: prefix)
        where object.isLatest && !object.isDeleteMarker && !object.key.hasSuffix("/") {
            let relative = String(decoding: object.key.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
            let physical = PhysicalKey.s3(bucket: bucket, key: object.key, versionId: object.versionId)
            try set(ManifestEntry(logicalKey: isRoot ? relative : root + "/" + relative, physicalKey: physical.url,
                                  size: object.size, hash: nil))
        }
    }
}

/// Walks a local directory the way quilt3's `set_dir` does.
public enum DirectoryScanner {
    public struct File: Sendable {
        /// `/`-separated path below the scanned directory: the logical key.
        public var relativePath: String
        /// The file's resolved path: what the physical key names.
        public var realPath: String
        public var size: Int
    }

    /// Every regular file below `directory`, in tree order.
    public static func scan(_ directory: String, applyIgnore: Bool = true) throws -> [File] {
        let root: String
        do { root = try FileSystem.realPath(directory) } catch { throw BuildError.notADirectory(directory) }
        guard FileSystem.isDirectory(root) else { throw BuildError.notADirectory(directory) }
        var ignore: QuiltIgnore?
        if applyIgnore, let bytes = try? FileSystem.readFile(root + "/.quiltignore") {
            ignore = QuiltIgnore(text: String(decoding: bytes, as: UTF8.self))
        }
        var files: [File] = []
        try walk(root, relative: "", ignore: ignore, into: &files)
        return files
    }

    /// Visits each directory's children sorted by name, which is the definition of tree order: the files come
    /// out in tree order with no sort of whole paths afterwards.
    private static func walk(_ directory: String, relative: String, ignore: QuiltIgnore?, into files: inout [File]) throws {
        var names: [String]
        do {
            names = try FileSystem.contentsOfDirectory(directory)
        } catch {
            throw BuildError.unreadable(path: directory, reason: error.message)
        }
        names.sort(by: LogicalKey.precedes)  // names hold no '/': plain code-point order
        for name in names {
            let path = directory + "/" + name
            let key = relative.isEmpty ? name : relative + "/" + name
            guard let kind = FileSystem.kind(ofPath: path, followLinks: false) else { continue }
            switch kind {
            case .directory:
                if let ignore, ignore.ignoresDirectory(path) { continue }
                try walk(path, relative: key, ignore: ignore, into: &files)
            case .regular(let size):
                if let ignore, ignore.ignoresFile(path) { continue }
                files.append(File(relativePath: key, realPath: path, size: size))
            case .symbolicLink:
                // Links to files count (at their target); links to directories are not descended, as in quilt3.
                guard case .regular(let size)? = FileSystem.kind(ofPath: path) else { continue }
                if let ignore, ignore.ignoresFile(path) { continue }
                let real: String
                do { real = try FileSystem.realPath(path) } catch { continue }
                files.append(File(relativePath: key, realPath: real, size: size))
            case .other:
                continue
            }
        }
    }
}

/// Hashes entries' local files: small files spread over all cores, big files' parts hashed in parallel.
public enum EntryHasher {
    /// Computes every missing hash (and size): local files on all cores; S3 objects by reading them through
    /// `remote` (quilt3 never trusts S3 metadata for the package hash either).
    public static func hashMissing(_ entries: inout [ManifestEntry], type: HashType = .sha2256Chunked,
                                   remote: S3Transfers? = nil, progress: ProgressHandler? = nil) throws {
        let pending = entries.indices.filter { entries[$0].hash == nil || entries[$0].size < 0 }
        guard !pending.isEmpty else { return }
        var localIndices: [Int] = [], paths: [String] = [], remoteIndices: [Int] = []
        for i in pending {
            switch try PhysicalKey(url: entries[i].physicalKey) {
            case .local(let path):
                localIndices.append(i)
                paths.append(path)
            case .s3:
                guard remote != nil else { throw BuildError.unsupportedPhysicalKey(entries[i].physicalKey) }
                remoteIndices.append(i)
            }
        }
        let results = try hashFiles(paths, type: type, progress: progress)
        for (n, i) in localIndices.enumerated() {
            entries[i].hash = results[n].hash
            entries[i].size = results[n].size
        }
        guard let remote, !remoteIndices.isEmpty else { return }
        for i in remoteIndices {
            guard case .s3(let bucket, let key, let versionId) = try PhysicalKey(url: entries[i].physicalKey) else { continue }
            let source = S3ObjectReference(bucket: bucket, key: key, versionId: versionId)
            if entries[i].size < 0 {
                guard let head = try remote.client.headObject(bucket: bucket, key: key, versionId: versionId) else {
                    throw StorageError.notFound(location: entries[i].physicalKey)
                }
                entries[i].size = head.size
            }
            if entries[i].hash == nil { entries[i].hash = try remote.hashObject(source, size: entries[i].size) }
        }
    }

    /// Hashes `paths` (in parallel) and returns hash and size of each, in order.
    public static func hashFiles(_ paths: [String], type: HashType = .sha2256Chunked,
                                 progress: ProgressHandler? = nil) throws -> [(hash: ObjectHash, size: Int)] {
        let count = paths.count
        let results = UnsafeMutableBufferPointer<(hash: ObjectHash, size: Int)?>.allocate(capacity: count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        let shared = UnsafeSendable(results)
        let failure = Locked<BuildError?>(nil)
        let done = Locked<(files: Int, bytes: Int)>((0, 0))
        // Big files already use every core for their parts: they are put aside when opened and hashed one at a
        // time afterwards, the rest in parallel. Deciding at open time (fstat) saves a stat per file.
        let big = Locked<[Int]>([])
        let work: @Sendable (Int, Bool) -> Void = { i, bigPass in
            if failure.value != nil { return }
            do {
                let file = try InputFile(path: paths[i])
                if !bigPass && file.size > ChunkedHash.minimumChunkSize {
                    big.withLock { $0.append(i) }
                    return
                }
                let hash = try FileHasher.hash(file: file, type: type)
                let size = file.size
                shared.value[i] = (hash, size)
                if let progress {
                    let snapshot = done.withLock { state -> (Int, Int) in
                        state.files += 1
                        state.bytes += size
                        return (state.files, state.bytes)
                    }
                    progress(Progress(filesDone: snapshot.0, filesTotal: count, bytesDone: snapshot.1, bytesTotal: 0))
                }
            } catch {
                failure.withLock { if $0 == nil { $0 = .unreadable(path: paths[i], reason: Self.reason(error)) } }
            }
        }
        DispatchQueue.concurrentPerform(iterations: count) { work($0, false) }
        for i in big.value.sorted() { work(i, true) }
        if let error = failure.value { throw error }
        return (0..<count).map { results[$0]! }
    }

    static func reason(_ error: any Error) -> String {
        switch error {
        case FileSystemError.notFound: return "no such file"
        case FileSystemError.notARegularFile: return "not a regular file"
        case FileSystemError.cannotOpen(_, let reason), FileSystemError.cannotRead(_, let reason): return reason
        case let error as QuiltError: return error.message
        default: return String(describing: error)
        }
    }
}
