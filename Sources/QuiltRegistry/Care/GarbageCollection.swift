// quilt gc: what no pointer reaches and no kept manifest references, older than an age, listed and then (only
// when asked) deleted: manifests, object versions under the registry's data prefixes, incomplete uploads. The
// references of the kept manifests go into a spool (sorted runs on disk past its budget) under sort keys whose
// order is the listing's byte order, and are merged with the listing as it is paged in, so neither the references
// nor the listing is ever held whole.
import QuiltSupport
import QuiltFormat
import QuiltStorage

/// One thing gc would delete: a version of an object, or a manifest (every version of its key).
public struct GarbageItem: Sendable, Equatable {
    public var key: String
    public var versionId: String?
    public var size: Int
    public var lastModified: Double
    /// The item as a URL (`s3://bucket/key?versionId=…`, `file:///…`).
    public var location: String
}

/// An upload in parts gc would abort.
public struct GarbageUpload: Sendable, Equatable {
    public var key: String
    public var uploadId: String
    /// Seconds since the epoch.
    public var initiated: Double
    /// The upload's key as a URL.
    public var location: String

    var upload: IncompleteUpload { IncompleteUpload(key: key, uploadId: uploadId, initiated: initiated) }
}

/// What gc found to delete. The object versions are kept in a scratch file (a registry may have millions), read
/// back by `forEachObject`.
public final class GarbagePlan: @unchecked Sendable {
    public let registry: String
    public let cutoff: Double
    /// Unreachable manifests, every version of each.
    public internal(set) var manifests: [GarbageItem] = []
    public internal(set) var objectCount = 0
    public internal(set) var objectBytes = 0
    public internal(set) var uploads: [GarbageUpload] = []
    /// Stored manifests kept (reached by a pointer, or younger than the age) and unreachable ones collected.
    public internal(set) var manifestsKept = 0
    public internal(set) var objectVersionsListed = 0
    /// The data prefixes looked in (`ns/name/` of every package; `.quilt/objects/` of a local registry).
    public internal(set) var prefixes: [String] = []
    let objects: ScratchFile
    /// Manifests known when planning (kept and collected), to find those pushed since.
    var knownManifests: Set<String> = []

    init(registry: String, cutoff: Double, temporaryDirectory: String) throws {
        self.registry = registry
        self.cutoff = cutoff
        objects = try ScratchFile(directory: temporaryDirectory)
    }

    public var manifestBytes: Int { manifests.reduce(0) { $0 + $1.size } }
    public var totalBytes: Int { manifestBytes + objectBytes }
    public var isEmpty: Bool { manifests.isEmpty && objectCount == 0 && uploads.isEmpty }

    func add(object: GarbageItem) throws {
        var line: [UInt8] = []
        JSONWriter.writeCanonicalForm(.object(JSONObject([
            ("k", .string(object.key)), ("v", object.versionId.map { .string($0) } ?? .null), ("s", .int(object.size)),
            ("t", .float(object.lastModified)), ("u", .string(object.location)),
        ])), to: &line)
        line.append(0x0A)
        try line.withUnsafeBytes { try objects.append($0) }
        objectCount += 1
        objectBytes += object.size
    }

    /// Every object version to delete, in key order.
    public func forEachObject(_ body: (GarbageItem) throws -> Void) throws {
        var offset = 0
        let reader = LineReader { buffer in
            let n = try self.objects.read(into: buffer, at: offset)
            offset += n
            return n
        }
        while let line = try reader.next() {
            guard case .object(let o) = try JSONParser.parse(line), let key = o["k"]?.stringValue, let size = o["s"]?.intValue,
                  let location = o["u"]?.stringValue else { continue }
            var time = 0.0
            switch o["t"] {
            case .float(let t)?: time = t
            case .integer(let t)?: time = Double(t) ?? 0
            default: break
            }
            try body(GarbageItem(key: key, versionId: o["v"]?.stringValue, size: size, lastModified: time, location: location))
        }
    }
}

/// What `collect` deleted.
public struct GarbageResult: Sendable, Equatable {
    public var manifests = 0
    public var objects = 0
    public var uploads = 0
    public var bytes = 0
    /// Planned items kept after all, because a manifest pushed (or a pointer moved) since the plan names them.
    public var sparedSincePlanned = 0
}

/// quilt gc over one registry.
public struct GarbageCollector: Sendable {
    public let registry: Registry
    let keys: RegistryKeys
    let temporaryDirectory: String

    public init(registry: Registry) throws {
        self.registry = registry
        keys = RegistryKeys(registry)
        temporaryDirectory = registry.temporaryDirectory
    }

    /// Where this registry keeps data that its own manifests reference, as registry-layout(5) says: push (and an
    /// S3 unbundle) put it at `<ns>/<name>/<logical key>`; a local unbundle at `.quilt/objects/`, and the
    /// `<ns>/<name>/` of a local registry is where quilt install puts files for people to use, never garbage.
    func dataPrefixes(packages: [String]) -> [String] {
        switch registry.storage.location {
        case .directory: return [".quilt/objects/"]
        case .bucket: return packages.map { $0 + "/" }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }
    }

    // MARK: Planning

    /// Finds what is unreachable and older than `olderThan` seconds (measured from `now`). Reads every pointer
    /// and every manifest kept; deletes nothing.
    public func plan(olderThan: Double, now: Double = WallClock.now(), progress: ProgressPhases? = nil) throws -> GarbagePlan {
        let cutoff = now - olderThan
        let plan = try GarbagePlan(registry: registry.url, cutoff: cutoff, temporaryDirectory: temporaryDirectory)
        // Pointers: one that cannot be read might name anything, so nothing is collected.
        let pointers = try registry.allPointers(names: nil)
        let corrupt = pointers.filter { $0.topHash == nil }.map(\.key)
        guard corrupt.isEmpty else { throw CareError.corruptPointers(corrupt) }
        let reachable = Set(pointers.compactMap(\.topHash))
        let packages = Array(Set(pointers.map(\.package))).sorted()

        // Manifests, with every version of each (a versioned bucket keeps a version per write).
        var versionsByHash: [String: [StoredVersion]] = [:]
        try registry.storage.listVersions(prefix: Registry.packagesPrefix) { page in
            for version in page {
                let hash = String(version.key.dropFirst(Registry.packagesPrefix.count))
                guard Hex.isTopHash(hash) else { continue }
                versionsByHash[hash, default: []].append(version)
            }
        }
        var kept: [String] = []
        for (hash, versions) in versionsByHash.sorted(by: { $0.key < $1.key }) {
            // A key whose latest version is a delete marker holds no manifest: quilt never writes one there.
            guard versions.contains(where: { $0.isLatest && !$0.isDeleteMarker }) else { continue }
            plan.knownManifests.insert(hash)
            let data = versions.filter { !$0.isDeleteMarker }
            if reachable.contains(hash) || data.contains(where: { $0.lastModified >= cutoff }) {
                kept.append(hash)
            } else {
                for version in data {
                    plan.manifests.append(GarbageItem(key: version.key, versionId: version.versionId, size: version.size,
                                                      lastModified: version.lastModified,
                                                      location: keys.url(version.key, versionId: version.versionId)))
                }
            }
        }
        plan.manifestsKept = kept.count

        // The references of every kept manifest into the data prefixes, sorted (the spool).
        let prefixes = dataPrefixes(packages: packages)
        plan.prefixes = prefixes
        let references = EntrySpool(memoryBudget: registry.manifestMemoryBudget, temporaryDirectory: temporaryDirectory,
                                    maxRecordSize: registry.writer.maxRecordSize, duplicates: .lastWins)
        let reading = progress?("reading manifests")
        for (i, hash) in kept.enumerated() {
            try addReferences(of: hash, prefixes: prefixes, to: references)
            reading?(Progress(filesDone: i + 1, filesTotal: kept.count, bytesDone: 0, bytesTotal: 0))
        }

        // The listing, merged with the references: both in the byte order of keys.
        var sorted = try references.sortedLines()
        var pending: (key: [UInt8], version: String)? = try Self.nextReference(&sorted)
        let listing = progress?("listing objects")
        for prefix in prefixes {
            var currentKey: [UInt8] = []
            var protected: Set<String> = []
            try registry.storage.listVersions(prefix: prefix) { page in
                for version in page {
                    plan.objectVersionsListed += 1
                    let hex = Array(hexKey(version.key).utf8)
                    if hex != currentKey {
                        currentKey = hex
                        protected.removeAll(keepingCapacity: true)
                        while let reference = pending, reference.key.lexicographicallyPrecedes(hex) { pending = try Self.nextReference(&sorted) }
                        while let reference = pending, reference.key == hex {
                            protected.insert(reference.version)
                            pending = try Self.nextReference(&sorted)
                        }
                    }
                    guard !version.isDeleteMarker, version.lastModified < cutoff else { continue }
                    // A reference without a version id names whatever the key holds: every version stays.
                    if protected.contains("") || protected.contains(version.versionId ?? "null") { continue }
                    try plan.add(object: GarbageItem(key: version.key, versionId: version.versionId, size: version.size,
                                                     lastModified: version.lastModified,
                                                     location: keys.url(version.key, versionId: version.versionId)))
                }
                listing?(Progress(filesDone: plan.objectVersionsListed, filesTotal: plan.objectVersionsListed,
                                  bytesDone: plan.objectBytes, bytesTotal: 0))
            }
        }

        // Uploads in parts never finished, below the data prefixes and `.quilt/` (big manifests go up in parts).
        // (A local registry has none: its files are written whole.)
        for prefix in prefixes + [".quilt/"] {
            for upload in try registry.storage.listIncompleteUploads(prefix: prefix) where upload.initiated < cutoff {
                plan.uploads.append(GarbageUpload(key: upload.key, uploadId: upload.uploadId, initiated: upload.initiated,
                                                 location: keys.url(upload.key)))
            }
        }
        return plan
    }

    /// Adds to `spool` one sort key per reference of manifest `hash` into `prefixes`: the key and the version id,
    /// each in hex (so the spool's order is the bytes' order), `.` between them; the same reference twice is kept
    /// once. A manifest that cannot be read stops gc: what it references would be unknown.
    func addReferences(of hash: String, prefixes: [String], to spool: EntrySpool) throws {
        do {
            try registry.readManifest(hash, order: .stored) { manifest in
                while let entry = try manifest.next() {
                    guard let physical = try? PhysicalKey(url: entry.physicalKey), let (key, version) = keys.storageKey(of: physical),
                          Self.isBelow(key, prefixes) else { continue }
                    let sortKey = hexKey(key) + "." + hexKey(version ?? "")
                    try spool.add(ManifestEntry(logicalKey: sortKey, physicalKey: "", size: 0, hash: nil))
                }
            }
        } catch RegistryError.noSuchManifest {
            return  // deleted since it was listed: it references nothing now
        } catch let error as QuiltError where error is ManifestError || error is RegistryError {
            throw CareError.unreadableManifest(topHash: hash, reason: error.message)
        }
    }

    static func isBelow(_ key: String, _ prefixes: [String]) -> Bool {
        // Prefixes are `ns/name/` (or one `.quilt/objects/`): the key's first two components, or a scan of one.
        if prefixes.count > 8 {
            let parts = key.utf8.split(separator: UInt8(ascii: "/"), maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { return false }
            let prefix = String(decoding: parts[0], as: UTF8.self) + "/" + String(decoding: parts[1], as: UTF8.self) + "/"
            return binarySearch(prefixes, prefix)
        }
        return prefixes.contains { key.utf8.starts(with: $0.utf8) }
    }

    private static func binarySearch(_ sorted: [String], _ target: String) -> Bool {
        var low = 0, high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            if sorted[mid] == target { return true }
            if sorted[mid].utf8.lexicographicallyPrecedes(target.utf8) { low = mid + 1 } else { high = mid }
        }
        return false
    }

    /// The next reference of the merge: its key's hex and its version id (empty for none).
    static func nextReference(_ lines: inout EntrySpool.SortedLines) throws -> (key: [UInt8], version: String)? {
        guard let (_, sortKey) = try lines.next() else { return nil }
        let dot = sortKey.firstIndex(of: UInt8(ascii: ".")) ?? sortKey.endIndex
        let version = Hex.decode(String(decoding: UnsafeRawBufferPointer(rebasing: sortKey[(dot + 1)...]), as: UTF8.self)) ?? []
        return (Array(sortKey[..<dot]), String(decoding: version, as: UTF8.self))
    }

    // MARK: Deleting

    /// Deletes what `plan` lists: the manifests first (so an interrupted gc never leaves a manifest whose objects
    /// are gone), then the object versions, then the uploads. Just before, the pointers and manifests are read
    /// again: a manifest pushed since the plan, or one a pointer now names, is kept with what it references.
    public func collect(_ plan: GarbagePlan, progress: ProgressPhases? = nil) throws -> GarbageResult {
        var result = GarbageResult()
        let pointers = try registry.allPointers(names: nil)
        let corrupt = pointers.filter { $0.topHash == nil }.map(\.key)
        guard corrupt.isEmpty else { throw CareError.corruptPointers(corrupt) }
        let reachable = Set(pointers.compactMap(\.topHash))
        let planned = Set(plan.manifests.map { String($0.key.dropFirst(Registry.packagesPrefix.count)) })
        var spare = Set(reachable.intersection(planned))
        for hash in try registry.topHashes(withPrefix: "") where !plan.knownManifests.contains(hash) { spare.insert(hash) }
        // What the spared manifests reference (a few revisions pushed meanwhile: held in memory).
        var protected: Set<String> = []
        if !spare.isEmpty {
            let spool = EntrySpool(memoryBudget: registry.manifestMemoryBudget, temporaryDirectory: temporaryDirectory,
                                   maxRecordSize: registry.writer.maxRecordSize, duplicates: .lastWins)
            for hash in spare.sorted() { try addReferences(of: hash, prefixes: plan.prefixes, to: spool) }
            var lines = try spool.sortedLines()
            while let reference = try Self.nextReference(&lines) {
                protected.insert(String(decoding: reference.key, as: UTF8.self) + "." + reference.version)
            }
        }
        let concurrency = registry.storage.capabilities.readConcurrency
        let storage = registry.storage
        let deleting = progress?("deleting")
        let total = plan.manifests.count + plan.objectCount + plan.uploads.count
        var done = 0
        let manifests = plan.manifests.filter { !spare.contains(String($0.key.dropFirst(Registry.packagesPrefix.count))) }
        result.sparedSincePlanned += plan.manifests.count - manifests.count
        try TransferPool.run(count: manifests.count, maxConcurrency: concurrency) { i in
            try storage.delete(manifests[i].key, versionId: manifests[i].versionId)
        }
        result.manifests = manifests.count
        result.bytes += manifests.reduce(0) { $0 + $1.size }
        done += plan.manifests.count
        deleting?(Progress(filesDone: done, filesTotal: total, bytesDone: result.bytes, bytesTotal: plan.totalBytes))
        var batch: [GarbageItem] = []
        func deleteBatch() throws {
            let items = batch
            try TransferPool.run(count: items.count, maxConcurrency: concurrency) { i in
                try storage.delete(items[i].key, versionId: items[i].versionId)
            }
            result.objects += items.count
            result.bytes += items.reduce(0) { $0 + $1.size }
            done += items.count
            batch.removeAll(keepingCapacity: true)
            deleting?(Progress(filesDone: done, filesTotal: total, bytesDone: result.bytes, bytesTotal: plan.totalBytes))
        }
        try plan.forEachObject { item in
            let reference = hexKey(item.key)
            if protected.contains(reference + ".") || protected.contains(reference + "." + (item.versionId ?? "null")) {
                result.sparedSincePlanned += 1
                done += 1
                return
            }
            batch.append(item)
            if batch.count >= 1000 { try deleteBatch() }
        }
        try deleteBatch()
        for planned in plan.uploads {
            try storage.abortIncompleteUpload(planned.upload)
            result.uploads += 1
        }
        return result
    }
}

extension QuiltContext {
    /// quilt gc of `registry`.
    public func garbageCollector(_ registry: Registry) throws -> GarbageCollector {
        try GarbageCollector(registry: registry)
    }
}
