// quilt build: build a package revision from local files into a registry (quilt3's set_dir + build).
import ArgumentParser
import QuiltCore

/// Options `build` and `push` share: what goes into the revision.
struct RevisionContentOptions: ParsableArguments {
    @Argument(help: "The package name, ns/name.")
    var name: String

    @Argument(help: "A directory whose files become the package root (like quilt3's set_dir('.', DIR)).")
    var directory: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Add one file (or directory) at logical key LK.", valueName: "lk=path"))
    var sets: [String] = []

    @Option(name: .customLong("rm"), help: ArgumentHelp("Remove a logical key (or a directory key) from the --from revision.", valueName: "lk"))
    var removals: [String] = []

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Package metadata: JSON text, or @FILE.", valueName: "json|@file"))
    var meta: String?

    @Option(name: .long, parsing: .unconditional, help: "The revision message.")
    var message: String?

    @Option(name: .long, help: ArgumentHelp("Start from this revision (incremental update).", valueName: "rev"))
    var from: String?

    func validate() throws {
        for set in sets where !set.contains("=") { throw ValidationError("--set takes LK=PATH, got '\(set)'") }
    }

    var hasContent: Bool { directory != nil || !sets.isEmpty || from != nil || !removals.isEmpty || meta != nil }

    /// The manifest these options describe, hashes computed. `base` is the revision `--from` names. DIR and
    /// `--set` paths may be `s3://` URLs: the objects are referenced where they are and hashed from their bytes.
    func makeManifest(base: Manifest?, context: QuiltContext, progress: ProgressHandler?) throws -> Manifest {
        try PackageName.validate(name)
        let metaValue = try meta.map(parseMetaArgument)
        var builder = PackageBuilder(base: base ?? Manifest())
        for key in removals { try builder.remove(key) }
        if let directory {
            if directory.hasPrefix("s3://") {
                try builder.setS3Directory(".", url: directory, meta: metaValue, client: context.s3Client())
            } else {
                try builder.setDirectory(".", path: directory, meta: metaValue)
            }
        } else if let metaValue {
            builder.setPackageMeta(metaValue)
        }
        for set in sets {
            let parts = set.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0]), path = String(parts[1])
            if path.hasPrefix("s3://") {
                if path.hasSuffix("/") {
                    try builder.setS3Directory(key, url: path, meta: nil, client: context.s3Client())
                } else {
                    try builder.setS3Object(key, url: path, client: context.s3Client())
                }
            } else if FileSystem.isDirectory(path) {
                try builder.setDirectory(key, path: path, meta: nil)
            } else {
                try builder.setFile(key, path: path)
            }
        }
        builder.setMessage(message)
        let needsS3 = builder.manifest.entries.contains { ($0.hash == nil || $0.size < 0) && $0.physicalKey.hasPrefix("s3://") }
        let remote = needsS3 ? S3Transfers(client: try context.s3Client(), concurrency: transferConcurrency(context.environment)) : nil
        try builder.hashMissing(remote: remote, progress: progress)
        return builder.manifest
    }
}

struct Build: QuiltCommand, VerboseCommand {
    static let configuration = CommandConfiguration(
        commandName: "quilt build",
        abstract: "Build a package revision into a registry.",
        discussion: """
        Adds DIR at the package root as quilt3's set_dir('.', DIR, meta=META) does (honouring .quiltignore; \
        without --meta the header's user_meta is null, as with 'quilt3 push --dir'), adds single files with \
        --set, starts from an existing revision with --from, removes keys with --rm, hashes every new file, \
        writes the manifest and moves the name's pointers. No data is copied: entries point at the files where \
        they are. Prints the top hash, which equals quilt3's for the same inputs.
        """)

    @OptionGroup var content: RevisionContentOptions
    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption

    @Flag(name: .long, help: "Print {name, top_hash, registry, timestamp} as JSON.")
    var json = false

    func execute(_ io: IO) throws {
        let registry = try io.registry(registryOptions)
        try registry.refuseWorkflows()
        let base = try content.from.map { try registry.loadManifest(registry.resolve(Revision($0))) }
        let progress = io.progressAllowed(json: json) ? ProgressLine(label: "hashing") : nil
        var manifest = try content.makeManifest(base: base, context: io.context(), progress: progress?.handler)
        progress?.finish()
        let topHash = try registry.storeManifest(&manifest)
        let timestamp = try registry.updateRef(content.name, to: topHash)
        if json {
            io.json(.object(JSONObject([
                ("name", .string(content.name)), ("top_hash", .string(topHash)),
                ("registry", .string(registry.url)), ("timestamp", .integer(timestamp)),
            ])))
        } else {
            io.line(topHash)
        }
    }
}
