// Building a package revision: quilt3's `set_dir`, `set`, `delete`, `set_meta` on a manifest.
import QuiltSupport
import QuiltFormat
import QuiltStorage
import QuiltAWS
import Dispatch


/// A manifest under construction, with quilt3's editing operations.
public struct PackageBuilder: Sendable {
    public private(set) var manifest: Manifest
    private var index: [ExactString: Int] = [:]

    /// A new, empty package (`{"version": "v0"}`), or an existing revision to update.
    public init(base: Manifest = Manifest()) {
        manifest = base
        for (i, entry) in manifest.entries.enumerated() { index[ExactString(entry.logicalKey)] = i }
    }

    /// Checks the package against `workflow` and stamps its header (or, with no workflows config, removes a
    /// stamp), as quilt3's build and push do before they set the message.
    public mutating func applyWorkflow(_ workflow: Workflow?, name: String, message: String?) throws(WorkflowError) {
        try Workflow.apply(workflow, to: &manifest, name: name, message: message)
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
    /// entries with the same key. The directory's metadata is set to `meta` even when it is nil. A file name that
    /// is not valid UTF-8 is refused, unless `skipUndecodable`: then such files are left out and their paths
    /// returned.
    @discardableResult
    public mutating func setDirectory(_ logicalKey: String, path: String, meta: JSONValue?,
                                      skipUndecodable: Bool = false) throws -> [[UInt8]] {
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
        var skipped: [[UInt8]] = []
        let files = skipUndecodable ? try DirectoryScanner.scan(path, skipped: &skipped) : try DirectoryScanner.scan(path)
        for file in files {
            let entry = ManifestEntry(
                logicalKey: isRoot ? file.relativePath : prefix + "/" + file.relativePath,
                physicalKey: PhysicalKey.local(path: file.realPath).url, size: file.size, hash: nil)
            try set(entry)
        }
        return skipped
    }

    /// Computes every missing hash, in parallel; S3 objects need `remote`.
    @discardableResult
    public mutating func hashMissing(type: HashType = .sha2256Chunked, remote: S3Transfers? = nil, useS3Checksums: Bool = true,
                                     progress: ProgressHandler? = nil) throws -> S3HashStats {
        try EntryHasher.hashMissing(&manifest.entries, type: type, remote: remote, useS3Checksums: useS3Checksums, progress: progress)
    }

    /// quilt3's `set(lk, "s3://…")`: the object as it is now (its current version unless the URL names one).
    /// The size and version come from a HEAD; the hash is found by `hashMissing`.
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
