// quilt cache: the content-addressed object cache installs and fetches read before the network.
import ArgumentParser
import QuiltFormat
import QuiltRegistry
import QuiltSupport

struct Cache: QuiltCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Show, check and prune the object cache installs read before downloading.",
        discussion: """
        ACTION is one of: size (entries and bytes; partial entries apart, as the disk they take), list (one \
        '<type> <hex digest> <size> <last used>' line per entry, least recently used first), verify (hash every \
        entry; remove those that do not match), prune (remove entries by --older-than and then, least recently \
        used first, down to --max-size, partial entries counted as the disk they take; with neither, the \
        cache_max_size of config.yml). verify and prune also remove temporary files left by writers killed \
        an hour ago or more. The cache is $XDG_CACHE_HOME/Quilt/objects.
        """)

    // (Unconditional: a negative number is a value to refuse with a reason, not an unknown option.)
    @Option(name: .long, parsing: .unconditional, help: "prune: entries not used for this many days (fractions allowed, 0 to 10^14).")
    var olderThan: String?

    @Option(name: .long, parsing: .unconditional, help: "prune: then the least recently used entries until the cache holds at most SIZE (bytes, or K, M, G, T).")
    var maxSize: String?

    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    static let actions = ["size", "list", "verify", "prune"]

    @Argument(help: "size, list, verify or prune.", completion: .list(Cache.actions))
    var action: String

    func validate() throws {
        guard Self.actions.contains(action) else {
            throw ValidationError("unknown action '\(action)' (size, list, verify or prune)")
        }
        if action != "prune" && (olderThan != nil || maxSize != nil) {
            throw ValidationError("--older-than and --max-size go with prune")
        }
    }

    func execute(_ io: IO) throws {
        let (age, size) = try Self.pruneLimits(olderThanDays: olderThan, maxSize: maxSize)
        let context = try io.context()
        switch action {
        case "size", "list":
            let listing = context.cacheListing()
            let entries = listing.entries
            if action == "size" {
                if json {
                    io.json(.object(JSONObject([("path", .string(listing.root)), ("entries", .int(entries.count)),
                                                ("bytes", .int(listing.bytes)), ("partial_entries", .int(listing.partial.count)),
                                                ("partial_bytes", .int(listing.partialBytes))])))
                } else {
                    let partial = listing.partial.isEmpty ? "" : "; \(listing.partial.count) partial entr\(listing.partial.count == 1 ? "y" : "ies"), \(listing.partialBytes) bytes"
                    io.line("\(entries.count) entr\(entries.count == 1 ? "y" : "ies"), \(listing.bytes) bytes\(partial) in \(terminalSafe(listing.root))")
                }
            } else if json {
                io.json(.array(entries.map(Self.json)))
            } else {
                for e in entries { io.line("\(e.hashType) \(e.digest) \(e.size) \(e.lastUsed)") }
            }
        default:
            let report = action == "verify" ? context.verifyCache() : try context.pruneCache(olderThan: age, maxSize: size)
            if json {
                io.json(.object(JSONObject([
                    ("checked", .int(report.checked)), ("removed", .array(report.removed.map(Self.json))),
                    ("removed_bytes", .int(report.removedBytes)), ("temporary_files_removed", .int(report.temporaryFilesRemoved)),
                ])))
            } else {
                io.line("\(action == "verify" ? "Checked" : "Considered") \(report.checked) entries; removed "
                        + "\(report.removed.count) (\(report.removedBytes) bytes) and \(report.temporaryFilesRemoved) temporary files")
            }
        }
    }

    /// `--older-than` (days, fractions allowed) in seconds and `--max-size` (such as 10G) in bytes; a value out of
    /// range is a usage error, never a trap.
    static func pruneLimits(olderThanDays: String?, maxSize: String?) throws -> (age: Int?, size: Int?) {
        let age = try olderThanDays.map(seconds(days:))
        let size = try maxSize.map { text -> Int in
            guard let size = Settings.parseByteSize(text) else { throw CacheOptionError.notASize(text) }
            return size
        }
        return (age, size)
    }

    /// `--older-than` (of prune, and of gc) in seconds: a number of days, fractions allowed; out of range is a
    /// usage error, never a trap.
    static func seconds(days text: String) throws -> Int {
        // (Days past what seconds in an Int hold, about 10^14, are no age anything can have.)
        guard let days = Double(text), days >= 0, days.isFinite, days * 86400 < 9e18 else {
            throw CacheOptionError.notDays(text)
        }
        return Int(days * 86400)
    }

    /// The option values that are not a number of days or a size.
    enum CacheOptionError: QuiltError {
        case notDays(String)
        case notASize(String)

        var kind: FailureKind { .usage }
        var message: String {
            switch self {
            case .notASize(let text): return "not a size \(quoted(text)) (bytes, or a number with K, M, G or T)"
            case .notDays(let text): return "not a number of days from 0 to 10^14 \(quoted(text))"
            }
        }
    }

    static func json(_ e: CacheEntry) -> JSONValue {
        .object(JSONObject([("type", .string(e.hashType)), ("digest", .string(e.digest)), ("size", .int(e.size)),
                            ("last_used", .int(e.lastUsed))] + (e.partial ? [("partial", .bool(true))] : [])))
    }
}
