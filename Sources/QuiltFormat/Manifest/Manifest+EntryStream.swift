// An entry stream read into a manifest, as quilt-write-manifest and bundles read one.
import QuiltSupport

extension Manifest {
    /// The manifest an entry stream describes, every logical key checked, in the format's order. `input` hands
    /// each block of the stream to the function it is given; lines are parsed as they arrive, so the input is
    /// never held whole. Plumbing takes things literally: `meta` nil leaves no `user_meta` key.
    public static func read(entryStream input: @escaping ((UnsafeRawBufferPointer) throws -> Void) throws -> Void,
                            meta: JSONValue?, message: String?) throws -> Manifest {
        try read(entryStreams: [EntryStream.Input(name: nil, feed: input)], meta: meta, message: message)
    }

    /// The one manifest several entry streams describe together (the outputs of a sharded job): each stream is
    /// parsed on its own, so a last line without a newline ends there, and errors name the stream they are in.
    public static func read(entryStreams inputs: [EntryStream.Input], meta: JSONValue?, message: String?) throws -> Manifest {
        var manifest = Manifest()
        if let meta { manifest.userMeta = meta }
        manifest.setMessage(message)
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
        for input in inputs {
            var parser = EntryStream.Parser(source: input.name)
            try input.feed { block in try parser.feed(block, into: add) }
            try parser.finish(into: add)
        }
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
