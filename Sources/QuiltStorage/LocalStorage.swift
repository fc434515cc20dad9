// The Storage interface over a local directory: atomic writes by temporary file and rename, conditional writes
// under a lock file, so a local registry offers the same guarantees as S3.
import QuiltSupport
#if canImport(Glibc)
import Glibc
#endif

/// A directory used as a flat key space.
public struct LocalStorage: Storage {
    /// Absolute path of the root directory.
    public let root: String

    public init(root: String) {
        var path = FileSystem.absolute(root)
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        self.root = path
    }

    public var rootURL: String { PercentEncoding.fileURL(path: root) }

    /// Reads from a local disk are fast enough that a thread per read costs more than it saves.
    public var capabilities: StorageCapabilities { StorageCapabilities(readConcurrency: 1) }

    public var location: StorageLocation { .directory(root) }

    /// A temporary file in the root directory, renamed into place on commit: no copy, and the same file system.
    public func stage() throws -> any StagedObject { try LocalStagedObject(storage: self) }

    /// The file that holds `key`.
    public func path(for key: String) -> String { root + "/" + key }

    public func get(_ key: String) throws -> [UInt8] {
        do {
            return try FileSystem.readFile(path(for: key))
        } catch .notFound {
            throw StorageError.notFound(location: path(for: key))
        } catch .notARegularFile {
            // A directory where an object would be is no object (S3 has none there); a FIFO or a device is not a
            // missing object either, and must not be written over as one.
            if FileSystem.isDirectory(path(for: key)) { throw StorageError.notFound(location: path(for: key)) }
            throw FileSystemError.notARegularFile(path: path(for: key))
        }
    }

    public func reader(_ key: String) throws -> any ObjectReader {
        guard case .regular? = FileSystem.kind(ofPath: path(for: key)) else {
            throw StorageError.notFound(location: path(for: key))
        }
        do {
            return LocalObjectReader(file: try InputFile(path: path(for: key)))
        } catch .notFound {
            throw StorageError.notFound(location: path(for: key))
        } catch .notARegularFile {
            throw StorageError.notFound(location: path(for: key))
        }
    }

    public func getPrefix(_ key: String, count: Int) throws -> [UInt8] {
        guard case .regular? = FileSystem.kind(ofPath: path(for: key)) else {
            throw StorageError.notFound(location: path(for: key))
        }
        let file = try InputFile(path: path(for: key))
        var bytes = [UInt8](repeating: 0, count: min(count, file.size))
        try bytes.withUnsafeMutableBytes { try file.readFully(into: $0, at: 0) }
        return bytes
    }

    @discardableResult
    public func put(_ key: String, bytes: [UInt8], condition: WriteCondition) throws -> ObjectInfo {
        try withCondition(key, condition) {
            try FileSystem.writeAtomically(bytes, to: path(for: key))
        }
        if bytes.count > Self.contentETagLimit, let info = try head(key) { return info }
        return ObjectInfo(size: bytes.count, etag: Self.etag(of: bytes))
    }

    @discardableResult
    public func put(_ key: String, contentsOfFile source: String, condition: WriteCondition) throws -> ObjectInfo {
        let input = try InputFile(path: source)
        let destination = path(for: key)
        try withCondition(key, condition) {
            let writer = try AtomicFileWriter(destination: destination)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
            defer { buffer.deallocate() }
            var offset = 0
            while offset < input.size {
                let n = try input.read(into: buffer, at: offset)
                if n == 0 { break }
                try writer.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                offset += n
            }
            try writer.commit()
        }
        guard let info = try head(key) else { throw StorageError.notFound(location: destination) }
        return info
    }

    public func head(_ key: String) throws -> ObjectInfo? {
        let file = path(for: key)
        guard case .regular(let size)? = FileSystem.kind(ofPath: file) else { return nil }
        return ObjectInfo(size: size, etag: try etag(ofFile: file, size: size))
    }

    public func list(prefix: String) throws -> [String] {
        // Walk only the deepest directory the prefix names, not the whole registry.
        let directoryPart = prefix.contains("/") ? FileSystem.parent(of: prefix) : ""
        let start = directoryPart.isEmpty ? root : root + "/" + directoryPart
        var keys: [String] = []
        try walk(start, relative: directoryPart, into: &keys)
        return keys.filter { $0.hasBytePrefix(prefix) }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    private func walk(_ directory: String, relative: String, into keys: inout [String]) throws {
        let names: [String]
        do { names = try FileSystem.contentsOfDirectory(directory) } catch .notFound { return }
        for name in names where !Self.isInternal(name) {
            let full = directory + "/" + name
            let key = relative.isEmpty ? name : relative + "/" + name
            switch FileSystem.kind(ofPath: full) {
            case .directory?: try walk(full, relative: key, into: &keys)
            case .regular?: keys.append(key)
            default: break
            }
        }
    }

    /// Temporary files of atomic writes and lock files are not objects.
    static func isInternal(_ name: String) -> Bool {
        (name.hasPrefix(".") && name.contains(".tmp-")) || name.hasSuffix(".quilt-lock")
    }

    /// Removes the file, then the directories it leaves empty (up to the root), as quilt3's local registry
    /// removes a package's pointer directory and an empty namespace.
    public func delete(_ key: String) throws {
        try FileSystem.removeFile(path(for: key))
        var directory = FileSystem.parent(of: path(for: key))
        while directory.count > root.count && directory.hasBytePrefix(root + "/") {
            guard FileSystem.removeEmptyDirectory(directory) else { break }
            directory = FileSystem.parent(of: directory)
        }
    }

    /// A file is an object's one version, its modification time the version's. The keys are listed as `list`
    /// lists them (held as one sorted array of names, as for `list`); their sizes and times a page at a time.
    public func listVersions(prefix: String, page: ([StoredVersion]) throws -> Void) throws {
        let keys = try list(prefix: prefix)
        var start = 0
        while start < keys.count {
            let end = min(keys.count, start + Self.versionsPerPage)
            var versions: [StoredVersion] = []
            versions.reserveCapacity(end - start)
            for key in keys[start..<end] {
                // A file removed since the listing is no longer a version.
                guard case .regular(let size)? = FileSystem.kind(ofPath: path(for: key)),
                      let modified = FileSystem.modificationTime(path(for: key)) else { continue }
                versions.append(StoredVersion(key: key, versionId: nil, size: size, lastModified: modified, isLatest: true))
            }
            try page(versions)
            start = end
        }
    }

    static let versionsPerPage = 1000

    /// Files are written whole and renamed into place: there are no uploads in parts to leave behind.
    public func listIncompleteUploads(prefix: String) throws -> [IncompleteUpload] { [] }

    public func abortIncompleteUpload(_ upload: IncompleteUpload) throws {}

    public func getWithInfo(_ key: String) throws -> (bytes: [UInt8], info: ObjectInfo) {
        let bytes = try get(key)
        if bytes.count > Self.contentETagLimit, let info = try head(key) { return (bytes, info) }
        return (bytes, ObjectInfo(size: bytes.count, etag: Self.etag(of: bytes)))
    }

    /// Runs `write` with the key locked, after checking `condition`; the lock file (O_EXCL) serialises writers
    /// that use conditions, as git's `<ref>.lock` does.
    private func withCondition(_ key: String, _ condition: WriteCondition, _ write: () throws -> Void) throws {
        if condition == .always {
            try write()
            return
        }
        let file = path(for: key)
        try FileSystem.makeDirectories(FileSystem.parent(of: file))
        let lock = file + ".quilt-lock"
        var attempts = 0
        while !(try FileSystem.createExclusively(lock, contents: Array(String(getpid()).utf8))) {
            // Another writer holds the lock: wait briefly; a lock older than a minute is from a dead process.
            attempts += 1
            if let mtime = FileSystem.modificationTime(lock), WallClock.now() - mtime > 60 {
                try FileSystem.removeFile(lock)
                continue
            }
            if attempts > 500 { throw StorageError.preconditionFailed(location: file) }
            usleep(10_000)
        }
        defer { try? FileSystem.removeFile(lock) }
        let current = try head(key)
        switch condition {
        case .always: break
        case .absent:
            if current != nil { throw StorageError.preconditionFailed(location: file) }
        case .matches(let etag):
            if current?.etag != etag { throw StorageError.preconditionFailed(location: file) }
        }
        try write()
    }

    /// Content-derived, so it changes exactly when the content does (pointers and manifests are small).
    static func etag(of bytes: [UInt8]) -> String {
        Hex.encode(SHA256Hasher.digest(bytes))
    }

    /// Objects up to this size get an ETag from their content; bigger ones from size and modification time.
    static let contentETagLimit = 1 << 20

    private func etag(ofFile path: String, size: Int) throws -> String {
        if size <= Self.contentETagLimit { return Self.etag(of: try FileSystem.readFile(path)) }
        // Big objects: size and modification time, as a cheap stand-in.
        return "\(size)-\(FileSystem.modificationTime(path) ?? 0)"
    }
}

/// A temporary file beside the objects, renamed to its key on commit.
final class LocalStagedObject: StagedObject {
    private let storage: LocalStorage
    private let file: AtomicFileWriter

    init(storage: LocalStorage) throws {
        self.storage = storage
        try FileSystem.makeDirectories(storage.root)
        file = try AtomicFileWriter(destination: storage.path(for: "staged"))
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws { try file.write(bytes) }

    func commit(as key: String) throws -> ObjectInfo {
        try file.commit(as: storage.path(for: key))
        guard let info = try storage.head(key) else { throw StorageError.notFound(location: storage.path(for: key)) }
        return info
    }
}

/// A local file read from its start (up to its size when opened: objects are replaced by rename, never grown).
public final class LocalObjectReader: ObjectReader {
    private let file: InputFile
    private var offset = 0

    public init(file: InputFile) { self.file = file }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let wanted = min(buffer.count, file.size - offset)
        guard wanted > 0 else { return 0 }
        let n = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted]), at: offset)
        if n == 0 { throw FileSystemError.cannotRead(path: file.path, reason: "file shrank while being read") }
        offset += n
        return n
    }
}
