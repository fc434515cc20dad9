// quilt-upload-blob: upload entries' data to S3 and print the entries with their new physical keys.
import ArgumentParser
import QuiltCore

struct UploadBlob: QuiltCommand, VerboseCommand {
    static let configuration = CommandConfiguration(
        commandName: "quilt-upload-blob",
        abstract: "Upload entries' data to S3 and print the entries with their new physical keys.",
        discussion: """
        Reads an entry stream on standard input; each entry whose data is a local file (or an S3 object in \
        another bucket) is copied to <dest>/<logical key>, and the entry is printed with its new physical key \
        s3://bucket/key?versionId=… (no versionId on an unversioned bucket) and its sha2-256-chunked hash, \
        computed here from the bytes sent and checked against S3's checksum. Below 8 MiB one PUT; at 8 MiB and \
        above a multipart upload whose part size is the chunked hash's chunk size, parts in parallel. An upload \
        is skipped when the destination already holds identical content. With FILE and DEST-URL, uploads one \
        file to exactly that URL and prints its entry.
        """)

    @OptionGroup var verboseOption: VerboseOption

    @Option(name: .long, help: ArgumentHelp("The registry bucket, s3://bucket: the default --dest is its root.", valueName: "url"))
    var registry: String?

    @Option(name: .long, help: ArgumentHelp("Where data goes: s3://bucket[/prefix].", valueName: "url"))
    var dest: String?

    @Argument(help: "A file to upload (with DEST-URL).")
    var file: String?

    @Argument(help: "The s3:// URL to upload FILE to.")
    var destURL: String?

    func validate() throws {
        if (file == nil) != (destURL == nil) { throw ValidationError("give both FILE and DEST-URL, or neither") }
        if file == nil && dest == nil && registry == nil { throw ValidationError("give --dest or --registry") }
    }

    func execute(_ io: IO) throws {
        let context = try io.context()
        let transfers = S3Transfers(client: try context.s3Client(), concurrency: transferConcurrency(io.environment))
        if let file, let destURL {
            guard case .s3(let bucket, let key, nil) = try PhysicalKey(url: destURL) else {
                throw ArgumentError.invalid("DEST-URL must be s3://bucket/key without a versionId, not '\(destURL)'")
            }
            let result = try transfers.upload(path: file, bucket: bucket, key: key)
            var out: [UInt8] = []
            EntryStream.write(ManifestEntry(logicalKey: FileSystem.baseName(of: key), physicalKey: result.physicalKey.url,
                                            size: try InputFile(path: file).size, hash: result.hash), to: &out)
            io.write(out)
            return
        }
        let target = dest ?? registry!
        guard case .s3(let bucket, let destKey, nil) = try PhysicalKey(url: target) else {
            throw ArgumentError.invalid("--dest must be s3://bucket[/prefix], not '\(target)'")
        }
        let prefix = destKey.hasSuffix("/") ? String(destKey.dropLast()) : destKey
        var items: [EntryStream.Item] = []
        try EntryStream.parse(io.readStandardInput()) { items.append($0) }
        let entries: [ManifestEntry] = items.compactMap { if case .entry(let e) = $0 { return e } else { return nil } }
        for entry in entries { try LogicalKey.validate(entry.logicalKey) }
        let existing = entries.isEmpty || prefix.isEmpty ? nil
            : ExistingObjects.list(client: transfers.client, bucket: bucket, prefix: prefix + "/")
        let progress = io.progressAllowed(json: false) ? ProgressLine(label: "uploading") : nil
        let results = Locked<[Int: TransferResult]>([:])
        try TransferPool.run(count: entries.count, maxConcurrency: transfers.concurrency) { i in
            let entry = entries[i]
            let key = prefix.isEmpty ? entry.logicalKey : prefix + "/" + entry.logicalKey
            let result: TransferResult
            switch try PhysicalKey(url: entry.physicalKey) {
            case .local(let path):
                result = try transfers.upload(path: path, bucket: bucket, key: key, existing: existing)
            case .s3(let b, let k, let v):
                if b == bucket {
                    result = TransferResult(physicalKey: .s3(bucket: b, key: k, versionId: v),
                                            hash: try entry.hash ?? transfers.hashObject(S3ObjectReference(bucket: b, key: k, versionId: v), size: entry.size),
                                            reused: true)
                } else {
                    result = try transfers.copy(from: S3ObjectReference(bucket: b, key: k, versionId: v), size: entry.size,
                                                knownHash: entry.hash, bucket: bucket, key: key)
                }
            }
            results.withLock { $0[i] = result }
            progress?.update(QuiltCore.Progress(filesDone: results.value.count, filesTotal: entries.count, bytesDone: 0, bytesTotal: 0))
        }
        progress?.finish()
        let done = results.value
        var out: [UInt8] = []
        var index = 0
        for item in items {
            switch item {
            case .directory(let key, let meta):
                EntryStream.writeDirectory(key: key, meta: meta, to: &out)
            case .header:
                continue
            case .entry(var entry):
                let result = done[index]!
                index += 1
                if entry.size < 0, case .local(let path) = try PhysicalKey(url: entry.physicalKey) {
                    entry.size = try InputFile(path: path).size
                }
                entry.physicalKey = result.physicalKey.url
                entry.hash = result.hash
                EntryStream.write(entry, to: &out)
            }
        }
        io.write(out)
    }
}
