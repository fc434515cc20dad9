// An entry stream read into a manifest, as quilt-write-manifest and bundles read one.
import QuiltSupport

extension Manifest {
    /// A directory-metadata key must name a directory, `<valid logical key>/`: quilt3 reads any line without
    /// physical keys as metadata of the directory holding its key, so `x` would be the package's metadata to
    /// quilt3 and `a/x` the metadata of `a/`, while the line itself says something else.
    static func checkDirectoryKey(_ key: String) throws(ManifestError) {
        guard key.hasSuffix("/") else { throw .directoryKeyWithoutSlash(key) }
        do { try LogicalKey.validate(String(key.dropLast())) } catch {
            guard case .invalidLogicalKey(_, let reason) = error else { throw error }
            throw .invalidLogicalKey(key, reason: "its directory path: " + reason)
        }
    }
}

extension SpooledManifest {
    /// Entries whose hash or size is missing are completed this many at a time.
    public static let completionBatch = 8192

    /// The manifest an entry stream describes, every logical key checked, in the format's order, with its entries
    /// in a spool, so memory stays within the spool's budget however long the stream. `input` hands each block of
    /// the stream to the function it is given; lines are parsed as they arrive. Entries without a hash or size are
    /// handed to `complete` in batches, which must fill them in. Plumbing takes things literally: `meta` nil leaves
    /// no `user_meta` key.
    public static func read(entryStream input: @escaping ((UnsafeRawBufferPointer) throws -> Void) throws -> Void,
                            meta: JSONValue?, message: String?, into spool: EntrySpool,
                            complete: (inout [ManifestEntry]) throws -> Void) throws -> SpooledManifest {
        try read(entryStreams: [EntryStream.Input(name: nil, feed: input)], meta: meta, message: message, into: spool,
                 complete: complete)
    }

    /// The one manifest several entry streams describe together (the outputs of a sharded job), exactly as if
    /// their lines had come in one stream: each stream is parsed on its own, so a last line without a newline ends
    /// there, and errors in a line name the stream it is in.
    public static func read(entryStreams inputs: [EntryStream.Input], meta: JSONValue?, message: String?,
                            into spool: EntrySpool,
                            complete: (inout [ManifestEntry]) throws -> Void) throws -> SpooledManifest {
        try withoutActuallyEscaping(complete) { complete in
            try read(entryStreams: inputs, meta: meta, message: message, spool: spool, complete: complete)
        }
    }

    private static func read(entryStreams inputs: [EntryStream.Input], meta: JSONValue?, message: String?, spool: EntrySpool,
                             complete: @escaping (inout [ManifestEntry]) throws -> Void) throws -> SpooledManifest {
        var manifest = SpooledManifest(entries: spool)
        if let meta { manifest.userMeta = meta }
        manifest.setMessage(message)
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
                try Manifest.checkDirectoryKey(key)
                manifest.directoryMeta.append((key, meta))
            case .header:
                break
            }
        }
        func addLine(_ line: UnsafeRawBufferPointer, number: Int) throws {
            if try spool.add(line: line) { return }
            try add(try EntryStream.parseLine(line, lineNumber: number))
        }
        for input in inputs {
            var parser = EntryStream.Parser(source: input.name)
            try input.feed { block in try parser.feedLines(block, into: addLine) }
            try parser.finishLines(into: addLine)
        }
        if !incomplete.isEmpty { try completeHeld() }
        try spool.finish()
        var seen: Set<ExactString> = []
        for (key, _) in manifest.directoryMeta where !seen.insert(ExactString(key)).inserted {
            throw ManifestError.duplicateDirectoryMeta(key)
        }
        return manifest
    }

    /// The paths a directory-metadata line says are directories (`a` and `a/b` for `a/b/`), each with its line's
    /// key: no file entry may have one of them as its key.
    var directoryPaths: [ExactString: String] {
        var paths: [ExactString: String] = [:]
        for (key, _) in directoryMeta {
            var prefix = key.startIndex
            while let slash = key[prefix...].firstIndex(of: "/") {
                paths[ExactString(String(key[..<slash]))] = key
                prefix = key.index(after: slash)
            }
        }
        return paths
    }

    /// Every file line in tree order, with the checks that need every key: duplicates and collisions between
    /// files (the spool's), and no file where a directory-metadata line says a directory is (quilt3 could not
    /// load that).
    public func forEachLine(_ body: (_ line: UnsafeRawBufferPointer, _ key: UnsafeRawBufferPointer) throws -> Void) throws {
        let paths = directoryPaths
        try entries.forEachSorted { line, key in
            if !paths.isEmpty {
                let file = String(decoding: key, as: UTF8.self)
                if let directory = paths[ExactString(file)] {
                    throw ManifestError.logicalKeyCollision(file: file, directory: directory)
                }
            }
            try body(line, key)
        }
    }

    /// Goes through every key before anything is written where a failure half-way would leave half a manifest
    /// (standard output): what the writer would refuse, refused now.
    public func checkTree() throws {
        if entries.runCount == 0 && directoryMeta.isEmpty { return try entries.finish() }
        try forEachLine { _, _ in }
    }
}
