// `quilt-write-manifest` as one core call: entry streams (standard input, files, a sharded job's outputs) become a
// revision on the one build path, checked by the registry's workflow as `quilt build` checks it and stamped in
// the same place of the header, so the plumbing path publishes the same bytes as the porcelain.
import QuiltSupport
import QuiltFormat
import QuiltStorage

/// Where `writeManifest` puts the manifest.
public enum ManifestDestination {
    /// Stored in the registry at `.quilt/packages/<top-hash>`.
    case registry
    /// Written to a stream (standard output), nothing stored. A stream cannot be taken back: the whole revision is
    /// checked (duplicates across sorted runs, collisions) before its first byte goes out.
    case stream((UnsafeRawBufferPointer) throws -> Void)
}

extension QuiltContext {
    /// The manifest the entry streams `inputs` describe together, exactly as if their lines had come in one
    /// stream; missing hashes of local files computed a batch at a time; checked by `registry`'s workflow (which
    /// needs `name`) and stamped. Plumbing takes things literally: `meta` nil leaves no `user_meta` key; `message`
    /// nil is `"message": null`. Memory is the spool's budget however long the streams. Returns the top hash.
    public func writeManifest(entryStreams inputs: [EntryStream.Input], meta: JSONValue?, message: String?,
                              name: String?, workflow choice: WorkflowChoice, registry: Registry,
                              to destination: ManifestDestination) throws -> String {
        do {
            return try writeManifestOnce(entryStreams: inputs, meta: meta, message: message, name: name, workflow: choice,
                                         registry: registry, to: destination)
        } catch ManifestError.duplicateLogicalKey(let key) where inputs.count > 1 {
            // The spool does not know which stream a line came from: the streams that can be read again say.
            throw BuildError.duplicateInStreams(key: key, places: try Self.places(of: key, in: inputs))
        }
    }

    /// Where `key` is an entry's logical key in `inputs`: `'<stream>' line N` for those that can be read again,
    /// and standard input, which cannot, if the others do not hold it twice.
    static func places(of key: String, in inputs: [EntryStream.Input]) throws -> [String] {
        var places: [String] = []
        var unread: String?
        for input in inputs {
            let name = ShardPartCheck.name(input)
            guard input.name != nil && input.name != "-" else { unread = name; continue }
            var parser = EntryStream.Parser()
            func look(_ line: UnsafeRawBufferPointer, _ number: Int) throws {
                guard places.count < 4, case .entry(let entry)? = try? ManifestLine.parse(line, lineNumber: number, rules: .entryStream),
                      entry.logicalKey.isIdentical(to: key) else { return }
                places.append("\(quoted(name)) line \(number)")
            }
            try input.feed { block in try parser.feedLines(block, into: look) }
            try parser.finishLines(into: look)
        }
        if places.count < 2, let unread { places.append(unread) }
        return places
    }

    private func writeManifestOnce(entryStreams inputs: [EntryStream.Input], meta: JSONValue?, message: String?,
                                   name: String?, workflow choice: WorkflowChoice, registry: Registry,
                                   to destination: ManifestDestination) throws -> String {
        let spool = entrySpool()
        // The outputs of `--shard` programs end in trailers: each part is checked against its own, and the parts
        // against 0..N-1, before anything is written.
        let parts = ShardPartCheck(names: inputs.map(ShardPartCheck.name))
        let directories = try spool.add(entryStreams: inputs, observer: parts) { entries in try EntryHasher.hashMissing(&entries) }
        try parts.finish()
        let build = RevisionBuild(base: nil, additions: spool, packageMeta: meta, directoryEdits: directories)
        let workflow = try workflow(choice, in: registry)
        if let workflow {
            guard let name else { throw WorkflowError.nameNeeded }
            try PackageName.validate(name)
            let entries = workflow.entriesSchema == nil ? JSONValue.array([]) : try build.entriesForValidation()
            try workflow.check(name: name, userMeta: meta, entries: { entries }, message: message)
        }
        let output: RevisionBuild.Output
        switch destination {
        case .registry:
            output = .staged(registry.storage)
        case .stream(let stream):
            try build.check()
            output = .stream(stream)
        }
        let written = try build.write(with: registry.writer, finishHeader: { header in
            // The stamp goes before the message, as in a fresh build.
            Workflow.stamp(workflow, on: &header)
            header["message"] = message.map { .string($0) } ?? .null
        }, to: output)
        try written.staged?.commit(as: Registry.manifestKey(written.topHash))
        return written.topHash
    }
}
