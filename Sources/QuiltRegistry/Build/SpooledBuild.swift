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
        var files = skipUndecodableNames ? try DirectoryScanner.scan(directory, skipped: &skipped)
            : try DirectoryScanner.scan(directory)
        try Workflow.apply(workflow, to: &manifest, name: name, message: message)
        let total = files.count
        var done = (files: 0, bytes: 0)
        var start = 0
        while start < files.count {
            let end = min(start + Self.hashBatch, files.count)
            var batchProgress: ProgressHandler?
            if let progress {
                let before = done
                batchProgress = { p in
                    progress(Progress(filesDone: before.files + p.filesDone, filesTotal: total,
                                      bytesDone: before.bytes + p.bytesDone, bytesTotal: 0))
                }
            }
            let results = try EntryHasher.hashFiles(files[start..<end].map(\.realPath), progress: batchProgress)
            for (i, result) in zip(start..<end, results) {
                try LogicalKey.validate(files[i].relativePath)
                try spool.add(ManifestEntry(logicalKey: files[i].relativePath,
                                            physicalKey: PhysicalKey.local(path: files[i].realPath).url,
                                            size: result.size, hash: result.hash))
                done.bytes += result.size
                // The listing's strings are let go as their entries go into the spool.
                files[i] = DirectoryScanner.File(relativePath: "", realPath: "", size: 0)
            }
            done.files += end - start
            start = end
        }
        try spool.finish()
        manifest.setMessage(message)
        return manifest
    }
}
