// quilt install: materialise a revision's files and record the revision in the local registry (quilt3's install).
import ArgumentParser
import QuiltCore

struct Install: QuiltCommand, VerboseCommand {
    static let configuration = CommandConfiguration(
        commandName: "quilt install",
        abstract: "Copy a revision's files into a directory and record the revision locally.",
        discussion: """
        Copies every file (or, with --path, one subtree or file) to DIR/<logical key>, checking each file's hash \
        before it is put in place; nothing is ever written outside DIR and no partial file is left. The default \
        DIR is <default_install_location or the local registry>/<ns>/<name>. Then records the revision in the \
        local registry (or --dest-registry), keeping the original physical keys as quilt3 does, so its top hash \
        is unchanged.
        """)

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption

    @Option(name: .long, help: "The local directory to put the files in.")
    var dest: String?

    @Option(name: .long, help: "The registry to record the revision in (default: the local registry).")
    var destRegistry: String?

    @Option(name: .long, help: "Only this logical key or directory key; a single file lands at DIR/<basename>.")
    var path: String?

    @Flag(name: .long, help: "Print {name, top_hash, dest, files} as JSON.")
    var json = false

    @Argument(help: "The revision: ns/name, ns/name:latest, ns/name@<hash prefix>, ns/name:<timestamp> (a name is needed to record it).")
    var revision: String

    func execute(_ io: IO) throws {
        let context = try io.context()
        let rev = try Revision(revision, allowBareHash: false)
        guard let name = rev.name else { throw RegistryError.invalidRevision(revision, reason: "needs a package name") }
        let registry = try io.registry(registryOptions)
        let topHash = try registry.resolve(rev)
        var manifest = try registry.loadManifest(topHash)
        let destination = try dest.map(Self.localPath) ?? Self.localPath(
            context.config.defaultInstallLocation ?? context.config.defaultLocalRegistry) + "/" + name
        let (entries, relative) = try Self.select(manifest.entries, path: path)
        let progress = io.progressAllowed(json: json) ? ProgressLine(label: "installing") : nil
        let installer = Installer(remote: ContextBlobSource(context: context))
        try installer.materialize(entries, root: destination, concurrency: transferConcurrency(io.environment),
                                  relativePath: relative, progress: progress?.handler)
        progress?.finish()
        let record = try destRegistry.map { try context.registry($0) } ?? context.localRegistry()
        try record.storeManifest(&manifest)
        try record.updateRef(name, to: topHash)
        if json {
            io.json(.object(JSONObject([
                ("name", .string(name)), ("top_hash", .string(topHash)), ("dest", .string(destination)),
                ("files", .int(entries.count)),
            ])))
        } else {
            io.info("Installed \(name)@\(topHash.prefix(7)) to \(destination) (\(entries.count) file\(entries.count == 1 ? "" : "s"))")
        }
    }

    /// The entries under `path`, and where each lands relative to the destination.
    static func select(_ entries: [ManifestEntry], path: String?) throws
        -> ([ManifestEntry], @Sendable (ManifestEntry) -> String) {
        guard var path else { return (entries, { $0.logicalKey }) }
        while path.hasSuffix("/") { path.removeLast() }
        if let single = entries.first(where: { $0.logicalKey.isIdentical(to: path) }) {
            let base = FileSystem.baseName(of: single.logicalKey)
            return ([single], { _ in base })
        }
        let prefix = path + "/"
        let selected = entries.filter { $0.logicalKey.hasBytePrefix(prefix) }
        guard !selected.isEmpty else { throw InstallError.noSuchPath(path) }
        let count = prefix.utf8.count
        return (selected, { String(decoding: $0.logicalKey.utf8.dropFirst(count), as: UTF8.self) })
    }

    /// A local directory given as a path or a file:// URL.
    static func localPath(_ text: String) throws -> String {
        if text.hasPrefix("file://") {
            guard case .local(let path) = try PhysicalKey(url: text) else { throw ArgumentError.invalid("not a local directory '\(text)'") }
            return path
        }
        if text.contains("://") { throw ArgumentError.invalid("install destination must be local: '\(text)'") }
        return FileSystem.absolute(text)
    }
}

/// `QUILT_TRANSFER_MAX_CONCURRENCY`, default 10 as in quilt3.
func transferConcurrency(_ environment: [String: String]) -> Int {
    environment["QUILT_TRANSFER_MAX_CONCURRENCY"].flatMap { Int($0) }.map { max(1, $0) } ?? 10
}

/// S3 as a blob source, with the process's S3 client created only when an S3 object is actually read.
struct ContextBlobSource: BlobSource {
    let context: QuiltContext

    func fetch(_ key: PhysicalKey, size: Int, into writer: AtomicFileWriter) throws -> ObjectHash? {
        let transfers = S3Transfers(client: try context.s3Client(), concurrency: transferConcurrency(context.environment))
        return try S3BlobSource(transfers: transfers).fetch(key, size: size, into: writer)
    }
}
