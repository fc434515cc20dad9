// What this machine last saw of a package in a registry, as git's remote-tracking refs record what a fetch or a
// push last saw of a remote branch. quilt3 takes the revision a push expects from the local registry, which a push
// never moves, so its second push of a name conflicts with its own first one (quiltdata/quilt #5188); a record
// moved by every successful push, install and pull ends that, and a push from another machine in between still
// conflicts, since this machine has not seen it.
//
// Layout, in the Quilt data directory (`$XDG_DATA_HOME/Quilt`, beside config.yml and the local registry):
//
//     remotes/<registry URL, percent-encoded>/<ns>/<name>      the 64-hex top hash and a newline
//
// e.g. `remotes/s3%3A%2F%2Fteam-bucket/team/data`. One small file per registry and name, replaced atomically
// (rename), so concurrent writers on one machine never leave half a record: the last one wins, which is what
// the machine last saw. quilt3 neither reads nor writes these files.
import QuiltSupport
import QuiltFormat

public struct RemoteTracking: Sendable {
    /// `<data directory>/remotes`.
    public let root: String

    public init(dataDirectory: String) {
        root = dataDirectory + "/remotes"
    }

    /// The record's file for `name` in the registry at `registryURL`.
    public func path(registry registryURL: String, name: String) -> String {
        root + "/" + PercentEncoding.encode(registryURL) + "/" + name
    }

    /// The revision last published to or read from `registryURL` as `name` on this machine; nil when none (or
    /// the record is unreadable: it is a cache of what was seen, and a push without it falls back to the local
    /// latest, as quilt3 does).
    public func revision(registry registryURL: String, name: String) -> String? {
        guard let bytes = try? FileSystem.readFile(path(registry: registryURL, name: name)) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).trimmingWhitespace
        return Hex.isTopHash(text) ? text : nil
    }

    /// Records that this machine published or read `topHash` as `name` in `registryURL`.
    public func record(registry registryURL: String, name: String, topHash: String) throws {
        try PackageName.validate(name)
        let file = path(registry: registryURL, name: name)
        try FileSystem.makeDirectories(FileSystem.parent(of: file))
        try FileSystem.writeAtomically(Array((topHash + "\n").utf8), to: file)
    }
}

extension QuiltContext {
    /// This machine's remote-tracking records.
    public var remoteTracking: RemoteTracking { RemoteTracking(dataDirectory: config.paths.dataDirectory) }

    /// Records that `topHash` of `name` was read from (installed, pulled) or published to `registry`, so that
    /// the next push there expects it. The local registry itself is never tracked: its `latest` is what it is.
    /// A failure to record is traced, never an error: the revision was published or read all the same.
    public func recordSeen(_ name: String, topHash: String, in registry: Registry) {
        guard registry.url != (try? localRegistry().url) else { return }
        do {
            try remoteTracking.record(registry: registry.url, name: name, topHash: topHash)
            trace?("remote-tracking: \(name) in \(registry.url) is \(topHash)")
        } catch {
            trace?("remote-tracking: cannot record \(name) in \(registry.url): \((error as? QuiltError)?.message ?? "\(error)")")
        }
    }

    /// The revisions of `name` this machine knows `registry` may hold as `latest` without anyone else having
    /// moved it: the one it last published or read there, and the local registry's latest (what quilt3 expects,
    /// and what a quilt3 install records). Nil entries are left out.
    func knownRevisions(_ name: String, in registry: Registry, local: Registry) throws -> [KnownRevision] {
        var known: [KnownRevision] = []
        if let tracked = remoteTracking.revision(registry: registry.url, name: name) {
            known.append(KnownRevision(tracked, source: "last published or read here"))
        }
        if let localLatest = try local.latest(name), !known.contains(where: { $0.hash == localLatest }) {
            known.append(KnownRevision(localLatest, source: "the local latest"))
        }
        return known
    }
}
