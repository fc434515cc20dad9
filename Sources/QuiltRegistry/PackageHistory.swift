// A package's history as `quilt log` shows it: its timestamp pointers newest first, each with the header of the
// manifest it holds, and which one latest holds.
import QuiltSupport
import QuiltFormat

/// One revision of a package's history.
public struct PackageRevision: Sendable {
    /// The timestamp pointer's name: seconds since the epoch, as quilt3 writes it.
    public var timestamp: String
    public var topHash: String
    /// Whether `latest` holds this top hash.
    public var isLatest: Bool
    /// The manifest's header line; nil when it cannot be read.
    public var header: JSONObject?
}

extension Registry {
    /// Every timestamp pointer of `name`, newest first (numerically), with the header of each manifest (read
    /// several at a time) and whether `latest` holds it. A pointer that holds no top hash is skipped and handed
    /// to `skipped` (one damaged file must not hide the rest of the history); a package without a readable
    /// pointer is `noSuchPackage`.
    public func history(_ name: String, skipped: (String) -> Void = { _ in }) throws -> [PackageRevision] {
        try PackageName.validate(name)
        let listing = try listPointers(name)
        listing.corrupt.forEach(skipped)
        guard !listing.pointers.isEmpty else { throw RegistryError.noSuchPackage(name, registry: url) }
        let latest = listing.pointers.first { $0.pointer == "latest" }?.topHash
        let versions = Self.versions(of: listing.pointers)
        let headers = manifestHeaders(versions.map(\.topHash))
        return versions.map {
            PackageRevision(timestamp: $0.timestamp, topHash: $0.topHash, isLatest: $0.topHash == latest,
                            header: headers[$0.topHash])
        }
    }

    /// `quilt-update-ref NAME NEW [OLD]`: moves `name` to the manifest `newHash` names (a top hash or a prefix of
    /// one; the manifest must be in the registry) if `latest` holds what `expectation` says, whose `.hash` may be a
    /// prefix too. Returns the timestamp pointer written.
    @discardableResult
    public func updateRef(_ name: String, toPrefix newHash: String, expecting expectation: RefExpectation) throws -> String {
        let topHash = try resolvePrefix(newHash.lowercased())
        guard try hasManifest(topHash) else { throw RegistryError.noSuchManifest(topHash) }
        var resolved = expectation
        if case .hash(let prefix) = expectation { resolved = .hash(try resolvePrefix(prefix.lowercased())) }
        return try updateRef(name, to: topHash, expecting: resolved)
    }
}
