// quilt whoami: which AWS credentials the suite would use, whose they are, and (with a registry) whether they
// can read and write there. Never prints a key, a token or a secret.
import ArgumentParser
import QuiltSupport
import QuiltFormat
import QuiltRegistry

struct Whoami: QuiltCommand, VerboseCommand {
    static let configuration = CommandConfiguration(
        commandName: "whoami",
        abstract: "Show where AWS credentials come from, whose they are, and what they may do.",
        discussion: """
        Names the credential source (a catalog sign-in, the environment, a profile, SSO, a process, an assumed \
        role, a container or instance role), asks STS whose credentials they are (GetCallerIdentity), and shows the \
        region. With --registry, also checks reading (a one-key listing) and writing (a small object under \
        .quilt/whoami/, whose version is deleted again at once, so no object, version or delete marker stays; \
        credentials that may write but not delete pass, and the report says where the probe was left). \
        --read-only, or no credentials, skips the write check. Exit status 1 when any check fails.
        """)

    @Option(name: .long, help: ArgumentHelp("Also check reading and writing here: s3://bucket[/prefix], a path or file:///dir.", valueName: "url"))
    var registry: String?

    @Flag(name: .long, help: "With --registry, check reading only: write nothing.")
    var readOnly = false

    @OptionGroup var verboseOption: VerboseOption

    @Flag(name: .long, help: "Print the report as one JSON object.")
    var json = false

    func execute(_ io: IO) throws {
        let report = try io.context().whoami(registry: registry, readOnly: readOnly)
        if json {
            io.json(Self.json(report))
        } else {
            // Profile names, ARNs and reasons come from files and servers: escaped like any registry text.
            func show(_ label: String, _ text: String) { io.line(label + terminalSafe(text)) }
            show("credentials: ", report.source)
            if let arn = report.arn {
                show("identity:    ", arn)
                show("account:     ", report.account ?? "")
            } else {
                show("identity:    ", "unknown (\(report.identityError ?? "no answer"))")
            }
            show("region:      ", report.region ?? "not set (found per bucket)")
            if let registry = report.registry {
                show("registry:    ", registry + (report.bucketRegion.map { " (region \($0))" } ?? ""))
                if let read = report.read { show("read:        ", Self.text(read)) }
                if let write = report.write {
                    show("write:       ", Self.text(write))
                } else if let skipped = report.writeSkipped {
                    show("write:       ", "not checked (\(skipped))")
                }
            }
        }
        if let left = report.write?.leftBehind {
            io.warning("could not remove the write probe \(quoted(left.location)): \(terminalSafe(left.reason)); "
                       + "these credentials may write but not delete: remove it with other credentials")
        }
        io.flush()
        if let error = report.identityError {
            throw WhoamiFailure(message: "no usable AWS credentials: \(error)", hint: report.identityHint)
        }
        if let read = report.read, !read.ok {
            throw WhoamiFailure(message: "cannot read \(quoted(report.registry ?? "")): \(read.detail ?? "")", hint: nil)
        }
        if let write = report.write, !write.ok {
            throw WhoamiFailure(message: "cannot write to \(quoted(report.registry ?? "")): \(write.detail ?? "")", hint: nil)
        }
    }

    static func text(_ check: WhoamiReport.Check) -> String {
        check.ok ? "ok" : "no (\(check.detail ?? "failed"))"
    }

    static func json(_ report: WhoamiReport) -> JSONValue {
        var object = JSONObject([
            ("credentials", .object(JSONObject([("source", .string(report.sourceKind)), ("description", .string(report.source))]))),
            ("identity", report.arn.map { arn in
                .object(JSONObject([("account", .string(report.account ?? "")), ("arn", .string(arn)),
                                    ("user_id", .string(report.userId ?? ""))]))
            } ?? .null),
            ("identity_error", report.identityError.map { .string($0) } ?? .null),
            ("region", report.region.map { .string($0) } ?? .null),
        ])
        if let registry = report.registry {
            func check(_ check: WhoamiReport.Check?, write: Bool = false) -> JSONValue {
                guard let check else { return .null }
                var object = JSONObject([("ok", .bool(check.ok)), ("error", check.ok ? .null : .string(check.detail ?? ""))])
                if write {
                    object["left_behind"] = check.leftBehind.map { .object(JSONObject([
                        ("location", .string($0.location)), ("reason", .string($0.reason)),
                    ])) } ?? .null
                }
                return .object(object)
            }
            object["registry"] = .object(JSONObject([
                ("url", .string(registry)), ("bucket_region", report.bucketRegion.map { .string($0) } ?? .null),
                ("read", check(report.read)), ("write", check(report.write, write: true)),
                ("write_skipped", report.writeSkipped.map { .string($0) } ?? .null),
            ]))
        }
        object["ok"] = .bool(report.ok)
        return .object(object)
    }
}

/// A check of `quilt whoami` that failed (the report above says which).
struct WhoamiFailure: QuiltError {
    let message: String
    let hint: String?
    var kind: FailureKind { .operationFailed }
}
