// quilt log: a package's revisions, newest first.
import ArgumentParser
import Foundation
import QuiltFormat
import QuiltRegistry

struct Log: QuiltCommand, VerboseCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Show a package's revisions, newest first.",
        discussion: "One line per timestamp pointer: the time (UTC), the top hash and the message; '(latest)' marks the revision latest names.")

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption

    @Flag(name: .long, help: "Print [{timestamp, top_hash, message, latest, user_meta}] as JSON.")
    var json = false

    @Argument(help: "The package name, ns/name.")
    var name: String

    func execute(_ io: IO) throws {
        try PackageName.validate(name)
        let registry = try io.registry(registryOptions)
        let history = try registry.history(name) { warnCorruptPointer($0, io) }
        var rows: [JSONValue] = []
        for version in history {
            let message = version.header?["message"] ?? .null
            if json {
                // `latest` and `user_meta` were added after the first three keys; keys are never renamed.
                rows.append(.object(JSONObject([
                    ("timestamp", .integer(version.timestamp)), ("top_hash", .string(version.topHash)), ("message", message),
                    ("latest", .bool(version.isLatest)), ("user_meta", version.header?["user_meta"] ?? .null),
                ])))
            } else {
                let date = Date(timeIntervalSince1970: Double(version.timestamp) ?? 0)
                let marker = version.isLatest ? " (latest)" : ""
                let text = terminalSafe(message.stringValue ?? "")
                io.line("\(Self.format(date))  \(version.topHash)\(marker)  \(text)")
            }
        }
        if json { io.json(.array(rows)) }
    }

    static func format(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: date)
    }
}
