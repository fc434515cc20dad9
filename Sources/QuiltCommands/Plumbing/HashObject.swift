// quilt-hash-object: hash files (git's hash-object), or turn paths into an entry stream.
import ArgumentParser
import QuiltFormat
import QuiltRegistry

struct HashObject: QuiltCommand, VerboseCommand {
    static let configuration = CommandConfiguration.plumbing(
        "hash-object",
        abstract: "Compute object hashes of files, or entries for them.",
        discussion: """
        Prints one hash value per line, in input order. With --entries, prints an entry stream instead: one \
        manifest entry line per file, whose logical key is the path relative to --root and whose physical key is \
        the file's file:// URL. Files are hashed in parallel; output order is the input order. With --shard, \
        only the files whose logical keys fall in this worker's shard are hashed and printed, and the output \
        ends with the shard's trailer (its shard, entry count and a digest of its lines), written once every \
        file is hashed: a worker cut short leaves a part quilt-write-manifest refuses.
        """)

    @OptionGroup var shardOption: ShardOption
    @OptionGroup var verboseOption: VerboseOption

    @Option(name: .long, help: "Hash type: sha2-256-chunked (default), SHA256 or CRC64NVME.")
    var type: String = HashType.sha2256Chunked.rawValue

    @Flag(name: .long, help: "Read the paths from standard input, one per line.")
    var stdinPaths = false

    @Flag(name: .customShort("z"), help: "With --stdin-paths: paths are separated by NUL, not newline.")
    var nulTerminated = false

    @Flag(name: .long, help: "Print entry-stream lines instead of bare hash values.")
    var entries = false

    @Option(name: .long, help: ArgumentHelp("With --entries: logical keys are paths relative to DIR.", valueName: "dir"))
    var root: String = "."

    @Argument(help: "Files to hash.")
    var files: [String] = []

    func validate() throws {
        if stdinPaths && !files.isEmpty { throw ValidationError("give files as arguments or with --stdin-paths, not both") }
        if nulTerminated && !stdinPaths { throw ValidationError("-z needs --stdin-paths") }
        if !stdinPaths && files.isEmpty { throw ValidationError("no files given") }
        if HashType(rawValue: type) == nil { throw ValidationError("unknown hash type '\(type)'") }
        // Bare hash values are matched to inputs by position; a subset would make that ambiguous.
        if shardOption.shard != nil && !entries { throw ValidationError("--shard needs --entries") }
    }

    func execute(_ io: IO) throws {
        let hashType = HashType(rawValue: type)!
        let shard = try entries ? io.shard(shardOption) : nil
        let files = try entries ? FileEntries(root: root, shard: shard) : nil
        // A shard's output ends in its trailer, written only once every file is hashed: a worker cut short
        // leaves a part the merge refuses (sharded-publishing(7)).
        let writer = ShardStreamWriter()
        if stdinPaths {
            try PathList.forEachBatch(of: { try io.readStandardInput($0) }, nulSeparated: nulTerminated) { paths in
                try emit(paths, type: hashType, files: files, writer: writer, io: io)
            }
        } else {
            try emit(self.files, type: hashType, files: files, writer: writer, io: io)
        }
        if let shard {
            var out: [UInt8] = []
            writer.appendTrailer(shard, to: &out)
            io.write(out)
        }
    }

    private func emit(_ paths: [String], type: HashType, files: FileEntries?, writer: ShardStreamWriter, io: IO) throws {
        guard !paths.isEmpty else { return }
        var out: [UInt8] = []
        // Big files' chunk digests go to the object cache, as build's do: a package built from this output cats
        // in one read. Without a usable context (no home, say) hashing goes on without.
        let cache = (try? io.context())?.objectCache
        if let files {
            for entry in try files.entries(paths, type: type, chunkDigestsTo: cache) { writer.append(.entry(entry), to: &out) }
        } else {
            for result in try EntryHasher.hashFiles(paths, type: type, chunkDigestsTo: cache) {
                out.append(contentsOf: result.hash.value.utf8)
                out.append(0x0A)
            }
        }
        io.write(out)
    }
}
