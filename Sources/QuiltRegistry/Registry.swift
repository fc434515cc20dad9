// A registry (registry version 1): manifests under `.quilt/packages/<top-hash>`, pointers under
// `.quilt/named_packages/<ns>/<name>/{<timestamp>,latest}`, over any Storage backend.
import QuiltSupport
import QuiltFormat
import QuiltStorage
#if canImport(Glibc)
import Glibc
#endif

/// What `updateRef` requires of `latest` before moving it.
public enum RefExpectation: Sendable, Equatable {
    /// No check: quilt3's `build` behaviour.
    case any
    /// `latest` must not exist yet.
    case absent
    /// `latest` must hold this top hash.
    case hash(String)
}

/// One registry: the core operations plumbing and porcelain share.
public struct Registry: Sendable {
    public let storage: any Storage
    /// Writes this registry's manifests (and checks the ones it reads), with the record-size limit in force.
    public let writer: ManifestWriter
    /// Memory a manifest's entries may take when they must be sorted (a manifest stored out of tree order), and
    /// where sorted runs go past it.
    public let manifestMemoryBudget: Int
    public let temporaryDirectory: String

    public init(storage: any Storage, writer: ManifestWriter = ManifestWriter(),
                manifestMemoryBudget: Int = EntrySpool.defaultMemoryBudget, temporaryDirectory: String = "/tmp") {
        self.storage = storage
        self.writer = writer
        self.manifestMemoryBudget = manifestMemoryBudget
        self.temporaryDirectory = temporaryDirectory
    }

    public var url: String { storage.rootURL }

    static let packagesPrefix = ".quilt/packages/"
    static let pointersPrefix = ".quilt/named_packages/"

    public static func manifestKey(_ topHash: String) -> String { packagesPrefix + topHash }
    public static func pointerKey(_ name: String, _ pointer: String) -> String { pointersPrefix + name + "/" + pointer }

    // MARK: Manifests

    public func hasManifest(_ topHash: String) throws -> Bool {
        try storage.head(Self.manifestKey(topHash)) != nil
    }

    /// Writes `manifest` at `.quilt/packages/<top-hash>`, streaming it to a staged object first; returns the
    /// top hash. Writing a manifest that is already there is harmless: the name is its content's hash.
    @discardableResult
    public func storeManifest(_ manifest: inout Manifest) throws -> String {
        let staged = try storage.stage()
        let topHash = try writer.write(&manifest) { try staged.write($0) }
        try staged.commit(as: Self.manifestKey(topHash))
        return topHash
    }

    /// Small reads in flight at once, as the backend prefers.
    var readConcurrency: Int { storage.capabilities.readConcurrency }

    /// Every top hash in the registry that starts with `prefix`.
    public func topHashes(withPrefix prefix: String) throws -> [String] {
        try storage.list(prefix: Self.packagesPrefix + prefix).compactMap { key in
            let hash = String(key.dropFirst(Self.packagesPrefix.count))
            return Hex.isTopHash(hash) ? hash : nil
        }
    }

    /// quilt3's `resolve_top_hash`: 64 digits as they are; 6–63 must match exactly one manifest.
    public func resolvePrefix(_ prefix: String) throws -> String {
        // Not hex is a malformed argument (usage), not a hash that happens to match nothing.
        guard prefix.utf8.allSatisfy(Hex.isDigit) else { throw RegistryError.invalidRevision(prefix, reason: "not a hexadecimal hash") }
        if prefix.utf8.count == 64 { return prefix }
        guard prefix.utf8.count >= 6 else { throw RegistryError.invalidRevision(prefix, reason: "a hash needs at least 6 hex digits") }
        let matches = try topHashes(withPrefix: prefix)
        guard !matches.isEmpty else { throw RegistryError.noSuchRevision(prefix) }
        guard matches.count == 1 else { throw RegistryError.ambiguousPrefix(prefix, matches: matches.count) }
        return matches[0]
    }

    /// The shortest prefix of at least 7 digits that is unique in the registry.
    public func shortHash(_ topHash: String) -> String {
        guard let candidates = try? topHashes(withPrefix: String(topHash.prefix(7))), candidates.count > 1 else {
            return String(topHash.prefix(7))
        }
        var length = 7
        while length < 64 {
            let prefix = topHash.prefix(length)
            if candidates.filter({ $0.hasPrefix(prefix) }).count <= 1 { break }
            length += 1
        }
        return String(topHash.prefix(length))
    }

    // MARK: Pointers

    /// Every pointer of `name` (`latest` included) with the hash it holds, in key order; a pointer that holds no
    /// top hash fails the whole call (`corruptPointer`). Readers that show history use `listPointers`.
    public func pointers(_ name: String) throws -> [(pointer: String, topHash: String)] {
        let listing = try listPointers(name)
        if let location = listing.corrupt.first { throw RegistryError.corruptPointer(location) }
        return listing.pointers
    }

    /// A package's pointers as `listPointers` finds them.
    public struct PointerListing: Sendable {
        /// The readable pointers (`latest` included) with the hash each holds, in key order.
        public var pointers: [(pointer: String, topHash: String)]
        /// The keys of pointers that hold no top hash, in key order: the caller warns and goes on, since one
        /// damaged file must not hide the rest of a package's history.
        public var corrupt: [String]
    }

    /// Every pointer of `name`, the corrupt ones apart.
    public func listPointers(_ name: String) throws -> PointerListing {
        let prefix = Self.pointersPrefix + name + "/"
        let keys = try storage.list(prefix: prefix).filter { !$0.dropFirst(prefix.count).contains("/") }
        let hashes = try readPointers(keys)
        var listing = PointerListing(pointers: [], corrupt: [])
        for i in keys.indices {
            guard let hash = hashes[i] else { continue }
            if let hash {
                listing.pointers.append((String(keys[i].dropFirst(prefix.count)), hash))
            } else {
                listing.corrupt.append(keys[i])
            }
        }
        return listing
    }

    /// The pointers at `keys`, read several at a time (one small GET each): by index, the hash each holds, nil
    /// for one that holds no top hash; a key that vanished since it was listed is left out.
    func readPointers(_ keys: [String]) throws -> [Int: String?] {
        let read = Locked<[Int: String?]>([:])
        try TransferPool.run(count: keys.count, maxConcurrency: readConcurrency) { i in
            guard let bytes = try storage.getIfPresent(keys[i]) else { return }
            let hash = try? Self.parsePointer(bytes, location: keys[i])
            read.withLock { $0[i] = .some(hash) }
        }
        return read.value
    }

    /// Timestamp pointers, newest first (numerically), with the hash each holds.
    public func versions(_ name: String) throws -> [(timestamp: String, topHash: String)] {
        Self.versions(of: try pointers(name))
    }

    /// The timestamp pointers among `pointers`, newest first.
    public static func versions(of pointers: [(pointer: String, topHash: String)]) -> [(timestamp: String, topHash: String)] {
        pointers
            .filter { $0.pointer != "latest" }
            .sorted { ($0.pointer.count, $0.pointer) > ($1.pointer.count, $1.pointer) }
            .map { ($0.pointer, $0.topHash) }
    }

    /// The hash `latest` holds, or nil.
    public func latest(_ name: String) throws -> String? {
        guard let bytes = try storage.getIfPresent(Self.pointerKey(name, "latest")) else { return nil }
        return try Self.parsePointer(bytes, location: Self.pointerKey(name, "latest"))
    }

    /// quilt3 writes bare hex; tolerate whitespace a hand edit may have added.
    static func parsePointer(_ bytes: [UInt8], location: String) throws -> String {
        let text = String(decoding: bytes, as: UTF8.self).trimmingWhitespace
        guard Hex.isTopHash(text) else { throw RegistryError.corruptPointer(location) }
        return text
    }

    /// `str(int(time.time()))`.
    public static func currentTimestamp() -> String {
        String(Int(WallClock.now()))
    }

    /// Moves `name` to `topHash`: the timestamp pointer, then `latest` (by compare-and-swap unless `.any`).
    /// Returns the timestamp written.
    @discardableResult
    public func updateRef(_ name: String, to topHash: String, expecting expectation: RefExpectation = .any,
                          timestamp: String = Registry.currentTimestamp()) throws -> String {
        try PackageName.validate(name)
        let hashBytes = Array(topHash.utf8)
        let latestKey = Self.pointerKey(name, "latest")
        var condition = WriteCondition.always
        if expectation != .any {
            let current = try? storage.getWithInfo(latestKey)
            let currentHash = try current.map { try Self.parsePointer($0.bytes, location: latestKey) }
            switch expectation {
            case .any: break
            case .absent:
                if let currentHash { throw RegistryError.refConflict(name: name, expected: "none", actual: currentHash) }
                condition = .absent
            case .hash(let expected):
                guard let currentHash, let current, currentHash == expected else {
                    throw RegistryError.refConflict(name: name, expected: expected, actual: currentHash ?? "none")
                }
                condition = .matches(etag: current.info.etag)
            }
        }
        guard condition != .always else {
            // quilt3's build: plain writes, pointer then latest.
            try storage.put(Self.pointerKey(name, timestamp), bytes: hashBytes, condition: .always)
            try storage.put(latestKey, bytes: hashBytes, condition: .always)
            return timestamp
        }
        // Compare-and-swap: the timestamp pointer is created, never overwritten, so a writer racing in the same
        // second cannot erase another's pointer; on a name already taken this second, wait for the next one.
        var timestamp = timestamp
        var attempts = 0
        while true {
            do {
                try storage.put(Self.pointerKey(name, timestamp), bytes: hashBytes, condition: .absent)
                break
            } catch StorageError.preconditionFailed {
                if try storage.getIfPresent(Self.pointerKey(name, timestamp)) == hashBytes { break }
                attempts += 1
                if attempts > 3 { throw StorageError.preconditionFailed(location: Self.pointerKey(name, timestamp)) }
                usleep(useconds_t(200_000 * attempts))
                timestamp = String(max(Int(Registry.currentTimestamp()) ?? 0, (Int(timestamp) ?? 0) + 1))
            }
        }
        do {
            try storage.put(latestKey, bytes: hashBytes, condition: condition)
        } catch StorageError.preconditionFailed {
            let now = (try? latest(name)) ?? nil
            // A retried write whose first answer was lost finds its own hash already there: that is success.
            if now == topHash { return timestamp }
            // The swap was lost: take back the pointer this attempt created (it still holds our hash: pointers
            // written by compare-and-swap are never overwritten), so nothing moved.
            try? storage.delete(Self.pointerKey(name, timestamp))
            let expected: String
            switch expectation {
            case .hash(let h): expected = h
            default: expected = "none"
            }
            throw RegistryError.refConflict(name: name, expected: expected, actual: now ?? "none")
        }
        return timestamp
    }

    /// quilt3's `delete_package`: with no hash, every pointer of `name`; with a hash (or prefix), the pointers
    /// holding it, re-pointing `latest` at the newest remaining one. Manifests and data stay. Returns the pointers
    /// removed.
    @discardableResult
    public func deletePackage(_ name: String, topHash: String? = nil) throws -> [String] {
        try PackageName.validate(name)
        let all = try pointers(name)
        guard !all.isEmpty else { throw RegistryError.noSuchPackage(name, registry: url) }
        guard let topHash else {
            for pointer in all { try storage.delete(Self.pointerKey(name, pointer.pointer)) }
            return all.map(\.pointer)
        }
        let hash = try resolvePrefix(topHash)
        let deleted = all.filter { $0.topHash == hash }.map(\.pointer)
        let remaining = all.filter { $0.topHash != hash }.map(\.pointer)
        guard !deleted.isEmpty else { throw RegistryError.noSuchRevision(name + "@" + topHash) }
        for pointer in deleted { try storage.delete(Self.pointerKey(name, pointer)) }
        if deleted.contains("latest"), let newest = remaining.max(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            let bytes = try storage.get(Self.pointerKey(name, newest))
            try storage.put(Self.pointerKey(name, "latest"), bytes: bytes, condition: .always)
        }
        return deleted
    }

    /// Package names (`ns/name`), as quilt3's `list_packages`, sorted.
    public func listPackages() throws -> [String] {
        var names: [String] = []
        for key in try storage.list(prefix: Self.pointersPrefix) {
            let parts = key.dropFirst(Self.pointersPrefix.count).split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let name = parts[0] + "/" + parts[1]
            if names.last.map({ !$0.isIdentical(to: String(name)) }) ?? true { names.append(String(name)) }
        }
        return names
    }

    // MARK: Revisions

    /// The top hash a revision names.
    public func resolve(_ revision: Revision) throws -> String {
        switch revision.selector {
        case .hash(let hash):
            return try resolvePrefix(hash)
        case .latest:
            guard let name = revision.name else { throw RegistryError.noSuchRevision(revision.text) }
            guard let hash = try latest(name) else {
                throw RegistryError.noSuchPackage(name, registry: url)
            }
            return hash
        case .pointer(let pointer):
            guard let name = revision.name,
                  let bytes = try storage.getIfPresent(Self.pointerKey(name, pointer)) else {
                throw RegistryError.noSuchRevision(revision.text)
            }
            return try Self.parsePointer(bytes, location: Self.pointerKey(name, pointer))
        }
    }
}
