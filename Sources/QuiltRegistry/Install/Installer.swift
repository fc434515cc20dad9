// Materialising entries as files: every file verified against its hash before it is put in place, never written
// outside the destination, never left half-written.
import QuiltSupport
import QuiltFormat
#if canImport(Glibc)
import Glibc
#endif
import Foundation

public enum InstallError: QuiltError {
    case unsafeKey(String, reason: String)
    case hashMismatch(logicalKey: String, expected: String, actual: String)
    case sizeMismatch(logicalKey: String, expected: Int, actual: Int)
    case noSuchPath(String)
    /// An install destination that is not a local directory.
    case notLocal(String)
    /// A directory no install record describes (status, pull).
    case notInstalled(String)
    /// An install record that is not what install writes (a hand edit, another version).
    case damagedRecord(String, line: Int)
    /// Another install or pull holds the directory's record.
    case busy(String)
    /// A pull that would overwrite or remove local changes (without `--force`).
    case localChanges(directory: String, paths: [String])
    /// A pull to a revision of another package.
    case otherPackage(installed: String, requested: String)

    public var kind: FailureKind {
        switch self {
        case .unsafeKey: return .badInput
        case .notLocal, .otherPackage: return .usage
        default: return .operationFailed
        }
    }
    public var message: String {
        switch self {
        case .unsafeKey(let key, let reason): return "refusing to write logical key \(quoted(key)): \(reason)"
        case .hashMismatch(let key, let expected, let actual):
            return "hash mismatch for \(quoted(key)): expected \(expected), got \(actual)"
        case .sizeMismatch(let key, let expected, let actual):
            return "size mismatch for \(quoted(key)): expected \(expected) bytes, got \(actual)"
        case .noSuchPath(let path): return "no such path in the package \(quoted(path))"
        case .notLocal(let text): return "install destination must be a local directory, not \(quoted(text))"
        case .notInstalled(let directory):
            return "\(quoted(directory)) is not a directory quilt install wrote (it has no install record)"
        case .damagedRecord(let file, let line): return "install record \(quoted(file)) is damaged (line \(line))"
        case .busy(let directory): return "another quilt install or pull is working on \(quoted(directory))"
        case .localChanges(let directory, let paths):
            let shown = paths.prefix(5).map(quoted).joined(separator: ", ") + (paths.count > 5 ? ", …" : "")
            return "local changes in \(quoted(directory)) would be overwritten or removed: \(shown) (\(paths.count) file\(paths.count == 1 ? "" : "s"))"
        case .otherPackage(let installed, let requested):
            return "\(quoted(requested)) is not the installed package \(quoted(installed))"
        }
    }

    public var hint: String? {
        switch self {
        case .notInstalled: return "run 'quilt install <revision> --dest <dir>' first"
        case .damagedRecord: return "run 'quilt install' into the directory again"
        case .localChanges: return "see 'quilt status'; 'quilt pull --force' overwrites them"
        default: return nil
        }
    }
}

public struct Installer: Sendable {
    /// Reads `file://` keys itself and hands every other key to `remote`.
    public let remote: (any BlobSource)?
    /// Where objects already downloaded are taken from, and new downloads kept; nil for none.
    public let cache: ObjectCache?

    public init(remote: (any BlobSource)? = nil, cache: ObjectCache? = nil) {
        self.remote = remote
        self.cache = cache
    }

    /// Checks that `relativePath` stays inside the destination: a valid logical key, with no `.`/`..`/empty
    /// segment, not absolute, no NUL.
    public static func checkSafe(_ relativePath: String) throws(InstallError) {
        do { try LogicalKey.validate(relativePath) } catch {
            if case .invalidLogicalKey(_, let reason) = error { throw .unsafeKey(relativePath, reason: reason) }
            throw .unsafeKey(relativePath, reason: "invalid")
        }
    }

    /// The directory of `relativePath` below `root`, opened one component at a time from the directory held,
    /// created where missing; a symbolic link or a file on the way is refused. Returns it, the file's name and what is
    /// at that name now (nil: nothing, so nothing can be in place already).
    ///
    /// With `opened`, directories already opened by this batch (by their path below `root`) are taken from it,
    /// and new ones put in it: a batch of files in a few directories opens each once, not once per file.
    static func openParent(root: DirectoryHandle, relativePath: String,
                           opened: Locked<[Substring: DirectoryHandle]>? = nil) throws -> (DirectoryHandle, String, FileKind?) {
        var current = root
        let parts = relativePath.split(separator: "/", omittingEmptySubsequences: false)
        let name = String(parts.last!)
        let parentPath = relativePath.utf8.count > name.utf8.count
            ? relativePath[..<relativePath.utf8.index(relativePath.utf8.endIndex, offsetBy: -(name.utf8.count + 1))] : ""
        if let opened, !parentPath.isEmpty, let held = opened.withLock({ $0[parentPath] }) {
            let there = held.kind(of: name)
            if there == .directory {
                throw InstallError.unsafeKey(relativePath, reason: "a directory is in the way")
            }
            return (held, name, there)
        }
        for part in parts.dropLast() {
            let next: DirectoryHandle
            do {
                next = try current.subdirectory(String(part))
            } catch {
                guard case .notADirectory(let path) = error else { throw error }
                // Said by what is there, read through the held directory (never by path again).
                let what = current.kind(of: String(part)) == .symbolicLink ? "is a symbolic link" : "is not a directory"
                throw InstallError.unsafeKey(relativePath, reason: "\(quoted(path)) \(what)")
            }
            current = next
        }
        if let opened, !parentPath.isEmpty { opened.withLock { $0[parentPath] = current } }
        let there = current.kind(of: name)
        if there == .directory {
            throw InstallError.unsafeKey(relativePath, reason: "a directory is in the way")
        }
        return (current, name, there)
    }

    /// An install killed mid-file leaves its `.<name>.tmp-XXXXXX` behind (never the file itself): remove those
    /// of the files about to be installed, so a rerun leaves the directory clean. Directories are walked from
    /// `root` as files are written, never through a symbolic link.
    static func removeStaleTemporaryFiles(root: DirectoryHandle, relativePaths: [String]) {
        var wanted: [String: Set<String>] = [:]
        for path in relativePaths {
            let parent = path.contains("/") ? FileSystem.parent(of: path) : ""
            wanted[parent, default: []].insert(AtomicFileWriter.temporaryPrefix(for: FileSystem.baseName(of: path)))
        }
        for (relative, prefixes) in wanted {
            var found: DirectoryHandle? = root
            for part in relative.split(separator: "/") { found = try? found?.subdirectory(String(part), create: false) }
            guard let directory = found, let names = try? directory.names() else { continue }
            for name in names where name.hasPrefix(".") && name.contains(".tmp-") {
                guard let cut = name.range(of: ".tmp-", options: .backwards) else { continue }
                let prefix = String(name[..<cut.upperBound])
                if prefixes.contains(prefix), name.utf8.count == prefix.utf8.count + 6,
                   case .regular? = directory.kind(of: name) {
                    directory.unlink(name)
                }
            }
        }
    }

    /// Copies one entry to `root/relativePath`: streamed to a temporary file beside the target while hashing,
    /// renamed into place only when size and hash match. Returns the identity of the file in place (nil if it
    /// changed meanwhile), for the directory's install record.
    @discardableResult
    public func materialize(_ entry: ManifestEntry, root: String, relativePath: String) throws -> FileIdentity? {
        try Self.checkSafe(relativePath)
        try FileSystem.makeDirectories(root)
        return try materialize(entry, in: DirectoryHandle(path: root), relativePath: relativePath)
    }

    func materialize(_ entry: ManifestEntry, in root: DirectoryHandle, relativePath: String,
                     opened: Locked<[Substring: DirectoryHandle]>? = nil) throws -> FileIdentity? {
        try Self.checkSafe(relativePath)
        let key = try PhysicalKey(url: entry.physicalKey)
        guard let expected = entry.hash else { throw ManifestError.missingHash(logicalKey: entry.logicalKey) }
        guard let type = expected.hashType else { throw HashError.unsupportedType(expected.type) }
        let (directory, name, there) = try Self.openParent(root: root, relativePath: relativePath, opened: opened)
        // The cache location is worked out once, for the look-up and for keeping the download.
        let cached = key.isLocal ? nil : cache.flatMap { cache in ObjectCache.location(of: expected).map { (cache, $0) } }
        // Before the network: the file already in place, then the cache. Local keys are read directly, which
        // costs no more than either.
        if !key.isLocal {
            if there != nil, let inPlace = Self.alreadyInPlace(directory: directory, name: name, size: entry.size, hash: expected, type: type) {
                return inPlace.identity
            }
            if let (cache, location) = cached,
               let placed = try copyFromCache(cache, at: location, type: type, hash: expected, size: entry.size, directory: directory, name: name) {
                return placed.identity
            }
        }
        let source: any BlobSource = key.isLocal ? LocalBlobSource(hashType: type) : (remote ?? LocalBlobSource(hashType: type))
        if !key.isLocal, let bytes = try fetchBytes(source, key, entry: entry) {
            return try place(bytes, entry, expected: expected, type: type, directory: directory, name: name, cached: cached)
        }
        let writer = try AtomicFileWriter(in: directory, name: name)
        let streamed: ObjectHash?
        do {
            streamed = try source.fetch(key, size: entry.size, into: writer)
        } catch TransferError.sizeChanged(_, _, let actual) {
            throw InstallError.sizeMismatch(logicalKey: entry.logicalKey, expected: entry.size, actual: actual)
        }
        let written = try writer.readBack()
        guard written.size == entry.size else {
            throw InstallError.sizeMismatch(logicalKey: entry.logicalKey, expected: entry.size, actual: written.size)
        }
        let actual = try streamed ?? FileHasher.hash(file: written, type: type)
        guard actual.value == expected.value else {
            throw InstallError.hashMismatch(logicalKey: entry.logicalKey, expected: expected.value, actual: actual.value)
        }
        try writer.commit()
        let placed = Self.placedIdentity(written)
        // Kept only now, verified; read through the writer's descriptor, so what is kept is what was checked
        // even if the installed file is replaced meanwhile.
        if let (cache, location) = cached { cache.insert(at: location, from: written, missing: true) }
        return placed
    }

    /// A small remote object read whole into memory by `source`, or nil if it reads objects into files.
    private func fetchBytes(_ source: any BlobSource, _ key: PhysicalKey, entry: ManifestEntry) throws -> [UInt8]? {
        do {
            return try source.fetchBytes(key, size: entry.size)
        } catch TransferError.sizeChanged(_, _, let actual) {
            throw InstallError.sizeMismatch(logicalKey: entry.logicalKey, expected: entry.size, actual: actual)
        }
    }

    /// Puts a small object downloaded whole in place: hashed in memory first, so no byte that does not match is
    /// written anywhere, then written with one write to the new file and one to the cache's. Reading it into a
    /// file, hashing the file and copying it to the cache took a read, a copy and three more system calls an
    /// object, most of an install of small files.
    private func place(_ bytes: [UInt8], _ entry: ManifestEntry, expected: ObjectHash, type: HashType,
                       directory: DirectoryHandle, name: String, cached: (ObjectCache, ObjectCache.Location)?) throws -> FileIdentity? {
        let hasher = StreamingHasher(type: type, expectedSize: bytes.count)
        bytes.withUnsafeBytes { hasher.update($0) }
        let actual = hasher.finalize()
        guard actual.value == expected.value else {
            throw InstallError.hashMismatch(logicalKey: entry.logicalKey, expected: expected.value, actual: actual.value)
        }
        let writer = try AtomicFileWriter(in: directory, name: name)
        try bytes.withUnsafeBytes { try writer.writeUnbuffered($0) }
        let written = try writer.commitReturningFile()
        if let (cache, location) = cached { cache.insert(at: location, bytes: bytes, missing: true) }
        return Self.placedIdentity(written)
    }

    /// The identity of a file just renamed into place (`written`: its temporary file read back before it was
    /// checked), if it still describes the bytes checked: the rename moves only the change time, so a different
    /// inode, size or modification time means someone wrote meanwhile. Whether it proves the bytes for later
    /// readers (`FileIdentity.isRacy`) is for the record to decide (`InstallRecordWriter.addPlaced`).
    static func placedIdentity(_ written: InputFile) -> FileIdentity? {
        guard let now = written.currentIdentity() else { return nil }
        let checked = written.identity
        guard now.device == checked.device, now.inode == checked.inode, now.size == checked.size,
              now.mtime == checked.mtime else { return nil }
        return now
    }

    /// The file `name` if it is already a regular file of `size` bytes hashing to `hash` (opened without
    /// following a link, through the held directory, and read unchanged); then it is left as it is.
    static func alreadyInPlace(directory: DirectoryHandle, name: String, size: Int, hash: ObjectHash, type: HashType) -> InputFile? {
        guard case .regular(let found)? = directory.kind(of: name), found == size,
              let file = try? directory.openFile(name), file.size == size,
              let actual = try? FileHasher.hashUnchanged(file: file, type: type), actual.value == hash.value else { return nil }
        return file
    }

    /// Copies the cached object into place if the cache has it and the copy hashes to `hash`, and returns the
    /// placed file's identity (nil inside: placed, but changed since). An entry that does not hash so is removed
    /// (the caller then downloads). Only a failure to write the destination is thrown.
    ///
    /// The copy is the kernel's (`copy_file_range`: a clone where the file system shares extents), and the copy
    /// is what gets hashed, on every core: an entry damaged on disk, or changed while copied, is never put in
    /// place. Copying while hashing in user space (one read of the cached object, each block hashed and written)
    /// was measured slower on ext4: a warm install of 1 GiB took 10.6 s (2.4 s system time) against 3.9 s
    /// (0.45 s) for the kernel's copy and a hash of the copy, whose pages are still cached.
    func copyFromCache(_ cache: ObjectCache, at location: ObjectCache.Location, type: HashType, hash: ObjectHash, size: Int,
                       directory: DirectoryHandle, name: String) throws -> Placed? {
        guard let cached = cache.open(at: location, size: size) else { return nil }
        let writer = try AtomicFileWriter(in: directory, name: name)
        do {
            try writer.copy(from: cached)
        } catch {
            if case .cannotRead = error { cache.remove(at: location); return nil }
            throw error
        }
        let written = try writer.readBack()
        guard written.size == size, (try? FileHasher.hash(file: written, type: type))?.value == hash.value else {
            cache.remove(at: location)
            return nil
        }
        try writer.commit()
        cached.markUsed()
        return Placed(identity: Self.placedIdentity(written))
    }

    /// A file put in place, and its identity unless it changed since.
    struct Placed {
        var identity: FileIdentity?
    }

    /// Materialises many entries, several at a time; `relativePath` maps an entry to its place below `root`.
    /// Returns each placed file's identity (as `materialize` does for one), in the order of `entries`.
    @discardableResult
    public func materialize(_ entries: [ManifestEntry], root: String, concurrency: Int = 8,
                            relativePath: @escaping @Sendable (ManifestEntry) -> String = { $0.logicalKey },
                            progress: ProgressHandler? = nil) throws -> [FileIdentity?] {
        for entry in entries { try Self.checkSafe(relativePath(entry)) }
        guard !entries.isEmpty else { return [] }
        try FileSystem.makeDirectories(root)
        let top = try DirectoryHandle(path: root)
        Self.removeStaleTemporaryFiles(root: top, relativePaths: entries.map(relativePath))
        let done = Locked<(files: Int, bytes: Int)>((0, 0))
        let total = try entries.totalSize()
        let identities = Locked<[FileIdentity?]>(Array(repeating: nil, count: entries.count))
        let opened = Locked<[Substring: DirectoryHandle]>([:])
        try TransferPool.run(count: entries.count, maxConcurrency: concurrency) { i in
            let identity = try self.materialize(entries[i], in: top, relativePath: relativePath(entries[i]), opened: opened)
            if let identity { identities.withLock { $0[i] = identity } }
            if let progress {
                let state = done.withLock { s -> (files: Int, bytes: Int) in
                    s.files += 1
                    s.bytes += entries[i].size
                    return s
                }
                progress(Progress(filesDone: state.files, filesTotal: entries.count, bytesDone: state.bytes, bytesTotal: total))
            }
        }
        return identities.value
    }
}
