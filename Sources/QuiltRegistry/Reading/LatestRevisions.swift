// Every package of a registry with the revision `latest` names and when it was made: what a list of packages shows
// (the browser's first page), from one listing of the pointers and two small reads per package.
import QuiltSupport
import QuiltFormat
import QuiltStorage

/// A package and its latest revision.
public struct LatestRevision: Sendable, Equatable {
    public var name: String
    /// What `latest` holds; without a readable `latest`, what its newest readable timestamp pointer holds; nil
    /// when neither is there.
    public var topHash: String?
    /// The timestamp pointer holding that hash (the newest such), if one does: when the revision was made.
    public var timestamp: String?
    /// Its timestamp pointers.
    public var revisions: Int
}

extension Registry {
    /// Every package (sorted by name, as `listPackages`) with its latest revision. One listing of the pointers;
    /// per package, `latest` and then its timestamp pointers newest first until one holds the same hash (nearly
    /// always the first), several packages at a time. A pointer that holds no top hash is passed over.
    public func latestRevisions() throws -> [LatestRevision] {
        var timestamps: [String: [String]] = [:]
        var names: [String] = []
        for key in try storage.list(prefix: Self.pointersPrefix) {
            let parts = key.dropFirst(Self.pointersPrefix.count).split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 3, !parts[2].isEmpty else { continue }
            let name = parts[0] + "/" + parts[1]
            guard (try? PackageName.validate(String(name))) != nil else { continue }
            if timestamps[String(name)] == nil { names.append(String(name)) }
            if parts[2] != "latest" { timestamps[String(name), default: []].append(String(parts[2])) }
        }
        names.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let sortedNames = names, pointerTimestamps = timestamps
        let found = Locked<[String: LatestRevision]>([:])
        try TransferPool.run(count: sortedNames.count, maxConcurrency: readConcurrency) { i in
            let name = sortedNames[i]
            let newestFirst = Self.versions(of: (pointerTimestamps[name] ?? []).map { ($0, "") }).map(\.timestamp)
            var revision = LatestRevision(name: name, topHash: (try? latest(name)) ?? nil, timestamp: nil, revisions: newestFirst.count)
            for timestamp in newestFirst {
                guard let bytes = try? storage.getIfPresent(Self.pointerKey(name, timestamp)),
                      let hash = try? Self.parsePointer(bytes, location: Self.pointerKey(name, timestamp)) else { continue }
                if revision.topHash == nil { revision.topHash = hash }
                if hash == revision.topHash {
                    revision.timestamp = timestamp
                    break
                }
            }
            found.withLock { $0[name] = revision }
        }
        let byName = found.value
        return names.compactMap { byName[$0] }
    }
}
