// An entry stream read into a manifest, as quilt-write-manifest and bundles read one.

extension Manifest {
    /// The manifest an entry stream describes, every logical key checked, in the format's order. `input` hands
    /// each block of the stream to the function it is given; lines are parsed as they arrive, so the input is
    /// never held whole. Plumbing takes things literally: `meta` nil leaves no `user_meta` key.
    public static func read(entryStream input: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void,
                            meta: JSONValue?, message: String?) throws -> Manifest {
        var manifest = Manifest()
        if let meta { manifest.userMeta = meta }
        manifest.setMessage(message)
        var parser = EntryStream.Parser()
        let add = { (item: EntryStream.Item) throws in
            switch item {
            case .entry(let entry):
                try LogicalKey.validate(entry.logicalKey)
                manifest.entries.append(entry)
            case .directory(let key, let meta):
                manifest.directoryMeta.append((key, meta))
            case .header:
                break
            }
        }
        try input { block in try parser.feed(block, into: add) }
        try parser.finish(into: add)
        try manifest.normalize()
        return manifest
    }
}

extension SpooledManifest {
    /// Entries whose hash or size is missing are completed this many at a time.
    public static let completionBatch = 8192

    /// `Manifest.read(entryStream:meta:message:)` into a spool, so memory stays within the spool's budget however
    /// long the stream. Entries without a hash or size are handed to `complete` in batches, which must fill them in.
    public static func read(entryStream input: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void,
                            meta: JSONValue?, message: String?, into spool: EntrySpool,
                            complete: (inout [ManifestEntry]) throws -> Void) throws -> SpooledManifest {
        try withoutActuallyEscaping(complete) { complete in
            try read(entryStream: input, meta: meta, message: message, spool: spool, complete: complete)
        }
    }

    private static func read(entryStream input: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void,
                             meta: JSONValue?, message: String?, spool: EntrySpool,
                             complete: @escaping (inout [ManifestEntry]) throws -> Void) throws -> SpooledManifest {
        var manifest = SpooledManifest(entries: spool)
        if let meta { manifest.userMeta = meta }
        manifest.setMessage(message)
        var parser = EntryStream.Parser()
        var incomplete: [ManifestEntry] = []
        func completeHeld() throws {
            try complete(&incomplete)
            for entry in incomplete { try spool.add(entry) }
            incomplete.removeAll(keepingCapacity: true)
        }
        func add(_ item: EntryStream.Item) throws {
            switch item {
            case .entry(let entry):
                try LogicalKey.validate(entry.logicalKey)
                if entry.hash == nil || entry.size < 0 {
                    incomplete.append(entry)
                    if incomplete.count >= completionBatch { try completeHeld() }
                } else {
                    try spool.add(entry)
                }
            case .directory(let key, let meta):
                manifest.directoryMeta.append((key, meta))
            case .header:
                break
            }
        }
        func addLine(_ line: UnsafeRawBufferPointer, number: Int) throws {
            if try spool.add(line: line) { return }
            try add(try EntryStream.parseLine(line, lineNumber: number))
        }
        try input { block in try parser.feedLines(block, into: addLine) }
        try parser.finishLines(into: addLine)
        if !incomplete.isEmpty { try completeHeld() }
        try spool.finish()
        return manifest
    }
}
