// Helpers of the registry's tests: a stored manifest read whole, the reference diff, a context in a directory.
import QuiltTestSupport
@testable import QuiltFormat
@testable import QuiltRegistry

/// A stored manifest read whole, checked against its name (tests compare with it; the suite itself never holds
/// one).
func loadManifest(_ registry: Registry, _ topHash: String) throws -> Manifest {
    try registry.readManifest(topHash) { stored in
        var entries: [ManifestEntry] = []
        while let entry = try stored.next() { entries.append(entry) }
        return Manifest(header: stored.header, directoryMeta: stored.directoryMeta, entries: entries)
    }
}

/// quilt3's `pkg.diff` on two manifests held whole, as a dictionary of one and a walk of the other: the oracle the
/// streamed diff is checked against.
func referenceDiff(from old: Manifest, to new: Manifest) -> ManifestDiff {
    var newByKey: [String: ManifestEntry] = [:]
    for entry in new.entries { newByKey[entry.logicalKey] = entry }
    var modified: [String] = [], deleted: [String] = []
    var oldKeys = Set<String>()
    for entry in old.entries {
        oldKeys.insert(entry.logicalKey)
        guard let other = newByKey[entry.logicalKey] else { deleted.append(entry.logicalKey); continue }
        if other.size != entry.size || other.hash != entry.hash || other.meta != entry.meta { modified.append(entry.logicalKey) }
    }
    let added = new.entries.map(\.logicalKey).filter { !oldKeys.contains($0) }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    return ManifestDiff(added: added, modified: modified, deleted: deleted)
}

/// A context whose home, data and cache directories are inside `directory`.
func testContext(_ directory: TemporaryDirectory) throws -> QuiltContext {
    try QuiltContext(environment: ["HOME": directory.path, "XDG_DATA_HOME": directory.path + "/data",
                                   "XDG_CACHE_HOME": directory.path + "/cache", "TMPDIR": directory.path])
}
