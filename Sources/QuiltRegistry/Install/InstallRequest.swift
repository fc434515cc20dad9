// `quilt install` and `quilt-fetch-blob` as core calls: which entries, where they land, and recording the
// revision afterwards.
import QuiltSupport
import QuiltFormat

/// What `quilt install` put where.
public struct InstallResult: Sendable {
    public var name: String
    public var topHash: String
    public var destination: String
    public var files: Int
}

extension QuiltContext {
    /// Installs `revision` (it must name a package) from `registryURL` into `destination` (default
    /// `<default_install_location or the local registry>/<ns>/<name>`), only the subtree or file `path` if given,
    /// then records the revision in `recordIn` (default: the local registry) with its original physical keys.
    public func install(_ revision: String, registry registryURL: String?, destination: String?, recordIn: String?,
                        path: String?, progress: ProgressPhases? = nil) throws -> InstallResult {
        // Every argument is checked before anything is read or copied: a bad --dest-registry found after the
        // copy would leave files behind for a revision that was never recorded.
        let rev = try Revision(revision, allowBareHash: false)
        guard let name = rev.name else { throw RegistryError.invalidRevision(revision, reason: "needs a package name") }
        let registry = try registry(registryURL)
        let record = try recordIn.map { try self.registry($0) } ?? localRegistry()
        let root = try destination.map(Self.localDirectory)
            ?? Self.localDirectory(config.defaultInstallLocation ?? config.defaultLocalRegistry) + "/" + name
        let topHash = try registry.resolve(rev)
        var manifest = try registry.loadManifest(topHash)
        let (entries, relative) = try Installer.select(manifest.entries, path: path)
        // The manifest is recorded first: one this registry cannot write (a line over its record limit) is refused
        // before any file is written. Until the ref moves, nothing names it (and its name is its content's hash).
        try record.storeManifest(&manifest)
        try Installer(remote: blobSource, cache: objectCache).materialize(entries, root: root, concurrency: transferConcurrency,
                                                     relativePath: relative, progress: progress?("installing"))
        try record.updateRef(name, to: topHash)
        applyCacheBudget()
        return InstallResult(name: name, topHash: topHash, destination: root, files: entries.count)
    }

    /// Writes each entry's bytes to `root/<logical key>`, verified (`quilt-fetch-blob`).
    public func fetch(_ entries: [ManifestEntry], into root: String) throws {
        try Installer(remote: blobSource, cache: objectCache).materialize(entries, root: root, concurrency: transferConcurrency)
        applyCacheBudget()
    }

    /// A local directory given as a path or a `file://` URL.
    public static func localDirectory(_ text: String) throws -> String {
        if text.hasPrefix("file://") {
            // A file URL with a host (or otherwise malformed) is a destination given wrongly, not bad data.
            guard case .local(let path)? = try? PhysicalKey(url: text) else { throw InstallError.notLocal(text) }
            return path
        }
        if text.contains("://") { throw InstallError.notLocal(text) }
        return FileSystem.absolute(text)
    }
}

extension Installer {
    /// The entries under `path` (a logical key or a directory key), and where each lands relative to the
    /// destination: a single file at its base name, a subtree relative to it.
    public static func select(_ entries: [ManifestEntry], path: String?) throws
        -> ([ManifestEntry], @Sendable (ManifestEntry) -> String) {
        guard var path else { return (entries, { $0.logicalKey }) }
        while path.hasSuffix("/") { path.removeLast() }
        if let single = entries.first(where: { $0.logicalKey.isIdentical(to: path) }) {
            let base = FileSystem.baseName(of: single.logicalKey)
            return ([single], { _ in base })
        }
        let prefix = path + "/"
        let selected = entries.filter { $0.logicalKey.hasBytePrefix(prefix) }
        guard !selected.isEmpty else { throw InstallError.noSuchPath(path) }
        let count = prefix.utf8.count
        return (selected, { String(decoding: $0.logicalKey.utf8.dropFirst(count), as: UTF8.self) })
    }
}
