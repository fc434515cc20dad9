// quilt bundle: a package revision and all its data as one file that crosses an air gap (git's bundle).
import ArgumentParser
import Foundation
import QuiltSupport
import QuiltFormat
import QuiltRegistry

struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Move a revision and its data as one file: create, verify, unbundle.",
        discussion: """
        A bundle is one gzip-compressed tar: a header, the manifest as stored, and every object once, named by \
        its hash. 'create' writes one from a registry's revision, 'verify' checks every hash in it, 'unbundle' \
        publishes it into a registry (local or S3), so a package can cross an air gap.
        """,
        subcommands: [BundleCreate.self, BundleVerify.self, BundleUnbundle.self])

    /// `quilt bundle` alone: a usage error in the suite's style (exit 64, `error:` and a `hint:`), as for any
    /// other missing argument.
    func run() throws {
        CommandTable.usageError("give a subcommand: create, verify or unbundle", hint: "see 'quilt bundle --help'")
    }
}

/// `-` as a file name: standard input or output.
private func isStandardStream(_ file: String) -> Bool { file == "-" }

struct BundleCreate: QuiltCommand, VerboseCommand, QuietCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Write a revision and every object it needs to one bundle file.",
        discussion: """
        REV names a package revision of the registry; FILE is the bundle to write ('-' for standard output), \
        replaced atomically when it is a file, in a directory that must exist. Objects are read from where the entries point (local files, S3), \
        checked against their hashes, and deflated at --level, except data that is already compressed (gzip, \
        zip, zstd, PNG, JPEG, Parquet, …), which is stored as it is.
        """)

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption
    @OptionGroup var quietOption: QuietOption

    @Option(name: .long, help: ArgumentHelp("Compression level, 0 (store) to 9 (smallest).", valueName: "n"))
    var level: Int = 6

    @Flag(name: .long, help: "Print {name, top_hash, file, entries, objects, bytes, compressed_bytes, stored_objects} as JSON.")
    var json = false

    @Argument(help: "The revision: ns/name, ns/name@<hash>, ns/name:<timestamp>.")
    var revision: String

    @Argument(help: "The bundle file to write ('-' for standard output).")
    var file: String

    func validate() throws {
        if !(0...9).contains(level) { throw ValidationError("--level takes 0 to 9, not \(level)") }
        if json && isStandardStream(file) { throw ValidationError("--json needs a FILE: standard output carries the bundle") }
    }

    func execute(_ io: IO) throws {
        let output: BundleOutput = isStandardStream(file) ? .stream({ try IO.writeAll(1, $0) }) : .path(file)
        let progress = io.progressLine("bundling", json: json)
        let summary = try io.context().createBundle(revision, registry: registryOptions.registry, to: output, level: level,
                                                    progress: progress?.handler)
        progress?.finish()
        if json {
            io.json(bundleJSON(summary, extra: [("file", .string(FileSystem.absolute(file)))]))
        } else {
            io.info("bundled \(summary.header.name)@\(summary.header.topHash.prefix(7)): \(summary.header.objects) objects, "
                    + "\(summary.header.bytes) bytes in \(summary.compressedBytes) (\(summary.storedObjects ?? 0) stored as they were)")
        }
    }
}

struct BundleVerify: QuiltCommand, VerboseCommand, QuietCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every hash in a bundle.",
        discussion: """
        Reads the whole bundle ('-' for standard input) as a stream and checks its header, that its manifest hashes \
        to the top hash it names, every logical key (none may leave a destination: no '..', '.', leading or \
        doubled '/'), sizes that add up within 2^63-1, the size and hash of every object, and that no object is \
        missing or extra. Prints '<top-hash> <name>'. A damaged or cut-short bundle fails naming the member and logical key it was in.
        """)

    @OptionGroup var verboseOption: VerboseOption
    @OptionGroup var quietOption: QuietOption

    @Flag(name: .long, help: "Print {ok, name, top_hash, entries, objects, bytes, compressed_bytes} as JSON.")
    var json = false

    @Argument(help: "The bundle file ('-' for standard input).")
    var file: String

    func execute(_ io: IO) throws {
        let progress = io.progressLine("verifying", json: json)
        let summary = try io.context().verifyBundle(bundleInput(file), progress: progress?.handler)
        progress?.finish()
        if json {
            io.json(bundleJSON(summary, extra: [("ok", .bool(true))]))
        } else {
            io.line("\(summary.header.topHash) \(terminalSafe(summary.header.name))")
        }
    }
}

struct BundleUnbundle: QuiltCommand, VerboseCommand, QuietCommand {
    static let configuration = CommandConfiguration(
        commandName: "unbundle",
        abstract: "Publish a bundle's revision into a registry.",
        discussion: """
        Reads the bundle ('-' for standard input), checks its manifest (logical keys included) before any object \
        is written and every object as it arrives, puts the objects in the \
        registry's data layout (S3: <ns>/<name>/<logical key> in the registry's bucket, as quilt push does; a \
        local registry: <registry>/.quilt/objects/<hash type>/<hex>), then writes the manifest, with entries \
        pointing at the new copies, and moves the name's pointers. The top hash is the bundle's.
        """)

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption
    @OptionGroup var quietOption: QuietOption

    @Option(name: .long, help: ArgumentHelp("Publish under this name instead of the bundle's.", valueName: "ns/name"))
    var name: String?

    @Flag(name: .long, help: "Print {name, top_hash, registry, timestamp, objects, bytes, reused} as JSON.")
    var json = false

    @Argument(help: "The bundle file ('-' for standard input).")
    var file: String

    func execute(_ io: IO) throws {
        let progress = io.progressLine("unbundling", json: json)
        let result = try io.context().unbundle(bundleInput(file), registry: registryOptions.registry, name: name,
                                               progress: progress?.handler)
        progress?.finish()
        if json {
            io.json(.object(JSONObject([
                ("name", .string(result.name)), ("top_hash", .string(result.topHash)), ("registry", .string(result.registry)),
                ("timestamp", result.timestamp.map { .integer($0) } ?? .null), ("objects", .int(result.objects)),
                ("bytes", .int(result.bytes)), ("reused", .int(result.reused)),
            ])))
        } else {
            io.line(result.topHash)
            io.info("Package \(result.name)@\(result.topHash.prefix(7)) unbundled into \(result.registry)")
        }
    }
}

/// The file to read, or standard input for `-`.
private func bundleInput(_ file: String) -> BundleInput {
    guard isStandardStream(file) else { return .path(file) }
    return .stream { buffer in
        while true {
            let n = Foundation.read(0, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno != EINTR { throw FileSystemError.cannotRead(path: "standard input", reason: String(cString: strerror(errno))) }
        }
    }
}

/// The `--json` form of a bundle's summary.
private func bundleJSON(_ summary: BundleSummary, extra: [(String, JSONValue)]) -> JSONValue {
    var fields: [(String, JSONValue)] = extra + [
        ("name", .string(summary.header.name)), ("top_hash", .string(summary.header.topHash)),
        ("entries", .int(summary.header.entries)), ("objects", .int(summary.header.objects)),
        ("bytes", .int(summary.header.bytes)), ("compressed_bytes", .int(summary.compressedBytes)),
    ]
    if let stored = summary.storedObjects { fields.append(("stored_objects", .int(stored))) }
    return .object(JSONObject(fields))
}
