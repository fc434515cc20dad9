// `quilt pull`: an installed directory brought to another revision (the registry's latest by default), writing
// only what changed. Four passes, each a merge join in tree order of places, so nothing is held but the local
// changes: the directory against its revision (status, which also learns every file's bytes), the plan (which
// files already hold the new bytes, which local changes would be lost), the removals, then the downloads and
// the new record.
import QuiltSupport
import QuiltFormat

/// What `quilt pull` did.
public struct PullResult: Sendable {
    /// The directory's record now.
    public var record: InstallRecord
    /// The revision the directory held before.
    public var previousTopHash: String
    /// Files written (downloaded, or copied from the cache or a local registry).
    public var written: Int
    /// Files removed: the new revision does not have them.
    public var removed: Int
    /// Files left as they were: they already held the new revision's bytes.
    public var kept: Int
    /// The directory already held the revision: nothing was read or written.
    public var upToDate: Bool
}

extension QuiltContext {
    /// Brings the installed directory `directory` (or the nearest one above it with an install record) to
    /// `revision` (a revision of the installed package, a top hash, or a Quilt+ URI, which names the registry too;
    /// default: `latest` of the registry it was installed from, or of `registryURL`). Only files whose bytes differ from the new entry are written (the
    /// object cache first); files the new revision does not have are removed; the rest are left alone.
    ///
    /// Local changes that the pull would overwrite or remove — a modified or deleted file (as `status` says),
    /// or a file the installed revision does not have where the new one has an entry — stop it before anything
    /// changes (`InstallError.localChanges`), unless `force`; a change that already matches the new revision is
    /// none (so a pull interrupted halfway can be run again). Files the new revision does not have and that are
    /// not the installed revision's are never touched. The revision is then this machine's remote-tracking record
    /// of the name in the registry read (`recordSeen`), as after an install.
    public func pull(_ directory: String, revision: String?, registry registryURL: String?, force: Bool,
                     progress: ProgressPhases? = nil) throws -> PullResult {
        let revisionArgument = try revision.map { try Revision($0, allowBareHash: true) }
        // The install's selection stays: a URI's path= would be a second one.
        try revisionArgument?.requireNoPath()
        guard let found = try installRecords.find(directory) else { throw InstallError.notInstalled(directory) }
        let old = found.record
        if let name = revisionArgument?.name, name != old.name {
            throw InstallError.otherPackage(installed: old.name, requested: revisionArgument!.text)
        }
        guard let lock = try installRecords.lock(old.directory, wait: false) else { throw InstallError.busy(old.directory) }
        defer { withExtendedLifetime(lock) {} }
        // A Quilt+ URI names the registry to read (with a --registry, the same one); else --registry, else the
        // registry installed from.
        let source = try revisionArgument.flatMap { $0.registry == nil ? nil : try registry(registryURL, for: $0) }
            ?? registryURL.map { try self.registry($0) } ?? registry(RegistryLocation(old.registry))
        let target: String
        if let revisionArgument {
            target = try source.resolve(revisionArgument)
        } else {
            guard let latest = try source.latest(old.name) else { throw RegistryError.noSuchPackage(old.name, registry: source.url) }
            target = latest
        }
        var new = InstallRecord(directory: old.directory, name: old.name, topHash: target, registry: source.url,
                                manifestRegistry: old.manifestRegistry, paths: old.paths)
        guard target != old.topHash else {
            // What this machine read there, as install records it: the revision a push of the name now expects.
            recordSeen(old.name, topHash: target, in: source)
            return PullResult(record: old, previousTopHash: old.topHash, written: 0, removed: 0, kept: 0, upToDate: true)
        }
        let manifests = try registry(RegistryLocation(old.manifestRegistry))
        let selection = old.selection
        let selected = try copyManifest(target, from: source, to: manifests, selection: selection)
        new.selected = selected.entries

        // 1. The directory against the installed revision; every file whose bytes are known gets a line in
        //    `learnt` (never committed: read twice below).
        let checking = progress?("checking")
        let (status, learnt) = try manifests.readManifest(old.topHash) { entries in
            guard let known = try installRecords.open(directory: old.directory), known.record == old else {
                throw InstallError.busy(old.directory)
            }
            let learnt = try installRecords.writer(old)
            let report = try VerifyReport.compare(entries, directory: old.directory, selection: selection, known: known,
                                                  record: { line, _ in try learnt.add(line) }, progress: checking)
            return (report, learnt)
        }

        // 2. The plan: which places already hold the new bytes (`keep`, lines of the new record), and which local
        //    changes would be lost.
        let (plan, keep) = try manifests.readManifests([old.topHash, target]) { both in
            let keep = try installRecords.writer(new)
            let plan = try PullPlan.make(old: both[0], new: both[1], selection: selection, status: status,
                                         learnt: learnt.readBack(), directory: old.directory, keep: keep)
            return (plan, keep)
        }
        if !plan.conflicts.isEmpty && !force {
            throw InstallError.localChanges(directory: old.directory, paths: plan.conflicts)
        }

        // 3. Removals first (a file may give way to a directory of the same name), then what is to be written.
        let root = try DirectoryHandle(path: old.directory)
        let removed = try manifests.readManifests([old.topHash, target]) { both in
            try PullPlan.remove(old: both[0], new: both[1], selection: selection, root: root)
        }
        var next = try installRecords.writer(new)
        let installer = Installer(remote: blobSource, cache: objectCache)
        let writing = progress?("installing")
        let place = selection.relativePath
        var written = 0, kept = 0
        try manifests.readManifest(target) { entries in
            let kept0 = try keep.readBack()
            next = try installRecords.writer(new)
            var batch: [ManifestEntry] = []
            // Lines of the record in tree order: kept files' at once, written files' once their batch is done.
            var lines: [InstalledFile?] = []
            var slots: [Int] = []
            written = 0
            kept = 0
            func flush() throws {
                if !batch.isEmpty {
                    var handler: ProgressHandler?
                    if let writing {
                        let before = written, total = plan.toWrite
                        handler = { p in
                            writing(Progress(filesDone: before + p.filesDone, filesTotal: total, bytesDone: p.bytesDone,
                                             bytesTotal: 0))
                        }
                    }
                    let identities = try installer.materialize(batch, root: old.directory, concurrency: transferConcurrency,
                                                               relativePath: place, progress: handler)
                    var placed: [InstalledFile] = []
                    for (n, identity) in identities.enumerated() {
                        guard let identity, let hash = batch[n].hash else { continue }
                        placed.append(InstalledFile(path: place(batch[n]), identity: identity, hash: hash))
                    }
                    // Proven as install proves them (one wait for the clock per batch), then put in their slots.
                    let proven = InstallRecordWriter.proven(placed)
                    var byPath: [String: InstalledFile] = [:]
                    for file in proven { byPath[file.path] = file }
                    for (n, slot) in slots.enumerated() { lines[slot] = byPath[place(batch[n])] }
                    written += batch.count
                    batch.removeAll(keepingCapacity: true)
                    slots.removeAll(keepingCapacity: true)
                }
                for line in lines { if let line { try next.add(line) } }
                lines.removeAll(keepingCapacity: true)
            }
            while let entry = try entries.next() {
                guard selection.contains(entry), let hash = entry.hash else { continue }
                let at = place(entry)
                if let line = try kept0.line(for: at), line.hash == hash {
                    lines.append(line)
                    kept += 1
                } else {
                    slots.append(lines.count)
                    lines.append(nil)
                    batch.append(entry)
                    if batch.count >= Self.installBatch { try flush() }
                }
                if lines.count >= 4 * Self.installBatch { try flush() }
            }
            try flush()
        }
        try manifests.updateRef(new.name, to: target)
        try next.commit()
        recordSeen(new.name, topHash: target, in: source)
        applyCacheBudget()
        _ = selected.files
        return PullResult(record: new, previousTopHash: old.topHash, written: written, removed: removed, kept: kept,
                          upToDate: false)
    }
}

/// The plan and the removals of a pull, as merge joins of the old and new revisions' selected entries by place.
enum PullPlan {
    struct Plan {
        /// Places whose local changes the pull would overwrite or remove, in tree order.
        var conflicts: [String] = []
        /// Entries of the new revision to be written.
        var toWrite = 0
    }

    /// A revision's entries that `selection` takes, with their places, in tree order.
    struct Placed {
        let manifest: StoredManifest
        let selection: Installer.Selection
        let place: @Sendable (ManifestEntry) -> String
        var current: (entry: ManifestEntry, place: String)?

        init(_ manifest: StoredManifest, _ selection: Installer.Selection) throws {
            self.manifest = manifest
            self.selection = selection
            place = selection.relativePath
            try advance()
        }

        mutating func advance() throws {
            while let entry = try manifest.next() {
                if selection.contains(entry) {
                    current = (entry, place(entry))
                    return
                }
            }
            current = nil
        }
    }

    /// Steps through both revisions' places together: `body` gets each place with the old and the new entry there.
    static func merge(_ old: StoredManifest, _ new: StoredManifest, selection: Installer.Selection,
                      _ body: (String, ManifestEntry?, ManifestEntry?) throws -> Void) throws {
        var a = try Placed(old, selection), b = try Placed(new, selection)
        while true {
            switch (a.current, b.current) {
            case (nil, nil):
                return
            case (let x?, let y?) where x.place.isIdentical(to: y.place):
                try body(x.place, x.entry, y.entry)
                try a.advance()
                try b.advance()
            case (let x?, let y) where y == nil || LogicalKey.precedes(x.place, y!.place):
                try body(x.place, x.entry, nil)
                try a.advance()
            case (_, let y?):
                try body(y.place, nil, y.entry)
                try b.advance()
            default:
                return
            }
        }
    }

    /// Decides each place: a file that already holds the new entry's bytes is kept (its line goes to `keep`);
    /// a local change the pull would lose is a conflict. `learnt` is the directory's record as status refreshed
    /// it, so every file of the old revision whose bytes are known has a line.
    static func make(old: StoredManifest, new: StoredManifest, selection: Installer.Selection, status: VerifyReport,
                     learnt: InstallRecordReader, directory: String, keep: InstallRecordWriter) throws -> Plan {
        var plan = Plan()
        let modified = Set(status.modified), deleted = Set(status.missing), added = Set(status.extra)
        /// The file at `place` now, if it holds exactly `entry`'s bytes (hashed now).
        func holds(_ place: String, _ entry: ManifestEntry) throws -> InstalledFile? {
            guard let hash = entry.hash, let type = hash.hashType,
                  case .regular(let size)? = FileSystem.kind(ofPath: directory + "/" + place, followLinks: false),
                  size == entry.size else { return nil }
            let result = try EntryHasher.hashFiles([directory + "/" + place], type: type)[0]
            guard result.hash.value == hash.value else { return nil }
            return InstalledFile(path: place, identity: result.identity, hash: result.hash)
        }
        try merge(old, new, selection: selection) { place, before, after in
            let line = try learnt.line(for: place)
            guard let after else {
                // Gone from the new revision: removed, unless changed here (and already gone is fine).
                if modified.contains(place) { plan.conflicts.append(place) }
                return
            }
            if let line, let hash = after.hash, line.hash == hash {
                try keep.add(line)
                return
            }
            plan.toWrite += 1
            let changedHere = before == nil ? added.contains(place) : (modified.contains(place) || deleted.contains(place))
            guard changedHere else { return }
            if before != nil && deleted.contains(place) {
                plan.conflicts.append(place)
            } else if let same = try holds(place, after) {
                // Changed here into exactly the new bytes (or a pull interrupted after writing it).
                plan.toWrite -= 1
                try keep.add(same)
            } else {
                plan.conflicts.append(place)
            }
        }
        return plan
    }

    /// Removes the files of the old revision that the new one does not have (regular files only, through the
    /// held directory, never following a link), and the directories that leaves empty. Returns how many.
    static func remove(old: StoredManifest, new: StoredManifest, selection: Installer.Selection,
                       root: DirectoryHandle) throws -> Int {
        var removed = 0
        try merge(old, new, selection: selection) { place, before, after in
            guard before != nil, after == nil else { return }
            if Installer.removeFile(root: root, relativePath: place) { removed += 1 }
        }
        return removed
    }
}

extension Installer {
    /// Removes the regular file at `relativePath` below `root` (directories opened one at a time from `root`, never
    /// through a link), then each directory on the way that is left empty. False if there was no such file.
    static func removeFile(root: DirectoryHandle, relativePath: String) -> Bool {
        let parts = relativePath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var chain: [DirectoryHandle] = [root]
        for part in parts.dropLast() {
            guard let next = try? chain.last!.subdirectory(part, create: false) else { return false }
            chain.append(next)
        }
        guard case .regular? = chain.last!.kind(of: parts.last!), chain.last!.unlink(parts.last!) else { return false }
        for depth in stride(from: chain.count - 1, to: 0, by: -1) {
            guard chain[depth - 1].removeEmptyDirectory(parts[depth - 1]) else { break }
        }
        return true
    }
}
