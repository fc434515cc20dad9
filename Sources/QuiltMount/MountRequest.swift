// The core call of `quilt mount`: a revision (any form, a Quilt+ URI too) resolved in its registry, its tree
// from the shared revision index (built on first use, then kept under the cache directory), its time, and an
// entry reader with this process's object cache and S3 client.
import QuiltSupport
import QuiltFormat
import QuiltRegistry

extension QuiltContext {
    /// `revision` of `registry` (or the URI's) ready to be served; a URI's path names the directory mounted.
    public func mountedRevision(_ revision: String, registry registryURL: String?,
                                report: @escaping @Sendable (String) -> Void) throws -> MountedRevision {
        let rev = try Revision(revision)
        let registry = try registry(registryURL, for: rev)
        let topHash = try registry.resolve(rev)
        let index = try revisionIndex(registry, topHash: topHash)
        var rootID = RevisionIndex.rootID
        if let path = rev.path, !path.isEmpty, path != "/" {
            guard let node = index.lookup(path) else { throw ReadError.noSuchKey(path) }
            guard node.isDirectory else { throw MountError.notADirectory(path) }
            rootID = node.id
        }
        return MountedRevision(index: index, rootID: rootID, time: Self.revisionTime(rev, topHash, in: registry),
                               description: (rev.name ?? "") + "@" + topHash.prefix(12), reader: entryReader, report: report)
    }

    /// When the revision was made, as its timestamp pointer says: the pointer named, else the newest pointer of
    /// the package that holds this top hash. A bare top hash, or one no pointer holds, has no date in the
    /// registry: then now.
    static func revisionTime(_ revision: Revision, _ topHash: String, in registry: Registry) -> Int {
        if case .pointer(let pointer) = revision.selector, let seconds = Int(pointer) { return seconds }
        if let name = revision.name, let versions = try? registry.versions(name),
           let found = versions.first(where: { $0.topHash == topHash }), let seconds = Int(found.timestamp) {
            return seconds
        }
        return Int(WallClock.now())
    }
}
