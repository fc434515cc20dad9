// Options several commands share, and the argument values only the command layer can check.
import ArgumentParser
import QuiltSupport
import QuiltFormat
import QuiltRegistry

/// Options of every command that touches a registry.
struct RegistryOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Registry: a path, file:///dir or s3://bucket[/prefix] (default: the local registry).", valueName: "url"))
    var registry: String?
}

/// `--verbose`: one line on stderr per S3 request (never a credential, a header or a signature).
struct VerboseOption: ParsableArguments {
    @Flag(name: [.customShort("v"), .long], help: "Show each S3 request on standard error.")
    var verbose = false
}

/// `-q`, `--quiet`: for commands that print notes or progress on stderr.
struct QuietOption: ParsableArguments {
    @Flag(name: [.customShort("q"), .long], help: "Print no notes or progress on standard error (errors and warnings still appear).")
    var quiet = false
}

/// `--shard`: this worker's share of the entries (Documentation/sharded-publishing.md).
struct ShardOption: ParsableArguments {
    // (Unconditional: `--shard -1/4` is a value to refuse with a reason, not an unknown option.)
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Only this worker's share of the entries, by logical key: K/N (0 ≤ K < N), auto or auto/N (index, and count, from the job runner's variables).", valueName: "k/n|auto"))
    var shard: String?

    func validate() throws {
        // The job runner's variables are read when the command runs; the literal form is checked now.
        // (Worded here as at run time: a failure of parsing is printed by the argument parser, not by IO.report.)
        do {
            if let shard, !shard.hasPrefix("auto") { _ = try Shard.resolve(shard, environment: [:]) }
        } catch let error as ShardError {
            throw ValidationError(error.commandLineMessage)
        }
    }
}

/// Reads `--meta JSON|@FILE`.
func parseMetaArgument(_ text: String) throws -> JSONValue {
    if text.hasPrefix("@") {
        let path = String(text.dropFirst())
        let bytes = try FileSystem.readFile(path)
        do { return try JSONParser.parse(bytes) } catch {
            throw ArgumentError.invalidMetadata(subject: path, reason: error.message)
        }
    }
    do { return try JSONParser.parse(text) } catch {
        throw ArgumentError.invalidMetadata(subject: text, reason: error.message)
    }
}

/// Errors in what the user typed that only the command layer can see.
enum ArgumentError: QuiltError {
    case invalidMetadata(subject: String, reason: String)
    /// Bytes given as text (an argument, a path on standard input) that are not valid UTF-8: read as a String they
    /// would be silently changed (U+FFFD), so they are refused instead.
    case notUTF8(what: String, bytes: [UInt8])
    case invalid(String)
    case notConfirmed
    /// A question that cannot be asked (standard input is not a terminal) and no `--yes`.
    case confirmationNeeded(what: String, registry: String)

    var kind: FailureKind {
        switch self {
        case .invalidMetadata, .notUTF8: return .badInput
        case .invalid, .confirmationNeeded: return .usage
        case .notConfirmed: return .operationFailed
        }
    }
    var message: String {
        switch self {
        case .invalidMetadata(let subject, let reason): return "invalid metadata JSON \(quoted(subject)): \(reason)"
        case .notUTF8(let what, let bytes): return "\(what) is not valid UTF-8 \(quoted(bytes: bytes))"
        case .invalid(let text): return text
        case .notConfirmed: return "not confirmed; nothing deleted"
        case .confirmationNeeded(let what, let registry):
            return "standard input is not a terminal, so nobody can confirm deleting \(what) from \(registry); nothing deleted"
        }
    }
    var hint: String? {
        if case .confirmationNeeded = self { return "to delete without asking, add --yes" }
        return nil
    }
}
