// quilt-hash-object: hash files (git's hash-object), or turn paths into an entry stream.
import ArgumentParser
import QuiltCore

struct HashObject: QuiltCommand {
    static let configuration = CommandConfiguration(
        commandName: "quilt-hash-object",
        abstract: "Compute object hashes of files, or entries for them.",
        discussion: """
        Prints one hash value per line, in input order. With --entries, prints an entry stream instead: one \
        manifest entry line per file, whose logical key is the path relative to --root and whose physical key is \
        the file's file:// URL. Files are hashed in parallel; output order is the input order.
        """)

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
    }

    func execute(_ io: IO) throws {
        let hashType = HashType(rawValue: type)!
        let rootPath = try entries ? FileSystem.realPath(root) : ""
        var batch: [String] = []
        let flushBatch = {
            try emit(batch, type: hashType, rootPath: rootPath, io: io)
            batch.removeAll(keepingCapacity: true)
        }
        if stdinPaths {
            let separator: UInt8 = nulTerminated ? 0 : 0x0A
            // Batches keep output streaming for long path lists while every batch is hashed on all cores.
            for piece in io.readStandardInput().split(separator: separator, omittingEmptySubsequences: true) {
                var path = String(decoding: piece, as: UTF8.self)
                if !nulTerminated && path.hasSuffix("\r") { path.removeLast() }
                batch.append(path)
                if batch.count == 4096 { try flushBatch() }
            }
        } else {
            batch = files
        }
        try flushBatch()
    }

    private func emit(_ paths: [String], type: HashType, rootPath: String, io: IO) throws {
        guard !paths.isEmpty else { return }
        let results = try EntryHasher.hashFiles(paths, type: type)
        var out: [UInt8] = []
        for (path, result) in zip(paths, results) {
            if entries {
                let logicalKey = try relativeKey(path, root: rootPath)
                let real = try FileSystem.realPath(path)
                let entry = ManifestEntry(logicalKey: logicalKey, physicalKey: PhysicalKey.local(path: real).url,
                                          size: result.size, hash: result.hash)
                EntryStream.write(entry, to: &out)
            } else {
                out.append(contentsOf: result.hash.value.utf8)
                out.append(0x0A)
            }
        }
        io.write(out)
    }

    /// The path below `root`, `/`-separated, as a valid logical key.
    private func relativeKey(_ path: String, root: String) throws -> String {
        let absolute = normalize(FileSystem.absolute(path))
        // Compare against both the root as given and as resolved, so `--root .` works from a symlinked cwd.
        for base in [root, normalize(FileSystem.absolute(self.root))] {
            let prefix = base == "/" ? "/" : base + "/"
            if absolute.hasBytePrefix(prefix) {
                let key = String(absolute.utf8.dropFirst(prefix.utf8.count)).map { $0 } ?? ""
                try LogicalKey.validate(key)
                return key
            }
        }
        throw ManifestError.invalidLogicalKey(path, reason: "not below --root \(quoted(self.root))")
    }

    /// Removes `.` segments and folds `..` lexically.
    private func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." { _ = parts.popLast(); continue }
            parts.append(segment)
        }
        return "/" + parts.joined(separator: "/")
    }
}
