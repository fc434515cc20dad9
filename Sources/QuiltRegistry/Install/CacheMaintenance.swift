// `quilt cache`: what the object cache holds, checking it, and pruning it by age or to a size budget.
import QuiltSupport
import QuiltFormat

/// One object in the cache.
public struct CacheEntry: Sendable {
    public var hashType: String
    /// Lower-case hex of the digest.
    public var digest: String
    public var size: Int
    /// Seconds since the epoch: last installed from (installs set it) or written.
    public var lastUsed: Int
    /// A partial entry (`.<name>.part`: chunks of an object read by range); `size` is then the disk it takes.
    public var partial = false
}

/// What `verify` or `prune` did.
public struct CacheReport: Sendable {
    public var checked = 0
    public var removed: [CacheEntry] = []
    public var removedBytes: Int { removed.reduce(0) { $0 + $1.size } }
    /// Temporary files of killed writers, removed.
    public var temporaryFilesRemoved = 0
}

/// What the cache cannot be asked to do.
public enum CacheError: QuiltError {
    /// A prune with no age, no size and no `cache_max_size`: nothing says what to remove.
    case noPruneLimit

    public var kind: FailureKind { .usage }
    public var message: String {
        switch self {
        case .noPruneLimit: return "a prune needs an age, a size or cache_max_size in config.yml"
        }
    }
}

/// What `quilt cache size` and `list` show.
public struct CacheListing: Sendable {
    /// The cache directory.
    public var root: String
    /// Every entry, least recently used first (then by digest).
    public var entries: [CacheEntry]
    public var bytes: Int { entries.reduce(0) { $0 + $1.size } }
    /// The partial entries, in the same order.
    public var partial: [CacheEntry] = []
    public var partialBytes: Int { partial.reduce(0) { $0 + $1.size } }
}

extension ObjectCache {
    /// A temporary file younger than this may belong to a writer still running.
    static let staleTemporaryAge = 3600

    /// Every entry, in no order; temporary files left out. `includingPartial`: partial entries too (`partial`
    /// set), with the disk their chunks take as their size (a sparse file's size is the object's); one walk either way.
    public func entries(includingPartial: Bool = false) -> [CacheEntry] {
        var found: [CacheEntry] = []
        walk { type, _, shard, name in
            let partial = name.hasPrefix(".")
            guard let rest = partial ? (includingPartial ? PartialObject.entryName(ofFile: name) : nil) : Substring(name),
                  let stamps = shard.fileStamps(of: name) else { return }
            found.append(CacheEntry(hashType: type, digest: FileSystem.baseName(of: shard.path) + rest,
                                    size: partial ? min(stamps.size, stamps.allocated) : stamps.size,
                                    lastUsed: max(stamps.accessed, stamps.modified), partial: partial))
        }
        return found
    }

    /// Calls `body` for every name in every shard directory (with the type and shard directories held).
    private func walk(_ body: (String, DirectoryHandle, DirectoryHandle, String) -> Void) {
        guard let top = try? DirectoryHandle(path: root), let types = try? top.names() else { return }
        for type in types where Self.cachedTypes.contains(where: { $0.rawValue == type }) {
            guard let typed = try? top.subdirectory(type, create: false), let shards = try? typed.names() else { continue }
            for shardName in shards where shardName.utf8.count == 2 {
                guard let shard = try? typed.subdirectory(shardName, create: false), let names = try? shard.names() else { continue }
                for name in names { body(type, typed, shard, name) }
            }
        }
    }

    /// Hashes every entry; one whose bytes do not match its name is removed. Stale temporary files go too.
    public func verify() -> CacheReport {
        var report = removeStaleTemporaryFiles(now: Int(WallClock.now()))
        walk { type, _, shard, name in
            guard !name.hasPrefix("."), let hashType = HashType(rawValue: type),
                  let stamps = shard.fileStamps(of: name) else { return }
            report.checked += 1
            let digest = FileSystem.baseName(of: shard.path) + name
            let actual = (try? shard.openFile(name)).flatMap { try? FileHasher.hash(file: $0, type: hashType) }
            if let actual, let location = Self.location(of: actual), location.shard + location.name == digest {
                // Reading it may have moved its access time (relatime does once a day): checking is not using.
                shard.setAccessTime(of: name, to: stamps.accessed)
                return
            }
            shard.unlink(name)
            report.removed.append(CacheEntry(hashType: type, digest: digest, size: stamps.size,
                                             lastUsed: max(stamps.accessed, stamps.modified)))
        }
        return report
    }

    /// Removes entries unused for `olderThan` seconds, then the least recently used until the cache holds at most
    /// `maxSize` bytes; stale temporary files too. Partial entries count as the disk they take, and go by the same
    /// rules (a reader still writing one keeps its descriptor, and only its chunks are lost).
    public func prune(olderThan: Int? = nil, maxSize: Int? = nil, now: Int = Int(WallClock.now())) -> CacheReport {
        var report = removeStaleTemporaryFiles(now: now)
        var all = entries(includingPartial: true).sorted { $0.lastUsed < $1.lastUsed }
        report.checked = all.count
        var total = all.reduce(0) { $0 + $1.size }
        var keep: [CacheEntry] = []
        for entry in all {
            if let olderThan, now - entry.lastUsed >= olderThan { remove(entry, &report, &total) } else { keep.append(entry) }
        }
        all = keep
        if let maxSize {
            for entry in all where total > maxSize { remove(entry, &report, &total) }
        }
        return report
    }

    private func remove(_ entry: CacheEntry, _ report: inout CacheReport, _ total: inout Int) {
        let rest = String(entry.digest.dropFirst(2))
        let name = entry.partial ? PartialObject.fileName(ofEntry: rest) : rest
        let path = root + "/" + entry.hashType + "/" + String(entry.digest.prefix(2)) + "/" + name
        if (try? FileSystem.removeFile(path)) != nil {
            report.removed.append(entry)
            total -= entry.size
        }
    }

    /// Removes `.tmp-` files left by writers killed an hour ago or more (a younger one may still be written), and
    /// partial entries no chunk was written to for as long (a reader that still holds one keeps its chunks).
    func removeStaleTemporaryFiles(now: Int) -> CacheReport {
        var report = CacheReport()
        walk { _, _, shard, name in
            guard name.hasPrefix("."), name.contains(".tmp-") || Self.isPartialEntry(name), let stamps = shard.fileStamps(of: name),
                  now - stamps.modified >= Self.staleTemporaryAge else { return }
            if shard.unlink(name) { report.temporaryFilesRemoved += 1 }
        }
        return report
    }
}

extension QuiltContext {
    /// The object cache `quilt cache` works on: the one installs use, even when `QUILT_DISABLE_CACHE` keeps
    /// installs from using it.
    public var cache: ObjectCache { objectCache ?? ObjectCache(paths: config.paths) }

    /// Applies `cache_max_size` after an install; a failure to prune is not the install's.
    func applyCacheBudget() {
        guard let objectCache, let budget = cacheMaxSize else { return }
        _ = objectCache.prune(maxSize: budget)
    }

    /// `quilt cache size` and `list`: what the cache holds.
    public func cacheListing() -> CacheListing {
        let order: (CacheEntry, CacheEntry) -> Bool = { ($0.lastUsed, $0.digest) < ($1.lastUsed, $1.digest) }
        let all = cache.entries(includingPartial: true).sorted(by: order)
        return CacheListing(root: cache.root, entries: all.filter { !$0.partial }, partial: all.filter(\.partial))
    }

    /// `quilt cache verify`: every entry hashed, those that do not match removed.
    public func verifyCache() -> CacheReport { cache.verify() }

    /// `quilt cache prune`: entries unused for `olderThan` seconds, then the least recently used down to `maxSize`
    /// bytes; with neither, down to `cache_max_size`; with none of the three, `CacheError.noPruneLimit`.
    public func pruneCache(olderThan: Int?, maxSize: Int?) throws -> CacheReport {
        guard olderThan != nil || maxSize != nil else {
            guard let budget = cacheMaxSize else { throw CacheError.noPruneLimit }
            return cache.prune(maxSize: budget)
        }
        return cache.prune(olderThan: olderThan, maxSize: maxSize)
    }
}
