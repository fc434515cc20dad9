// quilt fsck: check a registry's pointers, manifests and (with --objects, --full) the objects they name.
import ArgumentParser
import QuiltFormat
import QuiltRegistry

struct Fsck: QuiltCommand, VerboseCommand, QuietCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsck",
        abstract: "Check a registry: pointers, manifests and the objects they name.",
        discussion: """
        Every pointer must parse and name a stored manifest; every manifest must parse, be stored in tree order and \
        hash to its name. With --objects, every entry's object must exist at its version with the entry's size \
        (HEAD on S3, stat locally); with --full, its bytes must hash to the entry's hash. Each object is checked \
        once, however many entries name it. One line per problem: 'dangling pointer', 'corrupt manifest', \
        'missing object', 'size mismatch' or 'hash mismatch', then the package, the revision, the key and what was \
        found, separated by tabs; 'unsorted manifest' is a warning. A checkpoint is kept every 1,000 objects or \
        30 s under the local data directory; --resume goes on from it. Nothing is written to the registry. Exit \
        status 0 when nothing is wrong, 1 when something is.
        """)

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption
    @OptionGroup var quietOption: QuietOption

    @Flag(name: .long, help: "Check that every entry's object exists at its version with its size.")
    var objects = false

    @Flag(name: .long, help: "Also hash every object's bytes (implies --objects).")
    var full = false

    @Flag(name: .long, help: "Go on from the checkpoint of an interrupted run with the same options.")
    var resume = false

    @Flag(name: .long, help: "Print {problems, ok, registry, checked, resumed, skipped} as JSON.")
    var json = false

    @Argument(help: ArgumentHelp("Packages to check (ns/name); default: the whole registry, every manifest included.", valueName: "name"))
    var names: [String] = []

    func execute(_ io: IO) throws {
        for name in names { try PackageName.validate(name) }
        let context = try io.context()
        let registry = try io.registry(registryOptions)
        let check = try context.registryCheck(
            registry, options: CheckOptions(names: names.isEmpty ? nil : names, objects: objects, full: full, resume: resume))
        let phases = ProgressPhaseLines.phases(io, json: json)
        var first = true
        if json { io.write(Array("{\"problems\": [".utf8)) }
        let summary = try check.run(report: { finding in
            if json {
                var out: [UInt8] = first ? [] : Array(", ".utf8)
                JSONWriter.writeManifestForm(finding.json, to: &out)
                io.write(out)
            } else {
                io.line([finding.kind.rawValue, finding.package ?? "-", finding.revision, finding.key, finding.detail]
                    .map(terminalSafe).joined(separator: "\t"))
                // Out at once: a run of hours that is stopped has said what it found.
                io.flush()
            }
            first = false
        }, progress: phases?.handler)
        phases?.finish()
        if let reason = summary.resumeRefused { io.warning("not resumed: \(reason); checked from the start") }
        if json {
            var out = Array("], ".utf8)
            let rest = JSONValue.object(JSONObject([
                ("ok", .bool(summary.ok)), ("registry", .string(registry.url)),
                ("checked", .object(JSONObject([
                    ("pointers", .int(summary.pointers)), ("manifests", .int(summary.manifests)),
                    ("objects", .int(summary.objects)), ("references", .int(summary.references)),
                    ("objects_hashed", .int(summary.objectsRead)), ("objects_from_s3_checksums", .int(summary.objectsFromChecksums)),
                ]))),
                ("resumed", .bool(summary.resumed)),
                ("skipped", .object(JSONObject([("manifests", .int(summary.manifestsSkipped)), ("objects", .int(summary.objectsSkipped))]))),
                ("problems_count", .int(summary.problems)), ("warnings_count", .int(summary.warnings)),
            ]))
            // The rest of the document: the object's members after `problems`, without its opening brace.
            var members: [UInt8] = []
            JSONWriter.writeManifestForm(rest, to: &members)
            out += members.dropFirst()
            out.append(0x0A)
            io.write(out)
        } else {
            io.flush()
            var text = "Checked \(summary.pointers) pointer\(summary.pointers == 1 ? "" : "s"), \(summary.manifests) manifest\(summary.manifests == 1 ? "" : "s")"
            if objects || full {
                text += ", \(summary.objects) object\(summary.objects == 1 ? "" : "s") "
                    + "(\(summary.references) entr\(summary.references == 1 ? "y" : "ies"))"
            }
            text += ": \(summary.problems) problem\(summary.problems == 1 ? "" : "s")"
            if summary.warnings > 0 { text += ", \(summary.warnings) warning\(summary.warnings == 1 ? "" : "s")" }
            if summary.resumed {
                text += " (resumed: \(summary.manifestsSkipped) manifests and \(summary.objectsSkipped) objects were done)"
            }
            io.verdict(text)
        }
        if !summary.ok { throw ExitCode(ExitStatus.failure) }
    }
}
