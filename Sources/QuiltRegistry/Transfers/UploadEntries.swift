// `quilt-upload-blob` as a core call: an entry stream's data put into a bucket through the same EntryCopier
// as push, entries left in place hashed where their hash is missing.
import QuiltSupport
import QuiltFormat

extension QuiltContext {
    /// Puts the data of `items`' entries under `destination` (`s3://bucket[/prefix]`) and returns the items with
    /// new physical keys, hashes and sizes. Local files are uploaded, S3 objects in other buckets copied, objects
    /// already in the bucket kept where they are (quilt3's copy rule). With a `shard`, only that shard's items
    /// are uploaded and returned. Uploads are journalled per destination and shard, as a push's are, so running
    /// the same command again after a failure sends only what is missing.
    /// `upload(_:)` of an entry stream held in memory (quilt-upload-blob's standard input), its shard trailers
    /// checked first: the items to print, where a trailer stands for the trailer of what is printed before it.
    /// With `shard`, one trailer for it ends them (an input with trailers must then be that shard, or a whole set);
    /// without, each trailer of the input is carried through, recomputed for the entries as uploaded.
    public func upload(entryStream stream: [UInt8], to destination: String, shard: Shard? = nil,
                       progress: ProgressHandler? = nil) throws -> [ManifestLine.Item] {
        let (items, check) = try ShardPartCheck.items(of: stream)
        if let shard {
            try check.checkInput(for: shard)
            // A trailer made for nothing would vouch for a part whose producer died before it printed a line.
            let held = items.contains { if case .entry = $0 { return true }; if case .directory = $0 { return true }; return false }
            if !held && !check.isSharded { throw ShardError.emptyInput(shard: shard.description) }
        }
        var uploaded = try upload(items, to: destination, shard: shard, progress: progress)
        if let shard { uploaded.append(.shardTrailer(ShardTrailer(index: shard.index, count: shard.count, entries: 0, sha256: ""))) }
        return uploaded
    }

    public func upload(_ items: [ManifestLine.Item], to destination: String, shard: Shard? = nil,
                       progress: ProgressHandler? = nil) throws -> [ManifestLine.Item] {
        guard case .s3(let bucket, let prefix, nil)? = try? PhysicalKey(url: destination) else {
            throw PushError.badDestination(destination)
        }
        let items = shard.map { shard in items.filter { shard.contains($0) } } ?? items
        var entries: [ManifestEntry] = items.compactMap { if case .entry(let e) = $0 { return e } else { return nil } }
        for entry in entries { try LogicalKey.validate(entry.logicalKey) }
        let transfers = try transfers()
        let journal = try PushJournal(directory: config.paths.dataDirectory + "/journal", bucket: bucket,
                                      name: "upload-blob \(prefix) shard \(shard?.description ?? "all")")
        try EntryCopier(transfers: transfers, bucket: bucket, prefix: prefix)
            .copy(&entries, copyMode: .outsideRegistry, journal: journal, progress: progress)
        transfers.abortAbandoned(journal)
        try EntryHasher.hashMissing(&entries, remote: transfers, useS3Checksums: useS3Checksums)
        journal.remove()
        var next = entries.makeIterator()
        return items.compactMap { item in
            switch item {
            case .header: return nil
            case .directory, .shardTrailer: return item
            case .entry: return .entry(next.next()!)
            }
        }
    }

    /// Uploads one file to exactly `url` (`s3://bucket/key`) and returns its entry.
    public func uploadFile(_ path: String, to url: String) throws -> ManifestEntry {
        guard case .s3(let bucket, let key, nil)? = try? PhysicalKey(url: url), !key.isEmpty else {
            throw PushError.badDestination(url)
        }
        return try EntryCopier(transfers: transfers(), bucket: bucket, prefix: "").uploadFile(path, key: key)
    }
}
