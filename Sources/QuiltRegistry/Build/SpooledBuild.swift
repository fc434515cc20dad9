// `quilt build NAME DIR` of a whole directory in bounded memory: the directory's files, listed in tree order, are
// hashed a batch at a time straight into a spool, and the manifest is written from it. Builds that edit a
// revision (--from, --set, --rm) or that a workflow's entries schema must see whole use the PackageBuilder.
import QuiltSupport
import QuiltFormat

extension RevisionSpec {
    /// Whether this build is a directory at the root and nothing else, which the spool can take.
    var isWholeLocalDirectory: Bool {
        guard let directory, !directory.hasPrefix("s3://") else { return false }
        return sets.isEmpty && removals.isEmpty
    }

    /// Files hashed per batch: enough to keep every core busy on small files.
    static let hashBatch = 8192

    /// The manifest of a whole-directory build, in a spool: set_dir('.', directory, meta), the workflow's checks
    /// (before any file is read, as quilt3 does), every file hashed, the message set.
    /// Files whose names are not UTF-8 are refused, or, with `skipUndecodableNames`, left out and added to
    /// `skipped`.
    func spooledManifest(workflow: Workflow?, spool: EntrySpool, skipped: inout [[UInt8]],
                         progress: ProgressHandler?) throws -> SpooledManifest {
        guard let directory else { throw BuildError.notADirectory("") }
        try PackageName.validate(name)
        var manifest = SpooledManifest(entries: spool)
        manifest.userMeta = meta ?? .null
        try Workflow.apply(workflow, to: &manifest, name: name, message: message)
        // The walk hands over files as it finds them and they are hashed a batch at a time, so memory holds one
        // batch of paths, not the tree's listing. The progress total is what the walk has found so far.
        var batch: [DirectoryScanner.File] = []
        var found = 0
        var done = (files: 0, bytes: 0)
        var undecodable: [[UInt8]] = []
        func hashBatch() throws {
            guard !batch.isEmpty else { return }
            var batchProgress: ProgressHandler?
            if let progress {
                let before = done, total = found
                batchProgress = { p in
                    progress(Progress(filesDone: before.files + p.filesDone, filesTotal: total,
                                      bytesDone: before.bytes + p.bytesDone, bytesTotal: 0))
                }
            }
            let results = try EntryHasher.hashFiles(batch.map(\.realPath), progress: batchProgress)
            for (file, result) in zip(batch, results) {
                try LogicalKey.validate(file.relativePath)
                try spool.add(ManifestEntry(logicalKey: file.relativePath, physicalKey: PhysicalKey.local(path: file.realPath).url,
                                            size: result.size, hash: result.hash))
                done.bytes += result.size
            }
            done.files += batch.count
            batch.removeAll(keepingCapacity: true)
        }
        try DirectoryScanner.walk(directory, undecodable: { undecodable.append($0) }) { file in
            found += 1
            // Once a name is known to be refused, the rest is only walked, to count the others in the message.
            if !skipUndecodableNames && !undecodable.isEmpty { return }
            batch.append(file)
            if batch.count >= Self.hashBatch { try hashBatch() }
        }
        if !skipUndecodableNames, let first = undecodable.first {
            throw BuildError.undecodableName(path: first, others: undecodable.count - 1)
        }
        skipped += undecodable
        try hashBatch()
        try spool.finish()
        manifest.setMessage(message)
        return manifest
    }
}
