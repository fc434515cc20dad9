// Walking a local directory as quilt3's `set_dir` does: tree order, .quiltignore, links to files followed.
import QuiltSupport
import QuiltFormat

/// Walks a local directory the way quilt3's `set_dir` does.
public enum DirectoryScanner {
    public struct File: Sendable {
        /// `/`-separated path below the scanned directory: the logical key.
        public var relativePath: String
        /// The file's resolved path: what the physical key names.
        public var realPath: String { resolved ?? directory + "/" + name }
        public var size: Int
        /// The file's identity from the walk's own stat (of the link's target for a link): what a record of
        /// identities compares with, so that an unchanged file need not be opened.
        public var identity: FileIdentity
        /// The path is made only when asked for: a status of unchanged files never opens them, and building
        /// 20,000 paths was a tenth of its walk.
        private let directory: String
        private let name: String
        private let resolved: String?

        init(relativePath: String, directory: String, name: String, resolved: String? = nil, size: Int, identity: FileIdentity) {
            self.relativePath = relativePath
            self.directory = directory
            self.name = name
            self.resolved = resolved
            self.size = size
            self.identity = identity
        }
    }

    /// Every regular file below `directory`, in tree order. A name that is not valid UTF-8 (or encodes a
    /// surrogate) can be no logical key, so it is refused, as quilt3 refuses it: `BuildError.undecodableName`.
    public static func scan(_ directory: String, applyIgnore: Bool = true) throws -> [File] {
        var skipped: [[UInt8]] = []
        let files = try scan(directory, applyIgnore: applyIgnore, skipped: &skipped)
        if let first = skipped.first { throw BuildError.undecodableName(path: first, others: skipped.count - 1) }
        return files
    }

    /// Every regular file below `directory`, in tree order, leaving out what has a name that is not valid UTF-8:
    /// the path of each such file or directory (`directory` as given, then the bytes below it) is appended to
    /// `skipped`.
    public static func scan(_ directory: String, applyIgnore: Bool = true, skipped: inout [[UInt8]]) throws -> [File] {
        var files: [File] = []
        try walk(directory, applyIgnore: applyIgnore, undecodable: { skipped.append($0) }, visit: { files.append($0) })
        return files
    }

    /// `scan` a file at a time: `visit` gets each regular file in tree order as the walk comes to it, so no listing
    /// of the whole tree is ever held (a million files' paths are about 300 MB). Names that are not valid UTF-8
    /// are left out and handed to `undecodable` as shown paths, in the order the walk meets them.
    ///
    /// With `workers` above 0, that many threads beside the caller's list and stat directories (`ParallelWalk`);
    /// `visit` and `undecodable` still run on the calling thread, in the same order, and an error is thrown at the
    /// same place, as in the walk on this thread alone.
    public static func walk(_ directory: String, applyIgnore: Bool = true, workers: Int = 0,
                            undecodable: ([UInt8]) throws -> Void, visit: (File) throws -> Void) throws {
        try walk(directory, applyIgnore: applyIgnore, workers: workers, heldLimit: ParallelWalk.defaultHeldLimit,
                 undecodable: undecodable, visit: visit)
    }

    /// `walk`, with `heldLimit` for `ParallelWalk` (tests make it small).
    static func walk(_ directory: String, applyIgnore: Bool, workers: Int, heldLimit: Int,
                     undecodable: ([UInt8]) throws -> Void, visit: (File) throws -> Void) throws {
        let root: String
        do { root = try FileSystem.realPath(directory) } catch { throw BuildError.notADirectory(directory) }
        guard FileSystem.isDirectory(root) else { throw BuildError.notADirectory(directory) }
        var ignore: QuiltIgnore?
        if applyIgnore, let bytes = try? FileSystem.readFile(root + "/.quiltignore") {
            ignore = QuiltIgnore(text: String(decoding: bytes, as: UTF8.self))
        }
        var shownRoot = Array(directory.utf8)
        while shownRoot.count > 1 && shownRoot.last == UInt8(ascii: "/") { shownRoot.removeLast() }
        if shownRoot == [UInt8(ascii: "/")] { shownRoot = [] }
        let walker = Walker(shownRoot: shownRoot, ignore: ignore)
        let top: DirectoryHandle
        do { top = try DirectoryHandle(path: root) } catch { throw BuildError.unreadable(path: root, reason: error.message) }
        let start = Walker.Directory(opened: top, path: root)
        if workers > 0 {
            try ParallelWalk(walker, workers: workers, heldLimit: heldLimit).walk(start, undecodable: undecodable, visit: visit)
        } else {
            try walker.walk(start, undecodable: undecodable, visit: visit)
        }
    }

    /// Threads beside the caller's that a walk can use: one per other online core.
    public static var spareCores: Int { Cores.online - 1 }

    /// `walk` on another thread, its files handed to `visit` in batches, in tree order: the walk's system calls
    /// (a directory read, a stat per file) overlap with what `visit` does with the files (compare them with a
    /// revision, hash them). What `walk` would throw is thrown here, after the files before it.
    public static func walkAhead(_ directory: String, applyIgnore: Bool = true, undecodable: @escaping @Sendable ([UInt8]) -> Void,
                                 visit: (File) throws -> Void) throws {
        struct Stopped: Error {}
        let files = Prefetcher<[File]>(batchesAhead: 8) { put in
            var batch: [File] = []
            batch.reserveCapacity(1024)
            do {
                try walk(directory, applyIgnore: applyIgnore, undecodable: undecodable) { file in
                    batch.append(file)
                    if batch.count == 1024 {
                        guard put(batch) else { throw Stopped() }  // the reader has gone: walk no further
                        batch.removeAll(keepingCapacity: true)
                    }
                }
            } catch is Stopped {
                return
            }
            if !batch.isEmpty { _ = put(batch) }
        }
        defer { files.cancel() }
        while let batch = try files.next() {
            for file in batch { try visit(file) }
        }
    }

    /// The one walk engine: what a directory holds, in tree order (`entries`), read the same way by the walk on
    /// the calling thread (`walk`) and by the one on several (`ParallelWalk`).
    struct Walker: Sendable {
        /// The directory as the caller named it: skipped paths are shown below it.
        let shownRoot: [UInt8]
        let ignore: QuiltIgnore?

        /// A directory to list: the walk's root, opened already, or a name in its parent, opened when listed (so
        /// that directories waiting their turn hold no descriptor of their own).
        struct Directory: @unchecked Sendable {
            // Unchecked: DirectoryHandle is immutable; its *at calls are thread-safe.
            let parent: DirectoryHandle
            let name: String?
            let path: String
            let relative: String

            init(opened: DirectoryHandle, path: String) {
                parent = opened
                name = nil
                self.path = path
                relative = ""
            }

            init(_ name: String, in parent: DirectoryHandle, path: String, relative: String) {
                self.parent = parent
                self.name = name
                self.path = path
                self.relative = relative
            }
        }

        enum Entry {
            case file(File)
            case directory(Directory)
            /// A name no String can hold, as the shown path to report.
            case undecodable([UInt8])
        }

        /// A directory's entries in the order the walk meets them: its undecodable names, then its files and
        /// subdirectories sorted by name; `failure` is what the walk throws after them.
        struct Listing: @unchecked Sendable {
            // Unchecked: File and Directory are; BuildError is a value.
            var entries: [Entry] = []
            var failure: BuildError?
            var files = 0
        }

        /// The walk on the calling thread: each directory's entries, its subdirectories walked where they fall.
        func walk(_ directory: Directory, undecodable: ([UInt8]) throws -> Void, visit: (File) throws -> Void) throws {
            let listing = entries(of: directory)
            for entry in listing.entries {
                switch entry {
                case .file(let file): try visit(file)
                case .directory(let below): try walk(below, undecodable: undecodable, visit: visit)
                case .undecodable(let path): try undecodable(path)
                }
            }
            if let failure = listing.failure { throw failure }
        }

        /// Visits each directory's children sorted by name, which is the definition of tree order: the files come
        /// out in tree order with no sort of whole paths afterwards.
        /// Each directory is opened once, and its entries looked at relative to it (`fstatat`): no path is walked
        /// again for every file.
        func entries(of directory: Directory) -> Listing {
            var result = Listing()
            let handle: DirectoryHandle
            if let name = directory.name {
                do {
                    handle = try directory.parent.subdirectory(name, create: false)
                } catch .notADirectory, .notFound {
                    return result  // replaced (by a link, or nothing) since it was looked at
                } catch {
                    result.failure = BuildError.unreadable(path: directory.path, reason: error.message)
                    return result
                }
            } else {
                handle = directory.parent
            }
            var listing: (names: [String], undecodable: [[UInt8]])
            do {
                listing = try handle.listing()
            } catch {
                result.failure = BuildError.unreadable(path: directory.path, reason: error.message)
                return result
            }
            let relative = directory.relative
            for path in undecodablePaths(listing.undecodable, in: directory.path, relative: relative) {
                result.entries.append(.undecodable(path))
            }
            LogicalKey.sortNames(&listing.names)
            result.entries.reserveCapacity(result.entries.count + listing.names.count)
            for name in listing.names {
                var path: String { directory.path + "/" + name }
                let key = relative.isEmpty ? name : relative + "/" + name
                guard let (kind, identity) = handle.status(of: name, followLinks: false) else { continue }
                switch kind {
                case .directory:
                    if let ignore, ignore.ignoresDirectory(path) { continue }
                    result.entries.append(.directory(Directory(name, in: handle, path: path, relative: key)))
                case .regular(let size):
                    if let ignore, ignore.ignoresFile(path) { continue }
                    result.entries.append(.file(File(relativePath: key, directory: directory.path, name: name, size: size,
                                                     identity: identity)))
                    result.files += 1
                case .symbolicLink:
                    // Links to files count (at their target); links to directories are not descended, as in quilt3.
                    guard let (target, identity) = handle.status(of: name, followLinks: true),
                          case .regular(let size) = target else { continue }
                    if let ignore, ignore.ignoresFile(path) { continue }
                    let real: String
                    do { real = try FileSystem.realPath(path) } catch { continue }
                    result.entries.append(.file(File(relativePath: key, directory: directory.path, name: name, resolved: real,
                                                     size: size, identity: identity)))
                    result.files += 1
                case .other:
                    continue
                }
            }
            return result
        }

        /// Names no String can hold, so no logical key and no path we can open: what `.quiltignore` leaves out
        /// (matched on the name as best decoded, as a file or a directory, since it cannot even be looked at) is
        /// no loss; the rest are handed over, as shown paths, for the caller to refuse or report.
        func undecodablePaths(_ names: [[UInt8]], in directory: String, relative: String) -> [[UInt8]] {
            names.sorted(by: { $0.lexicographicallyPrecedes($1) }).compactMap { name in
                if let ignore, ignore.ignoresDirectory(directory + "/" + String(decoding: name, as: UTF8.self)) { return nil }
                return shownRoot + Array((relative.isEmpty ? "/" : "/" + relative + "/").utf8) + name
            }
        }
    }
}
