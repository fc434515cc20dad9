// `quilt rollback`: name an earlier revision again (quilt3's `Package.rollback`), as a new timestamp pointer and
// `latest`, so the history shows the rollback as its newest entry and nothing is lost.
import QuiltSupport
import QuiltFormat
import QuiltStorage

/// What `quilt rollback` did.
public struct RollbackResult: Sendable {
    public var name: String
    public var topHash: String
    public var registry: String
    /// The `latest` it replaced.
    public var previous: String
    /// The timestamp pointer written; nil when the revision already was `latest` (nothing written).
    public var timestamp: String?
}

extension QuiltContext {
    /// Makes `hash` (a top hash or a unique prefix of at least 6 hex digits) the latest revision of `name` in
    /// `registryText` (default: the local registry): a new timestamp pointer, then `latest`. The manifest must be
    /// in the registry and `name` must exist there, as quilt3 checks. In an S3 registry, unless `force`, `latest`
    /// must be a revision this machine knows (push's conflict check: the one it last published or read there, or
    /// the local latest), else exit status 2; `latest` then moves by compare-and-swap, so a rollback that races a
    /// push also exits 2. In a local registry `latest` moves by compare-and-swap against what was read.
    public func rollback(_ name: String, to hash: String, registry registryText: String?, force: Bool) throws -> RollbackResult {
        try PackageName.validate(name)
        let revision = try Revision(name + "@" + hash)
        let registry = try registry(registryText)
        let topHash = try registry.resolve(revision)
        guard let current = try registry.latest(name) else { throw RegistryError.noSuchPackage(name, registry: registry.url) }
        if case .bucket = registry.storage.location {
            try Pusher.checkConflict(name, in: registry.url, remoteLatest: current,
                                     expected: knownRevisions(name, in: registry, local: localRegistry()),
                                     force: force, by: "rollback", trace: trace)
        }
        var result = RollbackResult(name: name, topHash: topHash, registry: registry.url, previous: current, timestamp: nil)
        if current != topHash {
            result.timestamp = try registry.updateRef(name, to: topHash, expecting: force ? .any : .hash(current))
        } else {
            trace?("rollback: \(topHash) already is the latest of \(name); nothing written")
        }
        recordSeen(name, topHash: topHash, in: registry)
        return result
    }
}
