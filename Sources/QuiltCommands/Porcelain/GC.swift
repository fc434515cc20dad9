// quilt gc: list, and with --yes delete, what nothing in the registry needs any more.
import ArgumentParser
import QuiltSupport
import QuiltFormat
import QuiltRegistry

struct GC: QuiltCommand, VerboseCommand, QuietCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "List, and with --yes delete, what nothing in a registry references.",
        discussion: """
        Lists the manifests no pointer reaches, the object versions below the registry's package prefixes \
        (ns/name/, where push puts data; .quilt/objects/ of a local registry) that no kept manifest references, \
        and uploads in parts never finished, all older than --older-than days; one line each with its size, then \
        the total. Nothing is deleted without --yes (asked again on a terminal), nor ever with --dry-run. Keys \
        outside those prefixes are never touched. Manifests of other registries that reference this one's objects \
        are out of its sight.
        """)

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption
    @OptionGroup var quietOption: QuietOption

    @Option(name: .long, help: ArgumentHelp("Only what is older than this many days (fractions allowed): long enough that no push is still in flight.", valueName: "days"))
    var olderThan: String = "7"

    @Flag(name: .long, help: "List only; never delete.")
    var dryRun = false

    @Flag(name: [.customShort("y"), .long], help: "Delete what is listed (after a question on a terminal).")
    var yes = false

    @Flag(name: .long, help: "Print {registry, older_than_days, manifests, uploads, objects, total_bytes, deleted} as JSON.")
    var json = false

    func validate() throws {
        if dryRun && yes { throw ValidationError("--dry-run and --yes cannot go together") }
    }

    func execute(_ io: IO) throws {
        let age = try Cache.seconds(days: olderThan)
        let context = try io.context()
        let registry = try io.registry(registryOptions)
        let collector = try context.garbageCollector(registry)
        let phases = ProgressPhaseLines.phases(io, json: json)
        let now = WallClock.now()
        let plan = try collector.plan(olderThan: Double(age), now: now, progress: phases?.handler)
        phases?.finish()
        func days(_ time: Double) -> String {
            let value = max(0, now - time) / 86400
            return value < 100 ? String(Double(Int(value * 10)) / 10) : String(Int(value))
        }
        func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        func item(_ item: GarbageItem) -> JSONValue {
            .object(JSONObject([("key", .string(item.key)), ("version_id", item.versionId.map { .string($0) } ?? .null),
                                ("size", .int(item.size)), ("last_modified", .int(Int(item.lastModified))),
                                ("location", .string(item.location))]))
        }
        if json {
            var head: [UInt8] = []
            JSONWriter.writeManifestForm(.object(JSONObject([
                ("registry", .string(registry.url)), ("older_than_days", .float(Double(age) / 86400)),
                ("cutoff", .int(Int(plan.cutoff))), ("prefixes", .array(plan.prefixes.map { .string($0) })),
                ("manifests", .array(plan.manifests.map(item))),
                ("uploads", .array(plan.uploads.map { upload in
                    .object(JSONObject([("key", .string(upload.key)), ("upload_id", .string(upload.uploadId)),
                                        ("initiated", .int(Int(upload.initiated))), ("location", .string(upload.location))]))
                })),
            ])), to: &head)
            head.removeLast()  // the closing brace: the objects follow, streamed
            io.write(head + Array(", \"objects\": [".utf8))
            var first = true
            try plan.forEachObject { object in
                var out: [UInt8] = first ? [] : Array(", ".utf8)
                JSONWriter.writeManifestForm(item(object), to: &out)
                io.write(out)
                first = false
            }
            io.write(Array("], \"total_bytes\": \(plan.totalBytes)".utf8))
        } else {
            for m in plan.manifests { io.line("manifest\t\(m.size)\t\(days(m.lastModified))\t\(terminalSafe(m.location))") }
            try plan.forEachObject { o in io.line("object\t\(o.size)\t\(days(o.lastModified))\t\(terminalSafe(o.location))") }
            for upload in plan.uploads {
                io.line("upload\t-\t\(days(upload.initiated))\t\(terminalSafe(upload.location)) (upload \(terminalSafe(upload.uploadId)))")
            }
            io.line("total\t\(plan.totalBytes)\t-\t\(count(plan.manifests.count, "manifest version")), "
                    + "\(count(plan.objectCount, "object version")), \(count(plan.uploads.count, "incomplete upload"))")
        }
        var result: GarbageResult?
        if yes && !plan.isEmpty {
            io.flush()
            if io.stdinIsTerminal {
                let question = "Delete \(count(plan.manifests.count, "manifest version")), \(count(plan.objectCount, "object version")) "
                    + "(\(formatBytes(plan.totalBytes)) in all) and abort \(count(plan.uploads.count, "upload")) in \(registry.url)?"
                guard io.confirm(question) else {
                    if json { io.write(Array(", \"deleted\": null}\n".utf8)) }
                    throw ArgumentError.notConfirmed
                }
            }
            let deleting = ProgressPhaseLines.phases(io, json: json)
            result = try collector.collect(plan, progress: deleting?.handler)
            deleting?.finish()
        }
        if json {
            var tail = Array(", \"deleted\": ".utf8)
            if let result {
                JSONWriter.writeManifestForm(.object(JSONObject([
                    ("manifests", .int(result.manifests)), ("objects", .int(result.objects)), ("uploads", .int(result.uploads)),
                    ("bytes", .int(result.bytes)), ("spared", .int(result.sparedSincePlanned)),
                ])), to: &tail)
            } else {
                tail += Array("null".utf8)
            }
            io.write(tail + Array("}\n".utf8))
        } else {
            io.flush()
            if let result {
                var text = "Deleted \(count(result.manifests, "manifest version")) and \(count(result.objects, "object version")) "
                    + "(\(formatBytes(result.bytes))), aborted \(count(result.uploads, "upload"))"
                if result.sparedSincePlanned > 0 {
                    text += "; kept \(result.sparedSincePlanned) that a revision published meanwhile needs"
                }
                io.verdict(text)
            } else if !plan.isEmpty {
                io.verdict(dryRun ? "Nothing deleted (--dry-run)" : "Nothing deleted: give --yes to delete what is listed")
            }
        }
    }
}
