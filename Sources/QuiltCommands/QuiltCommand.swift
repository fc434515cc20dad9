// The machinery every command shares: setup, output streams, progress, and the one place where errors become
// exit codes and one-line messages.
import ArgumentParser
import Foundation
import QuiltCore

/// Exit statuses of the contract.
public enum ExitStatus {
    public static let success: Int32 = 0
    public static let failure: Int32 = 1
    public static let conflict: Int32 = 2
    public static let usage: Int32 = 64
    public static let badInput: Int32 = 65

    static func forKind(_ kind: FailureKind) -> Int32 {
        switch kind {
        case .operationFailed: return failure
        case .conflict: return conflict
        case .usage: return usage
        case .badInput: return badInput
        }
    }
}

/// A command of the suite: parses its arguments (swift-argument-parser), then `execute`s with an `IO`.
protocol QuiltCommand: ParsableCommand {
    func execute(_ io: IO) throws
}

/// A command with `--verbose`.
protocol VerboseCommand {
    var verboseOption: VerboseOption { get }
}

extension QuiltCommand {
    mutating func run() throws {
        let io = IO()
        if let command = self as? VerboseCommand { io.setVerbose(command.verboseOption.verbose) }
        do {
            try execute(io)
            io.flush()
        } catch {
            io.flush()
            throw ExitCode(io.report(error))
        }
    }
}

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

/// A command's streams and surroundings. stdout carries data only and is written in large blocks.
final class IO {
    let environment: [String: String]
    private var buffer: [UInt8] = []
    private lazy var contextResult: Result<QuiltContext, any Error> = Result { try QuiltContext(environment: environment) }

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
        buffer.reserveCapacity(1 << 16)
    }

    /// Turns on `--verbose` request logging (before the first use of `context()`).
    func setVerbose(_ verbose: Bool) {
        guard verbose else { return }
        let environment = self.environment
        contextResult = Result {
            try QuiltContext(environment: environment) { line in
                let bytes = Array(("verbose: " + line + "\n").utf8)
                bytes.withUnsafeBytes { _ = Foundation.write(2, $0.baseAddress, $0.count) }
            }
        }
    }

    /// The environment and quilt3's configuration, read on first use.
    func context() throws -> QuiltContext { try contextResult.get() }

    func registry(_ options: RegistryOptions) throws -> Registry {
        try context().registry(options.registry)
    }

    // MARK: stdout

    func write(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    func write(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    func line(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { flush() }
    }

    /// Writes a JSON value and a newline.
    func json(_ value: JSONValue) {
        var out: [UInt8] = []
        JSONWriter.writeManifestForm(value, to: &out)
        out.append(0x0A)
        write(out)
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Foundation.write(1, raw.baseAddress! + done, raw.count - done)
                if n <= 0 {
                    if errno == EINTR { continue }
                    // A closed pipe (`| head`) is not an error worth a message.
                    exit(errno == EPIPE ? 0 : ExitStatus.failure)
                }
                done += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    // MARK: stderr

    func message(_ text: String) {
        let bytes = Array((text + "\n").utf8)
        bytes.withUnsafeBytes { _ = Foundation.write(2, $0.baseAddress, $0.count) }
    }

    func warning(_ text: String) { message("warning: " + text) }

    /// A note for a person watching (what was done, where): shown on a terminal only, like progress, so scripts
    /// and pipes see nothing on stderr unless something is wrong.
    func info(_ text: String) {
        if progressAllowed(json: false) { message(text) }
    }

    /// Prints an error the git way and returns the exit status it maps to.
    func report(_ error: any Error) -> Int32 {
        switch error {
        case let error as QuiltError:
            message("error: " + error.message)
            if let hint = error.hint { message("hint: " + hint) }
            return ExitStatus.forKind(error.kind)
        case let exit as ExitCode:
            return exit.rawValue
        case let error as ValidationError:
            message("error: " + error.message)
            return ExitStatus.usage
        default:
            message("error: \(error)")
            return ExitStatus.failure
        }
    }

    var stderrIsTerminal: Bool { FileSystem.isTerminal(2) }
    var stdinIsTerminal: Bool { FileSystem.isTerminal(0) }

    /// Progress goes to a terminal only, never with `--json` or `QUILT_MINIMIZE_STDOUT=true`.
    func progressAllowed(json: Bool) -> Bool {
        !json && stderrIsTerminal && environment["QUILT_MINIMIZE_STDOUT"]?.lowercased() != "true"
    }

    /// All of standard input.
    func readStandardInput() -> [UInt8] {
        var bytes: [UInt8] = []
        readStandardInput { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// Standard input in blocks of up to 1 MiB, for readers that need not hold all of it.
    func readStandardInput(_ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { block.deallocate() }
        while true {
            let n = Foundation.read(0, block.baseAddress, block.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            try body(UnsafeRawBufferPointer(rebasing: block[0..<n]))
        }
    }

    /// Asks a yes/no question on the terminal.
    func confirm(_ question: String) -> Bool {
        let bytes = Array((question + " [y/N] ").utf8)
        bytes.withUnsafeBytes { _ = Foundation.write(2, $0.baseAddress, $0.count) }
        guard let answer = readLine() else { return false }
        return ["y", "yes"].contains(answer.trimmingWhitespace.lowercased())
    }
}

/// A progress line on stderr, redrawn at most ten times a second.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private var lastDraw = 0.0
    private let label: String
    private let start = Date()
    private var drew = false

    init(label: String) { self.label = label }

    func update(_ progress: QuiltCore.Progress) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date().timeIntervalSince(start)
        guard now - lastDraw >= 0.1 || progress.filesDone == progress.filesTotal else { return }
        lastDraw = now
        drew = true
        var text = "\r\(label): \(progress.filesDone)/\(progress.filesTotal) files, \(formatBytes(progress.bytesDone))"
        if progress.bytesTotal > 0 {
            text += " of \(formatBytes(progress.bytesTotal))"
            let rate = Double(progress.bytesDone) / max(now, 0.001)
            text += ", \(formatBytes(Int(rate)))/s"
            if rate > 0 && progress.bytesDone < progress.bytesTotal {
                text += ", ETA \(Int(Double(progress.bytesTotal - progress.bytesDone) / rate))s"
            }
        }
        text += "\u{1B}[K"
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { _ = Foundation.write(2, $0.baseAddress, $0.count) }
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if drew { _ = Foundation.write(2, "\n", 1) }
    }

    var handler: ProgressHandler { { [self] in self.update($0) } }
}

func formatBytes(_ count: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(count)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(count) B" : "\((value * 10).rounded() / 10) \(units[unit])"
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
    case invalid(String)
    case notConfirmed

    var kind: FailureKind {
        switch self {
        case .invalidMetadata: return .badInput
        case .invalid: return .usage
        case .notConfirmed: return .operationFailed
        }
    }
    var message: String {
        switch self {
        case .invalidMetadata(let subject, let reason): return "invalid metadata JSON \(quoted(subject)): \(reason)"
        case .invalid(let text): return text
        case .notConfirmed: return "not confirmed; nothing deleted"
        }
    }
}
