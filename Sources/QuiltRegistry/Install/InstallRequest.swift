// `quilt install` and `quilt-fetch-blob` as core calls: which entries, where they land, and recording the
// revision afterwards.
import QuiltSupport
import QuiltFormat
import QuiltStorage

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
    ///
    /// The manifest is never held whole: a first pass checks it against its name and that every selected key is
    /// safe to write while it writes the record's copy of it (refused, before any file is written, if that
    /// registry cannot take it); a second installs its entries a batch at a time, in tree order.
    public func install(_ revision: String, registry registryURL: String?, destination: String?, recordIn: String?,
                        path: String?, progress: ProgressPhases? = nil) throws -> InstallResult {
        // Every argument is checked before anything is read or copied: a bad --dest-registry found after the
        // copy would leave files behind for a revision that was never recorded.
        let rev = try Revision(revision, allowBareHash: false)
        guard let name = rev.name else { throw RegistryError.invalidRevision(revision, reason: "needs a package name") }
        // A Quilt+ URI names the registry, and its path= limits the install as --path does.
        let registry = try registry(registryURL, for: rev)
        let path = try Self.entryPath(rev, given: path, what: "--path")
        let record = try recordIn.map { try self.registry($0) } ?? localRegistry()
        let root = try destination.map(Self.localDirectory)
            ?? Self.localDirectory(config.defaultInstallLocation ?? config.defaultLocalRegistry) + "/" + name
        let topHash = try registry.resolve(rev)
        let selection = Installer.Selection(path: path)

        // One pass checks the manifest against its name and every selected key is safe to write, and writes the
        // record's copy of it to a staged object: one this registry cannot write (a line over its record limit)
        // is refused before any file is written. It is committed only once the pass has passed; until the ref
        // moves, nothing names it (and its name is its content's hash).
        let selected = try registry.readManifest(topHash) { manifest -> (files: Int, bytes: Int) in
            var selected = (files: 0, bytes: 0)
            let staged = try record.storage.stage()
            var line: [UInt8] = []
            let written = try record.writer.write(header: manifest.header, directories: manifest.directoryMeta, lines: { emit in
                while let entry = try manifest.next() {
                    if selection.contains(entry) {
                        try Installer.checkSafe(selection.relativePath(entry))
                        selected.files += 1
                        selected.bytes += max(entry.size, 0)
                    }
                    line.removeAll(keepingCapacity: true)
                    ManifestLine.appendEntry(entry, to: &line)
                    try line.withUnsafeBytes { try emit($0) }
                }
            }, to: { try staged.write($0) })
            if let path = selection.path, selected.files == 0 { throw InstallError.noSuchPath(path) }
            guard written == topHash else { throw RegistryError.corruptManifest(topHash: topHash, actual: written) }
            try staged.commit(as: Registry.manifestKey(topHash))
            return selected
        }

        let installer = Installer(remote: blobSource, cache: objectCache)
        let report = progress?("installing")
        var batch: [ManifestEntry] = []
        var done = (files: 0, bytes: 0)
        func installBatch() throws {
            guard !batch.isEmpty else { return }
            var handler: ProgressHandler?
            if let report {
                let before = done, total = selected
                handler = { p in
                    report(Progress(filesDone: before.files + p.filesDone, filesTotal: total.files,
                                    bytesDone: before.bytes + p.bytesDone, bytesTotal: total.bytes))
                }
            }
            try installer.materialize(batch, root: root, concurrency: transferConcurrency,
                                      relativePath: selection.relativePath, progress: handler)
            done.files += batch.count
            done.bytes += try batch.totalSize()
            batch.removeAll(keepingCapacity: true)
        }
        try registry.readManifest(topHash) { entries in
            // (Started again on a sorted copy only for a manifest out of tree order: files already in place are
            // then found so, not fetched again.)
            batch.removeAll()
            while let entry = try entries.next() {
                guard selection.contains(entry) else { continue }
                batch.append(entry)
                if batch.count >= Self.installBatch { try installBatch() }
            }
            try installBatch()
        }
        try record.updateRef(name, to: topHash)
        // What this machine read there: the revision a push of `name` to that registry now expects.
        recordSeen(name, topHash: topHash, in: registry)
        applyCacheBudget()
        return InstallResult(name: name, topHash: topHash, destination: root, files: selected.files)
    }

    /// Files installed (or fetched) per call of the installer: enough to keep every transfer busy.
    static let installBatch = 4096

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
    /// Which entries `quilt install --path` takes, and where each lands relative to the destination: `path` a
    /// logical key (that one file, at its base name) or a directory key (its subtree, relative to it); nil: all.
    public struct Selection: Sendable {
        /// The path without trailing `/`; nil for everything.
        public let path: String?
        private let prefix: String

        public init(path: String?) {
            var trimmed = path
            while trimmed?.hasSuffix("/") == true { trimmed?.removeLast() }
            self.path = trimmed
            prefix = (trimmed ?? "") + "/"
        }

        public func contains(_ entry: ManifestEntry) -> Bool {
            guard let path else { return true }
            return entry.logicalKey.isIdentical(to: path) || entry.logicalKey.hasBytePrefix(prefix)
        }

        /// Where a selected entry lands below the destination.
        public var relativePath: @Sendable (ManifestEntry) -> String {
            guard let path else { return { $0.logicalKey } }
            let count = prefix.utf8.count
            return { entry in
                entry.logicalKey.isIdentical(to: path) ? FileSystem.baseName(of: entry.logicalKey)
                    : String(decoding: entry.logicalKey.utf8.dropFirst(count), as: UTF8.self)
            }
        }
    }
}
