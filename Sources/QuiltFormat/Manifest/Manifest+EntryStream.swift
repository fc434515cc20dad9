// An entry stream read into a manifest, as quilt-write-manifest and bundles read one.
import QuiltSupport

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
                try checkDirectoryKey(key)
                manifest.directoryMeta.append((key, meta))
            case .header:
                break
            }
        }
        try input { block in try parser.feed(block, into: add) }
        try parser.finish(into: add)
        try manifest.normalize()
        try manifest.checkDirectoryMeta()
        return manifest
    }

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

    /// Directory metadata must be unambiguous and must not pass through a file: quilt3 keeps the last of two lines
    /// for one directory (so the outcome would depend on the order of the stream, which is free), and stops on a
    /// directory that is also a file. Entries are sorted (tree order), so each check is a binary search.
    func checkDirectoryMeta() throws(ManifestError) {
        guard !directoryMeta.isEmpty else { return }
        var seen: Set<ExactString> = []
        for (key, _) in directoryMeta {
            guard seen.insert(ExactString(key)).inserted else { throw .duplicateDirectoryMeta(key) }
            var prefix = key.startIndex
            while let slash = key[prefix...].firstIndex(of: "/") {
                let path = String(key[..<slash])
                if containsEntry(path) { throw .logicalKeyCollision(file: path, directory: key) }
                prefix = key.index(after: slash)
            }
        }
    }

    /// Whether a file entry has exactly this key; `entries` must be in tree order.
    func containsEntry(_ key: String) -> Bool {
        var low = 0, high = entries.count
        while low < high {
            let middle = (low + high) / 2
            let candidate = entries[middle].logicalKey
            if candidate.isIdentical(to: key) { return true }
            if LogicalKey.precedes(candidate, key) { low = middle + 1 } else { high = middle }
        }
        return false
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
        try input { block in try parser.feedLines(block, into: addLine) }
        try parser.finishLines(into: addLine)
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
