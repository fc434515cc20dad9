// An entry stream read into a manifest, as quilt-write-manifest and bundles read one.

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
        return manifest
    }
}
