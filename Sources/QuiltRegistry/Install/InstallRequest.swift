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
    /// Installs `revision` with at most one `--path` (see the other `install`).
    public func install(_ revision: String, registry registryURL: String?, destination: String?, recordIn: String?,
                        path: String?, progress: ProgressPhases? = nil) throws -> InstallResult {
        try install(revision, registry: registryURL, destination: destination, recordIn: recordIn,
                    paths: path.map { [$0] } ?? [], progress: progress)
    }

    /// Installs `revision` (it must name a package) from `registryURL` into `destination` (default
    /// `<default_install_location or the local registry>/<ns>/<name>`), only the entries `paths` select if any
    /// (`Installer.Selection`), then records the revision in `recordIn` (default: the local registry) with its
    /// original physical keys, and the directory's install record (`InstallRecord`).
    ///
    /// The manifest is never held whole: a first pass checks it against its name and that every selected key is
    /// safe to write while it writes the record's copy of it (refused, before any file is written, if that
    /// registry cannot take it); a second installs its entries a batch at a time, in tree order.
    public func install(_ revision: String, registry registryURL: String?, destination: String?, recordIn: String?,
                        paths: [String], progress: ProgressPhases? = nil) throws -> InstallResult {
        // Every argument is checked before anything is read or copied: a bad --dest-registry found after the
        // copy would leave files behind for a revision that was never recorded.
        let rev = try Revision(revision, allowBareHash: false)
        guard let name = rev.name else { throw RegistryError.invalidRevision(revision, reason: "needs a package name") }
        // A Quilt+ URI names the registry, and its path= limits the install as one --path does (a --path that
        // names another is refused).
        let registry = try registry(registryURL, for: rev)
        var paths = paths
        if let uriPath = rev.path {
            paths = [try Self.entryPath(rev, given: paths.first { !$0.isIdentical(to: uriPath) }, what: "--path") ?? uriPath]
        }
        let record = try recordIn.map { try self.registry($0) } ?? localRegistry()
        let root = try destination.map(Self.localDirectory)
            ?? Self.localDirectory(config.defaultInstallLocation ?? config.defaultLocalRegistry) + "/" + name
        let topHash = try registry.resolve(rev)
        let selection = Installer.Selection(paths: paths)
        let selected = try copyManifest(topHash, from: registry, to: record, selection: selection)

        let installer = Installer(remote: blobSource, cache: objectCache)
        let report = progress?("installing")
        var batch: [ManifestEntry] = []
        var done = (files: 0, bytes: 0)
        var recordWriter: InstallRecordWriter?
        let place = selection.relativePath
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
            let identities = try installer.materialize(batch, root: root, concurrency: transferConcurrency,
                                                       relativePath: place, progress: handler)
            if recordWriter == nil {
                recordWriter = try installRecords.writer(InstallRecord(
                    directory: try FileSystem.realPath(root), name: name, topHash: topHash, registry: registry.url,
                    manifestRegistry: record.url, paths: selection.paths, selected: selected.entries))
            }
            try recordWriter!.addPlaced(zip(batch, identities).compactMap { entry, identity in
                guard let identity, let hash = entry.hash else { return nil }
                return InstalledFile(path: place(entry), identity: identity, hash: hash)
            })
            done.files += batch.count
            done.bytes += try batch.totalSize()
            batch.removeAll(keepingCapacity: true)
        }
        try registry.readManifest(topHash) { entries in
            // (Started again on a sorted copy only for a manifest out of tree order: files already in place are
            // then found so, not fetched again, and the directory's record is written again from the start.)
            batch.removeAll()
            recordWriter = nil
            while let entry = try entries.next() {
                guard selection.contains(entry) else { continue }
                batch.append(entry)
                if batch.count >= Self.installBatch { try installBatch() }
            }
            try installBatch()
        }
        try record.updateRef(name, to: topHash)
        if let recordWriter {
            // Under the directory's lock, so that a pull or a status refreshing the record is not overwritten
            // halfway (the lock is held only for the rename: installs do not wait on each other's transfers).
            let lock = try installRecords.lock(try FileSystem.realPath(root), wait: true)
            try recordWriter.commit()
            withExtendedLifetime(lock) {}
        }
        // What this machine read there: the revision a push of `name` to that registry now expects.
        recordSeen(name, topHash: topHash, in: registry)
        applyCacheBudget()
        return InstallResult(name: name, topHash: topHash, destination: root, files: selected.files)
    }

    /// The install records of this machine (`<data dir>/installs`).
    public var installRecords: InstallRecords { InstallRecords(paths: config.paths) }

    /// Copies the manifest `topHash` of `registry` into `record` (the registry an install records the revision
    /// in), unchanged, in one pass that checks it against its name and that every entry `selection` takes is safe
    /// to write. A manifest `record` cannot hold (a line over its record limit) is refused here, before any file
    /// is written; so is a path of `selection` that takes no entry. It is committed only once the pass has passed;
    /// until a ref moves, nothing names it (and its name is its content's hash). Returns the selected files, their
    /// bytes, and the selected entries in short for the directory's record (nil if one has no hash).
    func copyManifest(_ topHash: String, from registry: Registry, to record: Registry,
                      selection: Installer.Selection) throws -> (files: Int, bytes: Int, entries: SelectedEntries?) {
        try registry.readManifest(topHash) { manifest -> (files: Int, bytes: Int, entries: SelectedEntries?) in
            var selected = (files: 0, bytes: 0)
            var digest = SelectedEntriesDigest()
            var everyHashKnown = true
            var pathUsed = [Bool](repeating: false, count: selection.paths.count)
            let staged = try record.storage.stage()
            var line: [UInt8] = []
            let written = try record.writer.write(header: manifest.header, directories: manifest.directoryMeta, lines: { emit in
                while let entry = try manifest.next() {
                    if selection.contains(entry) {
                        let place = selection.relativePath(entry)
                        try Installer.checkSafe(place)
                        if let hash = entry.hash { digest.add(place: place, size: entry.size, hash: hash) } else { everyHashKnown = false }
                        selected.files += 1
                        selected.bytes += max(entry.size, 0)
                        if pathUsed.count > 1 { for i in selection.matchingPaths(entry) { pathUsed[i] = true } }
                        else if !pathUsed.isEmpty { pathUsed[0] = true }
                    }
                    line.removeAll(keepingCapacity: true)
                    ManifestLine.appendEntry(entry, to: &line)
                    try line.withUnsafeBytes { try emit($0) }
                }
            }, to: { try staged.write($0) })
            if let unused = pathUsed.firstIndex(of: false) { throw InstallError.noSuchPath(selection.paths[unused]) }
            guard written == topHash else { throw RegistryError.corruptManifest(topHash: topHash, actual: written) }
            try staged.commit(as: Registry.manifestKey(topHash))
            return (selected.files, selected.bytes, everyHashKnown ? digest.finish() : nil)
        }
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
    /// Which entries `quilt install --path` takes, and where each lands relative to the destination.
    ///
    /// Each path is a logical key, a directory key (its subtree) or a pattern (`data/*.csv`, path syntax: `*` stays
    /// within a segment, `**` crosses them; a key that equals the pattern as written is taken too). With one path,
    /// entries land relative to it: the one file at its base name, a subtree relative to the directory, a
    /// pattern's matches relative to the directories it starts with (`data/` for `data/*.csv`). With several, each
    /// entry lands at its logical key, so two entries can never land on one place. No path: every entry, at its key.
    ///
    /// Either way the places keep the tree order of the keys (a common prefix is dropped, or nothing is), which
    /// the merge joins of status and pull rely on.
    public struct Selection: Sendable {
        /// The paths as given, without trailing `/`; empty for everything.
        public let paths: [String]
        private let matchers: [Matcher]

        private struct Matcher: Sendable {
            let key: String
            let prefix: String
            let pattern: GlobPattern?
            /// Where a pattern's matches are placed from (its literal directories).
            let patternDirectory: String

            init(_ path: String) {
                key = path
                prefix = path + "/"
                pattern = GlobPattern.isPattern(path) ? GlobPattern(path, syntax: .path) : nil
                patternDirectory = GlobPattern.literalDirectory(of: path)
            }

            func matches(_ logicalKey: String) -> Bool {
                logicalKey.isIdentical(to: key) || logicalKey.hasBytePrefix(prefix) || (pattern?.matches(logicalKey) ?? false)
            }

            /// Where a key this path matches lands, when it is the only path.
            func place(_ logicalKey: String) -> String {
                if logicalKey.isIdentical(to: key) { return FileSystem.baseName(of: logicalKey) }
                if logicalKey.hasBytePrefix(prefix) { return String(decoding: logicalKey.utf8.dropFirst(prefix.utf8.count), as: UTF8.self) }
                return String(decoding: logicalKey.utf8.dropFirst(patternDirectory.utf8.count), as: UTF8.self)
            }
        }

        public init(paths: [String]) {
            self.paths = paths.map { path in
                var trimmed = path
                while trimmed.hasSuffix("/") { trimmed.removeLast() }
                return trimmed
            }
            matchers = self.paths.map(Matcher.init)
        }

        public init(path: String?) { self.init(paths: path.map { [$0] } ?? []) }

        /// The single path, if exactly one was given.
        public var path: String? { paths.count == 1 ? paths[0] : nil }

        public func contains(_ entry: ManifestEntry) -> Bool { contains(logicalKey: entry.logicalKey) }

        public func contains(logicalKey: String) -> Bool {
            matchers.isEmpty || matchers.contains { $0.matches(logicalKey) }
        }

        /// The indices of the paths that select `entry` (to tell which path selects nothing).
        public func matchingPaths(_ entry: ManifestEntry) -> [Int] {
            matchers.indices.filter { matchers[$0].matches(entry.logicalKey) }
        }

        /// Where a selected entry lands below the destination.
        public var relativePath: @Sendable (ManifestEntry) -> String {
            let place = placeOfKey
            return { place($0.logicalKey) }
        }

        /// `relativePath` by the logical key alone.
        public var placeOfKey: @Sendable (String) -> String {
            guard matchers.count == 1 else { return { $0 } }
            let only = matchers[0]
            return { only.place($0) }
        }
    }
}
