// A command's streams and surroundings: stdout for data in large blocks, stderr for messages and progress,
// the context read once from the environment, and the one place where errors become messages and exit codes.
import ArgumentParser
import Foundation
import QuiltSupport
import QuiltFormat
import QuiltRegistry

/// Text for a person's terminal: control characters escaped (`\n`, `\x1b`, the two bytes of a C1 control), so
/// that a message, key or name from a registry can neither drive the terminal (retitle it, move the cursor) nor
/// forge a line of our output. Each command passes every such field of a human-readable line through here (the
/// separators of its own format stay as they are), and `IO.message` passes whole stderr lines; JSON output
/// escapes by its own rules, and manifests (`quilt-cat-manifest`) are data, printed as stored.
func terminalSafe(_ text: String) -> String { escapingControlCharacters(text) }

/// A command's streams and surroundings. stdout carries data only and is written in large blocks.
final class IO {
    let environment: [String: String]
    /// `QUILT_TRACE`: where S3 requests and the core's decisions are traced; nil when not tracing.
    let tracer: Tracer?
    /// `--verbose`: one line per S3 request, and `verbose:` notes, on stderr.
    private(set) var verbose = false
    /// `-q`, `--quiet`: no notes and no progress on stderr (errors and warnings still appear).
    private(set) var quiet = false
    private var buffer: [UInt8] = []
    private lazy var contextResult: Result<QuiltContext, any Error> = Result {
        try QuiltContext(environment: environment, requestLog: requestLog, trace: tracer?.handler)
    }

    init(environment: [String: String] = ProcessInfo.processInfo.environment, tracer: Tracer? = Tracer.process) {
        self.environment = environment
        self.tracer = tracer
        buffer.reserveCapacity(1 << 16)
    }

    /// Turns on `--verbose` request logging (before the first use of `context()`).
    func setVerbose(_ verbose: Bool) { self.verbose = verbose }

    /// Turns off notes and progress (`-q`).
    func setQuiet(_ quiet: Bool) { self.quiet = quiet }

    /// One line per S3 request attempt: on stderr with `--verbose`, into the trace with `QUILT_TRACE`.
    private var requestLog: (@Sendable (String) -> Void)? {
        let verbose = self.verbose, tracer = self.tracer
        guard verbose || tracer != nil else { return nil }
        return { line in
            if verbose {
                let bytes = Array(("verbose: " + line + "\n").utf8)
                bytes.withUnsafeBytes { _ = Foundation.write(2, $0.baseAddress, $0.count) }
            }
            tracer?.line(line)
        }
    }

    /// The environment and quilt3's configuration, read on first use.
    func context() throws -> QuiltContext { try contextResult.get() }

    func registry(_ options: RegistryOptions) throws -> Registry {
        try context().registry(options.registry)
    }

    /// The registry `revision` is read from: a Quilt+ URI's, else `--registry`'s, else the local registry.
    func registry(_ options: RegistryOptions, for revision: Revision) throws -> Registry {
        try context().registry(options.registry, for: revision)
    }

    /// The shard `--shard` names; `auto` reads the job runner's variables from this process's environment (the
    /// one place they are read). With `--verbose`, says where the index and count came from.
    func shard(_ option: ShardOption) throws -> Shard? {
        guard let text = option.shard else { return nil }
        let resolved = try Shard.resolve(text, environment: environment)
        note("shard \(resolved.shard) (from \(resolved.source))")
        return resolved.shard
    }

    /// A `verbose:` line on stderr, with `--verbose` only.
    func note(_ text: String) {
        if verbose { message("verbose: " + text) }
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

    /// One line on stdout, as given: the caller passes what came from a registry through `terminalSafe`.
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

    /// Writes all of `bytes` to `descriptor` now, unbuffered (a bundle streamed to standard output).
    static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = Foundation.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw FileSystemError.cannotWrite(path: descriptor == 1 ? "standard output" : "descriptor \(descriptor)",
                                                  reason: String(cString: strerror(errno)))
            }
            done += n
        }
    }

    /// Writes `bytes` to stdout now, after what is buffered: for data streamed in large blocks (`quilt cat`), which
    /// a copy into the buffer would only slow. A closed pipe (`| head`) ends the command quietly, with status 0.
    func writeNow(_ bytes: UnsafeRawBufferPointer) throws {
        flush()
        var done = 0
        while done < bytes.count {
            let n = Foundation.write(1, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                if errno == EPIPE { throw ExitCode.success }
                throw FileSystemError.cannotWrite(path: "standard output", reason: String(cString: strerror(errno)))
            }
            done += n
        }
        flushedAny = flushedAny || done > 0
    }

    /// Whether anything has been written to stdout yet.
    private(set) var flushedAny = false

    /// Drops what is buffered for stdout, if nothing has been written yet (a listing that must start again);
    /// false, dropping nothing, once something has.
    func takeBackUnwritten() -> Bool {
        guard !flushedAny else { return false }
        buffer.removeAll(keepingCapacity: true)
        return true
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        flushedAny = true
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

    /// One line on stderr. Messages are ours and one line each, so all of one passes through `terminalSafe`, in
    /// case a subject in it came from a registry unquoted.
    func message(_ text: String) {
        let bytes = Array((terminalSafe(text) + "\n").utf8)
        bytes.withUnsafeBytes { _ = Foundation.write(2, $0.baseAddress, $0.count) }
    }

    func warning(_ text: String) { message("warning: " + text) }

    /// A note for a person watching (what was done, where): shown on a terminal only, like progress, so scripts
    /// and pipes see nothing on stderr unless something is wrong.
    func info(_ text: String) {
        if progressAllowed(json: false) { message(text) }
    }

    /// A verdict on stderr (such as verify's): shown in pipes too, but not with `-q`.
    func verdict(_ text: String) {
        if !quiet { message(text) }
    }

    /// Prints an error the git way and returns the exit status it maps to.
    func report(_ error: any Error) -> Int32 {
        switch error {
        case let error as any CommandLineWorded:
            message("error: " + error.commandLineMessage)
            if let hint = error.commandLineHint { message("hint: " + hint) }
            return ExitStatus.forKind(error.kind)
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

    /// Progress goes to a terminal only, never with `--json`, `-q` or `QUILT_MINIMIZE_STDOUT=true`.
    func progressAllowed(json: Bool) -> Bool {
        !json && !quiet && stderrIsTerminal && environment["QUILT_MINIMIZE_STDOUT"]?.lowercased() != "true"
    }

    /// A progress line for one phase, or nil when progress is not shown.
    func progressLine(_ label: String, json: Bool = false) -> ProgressLine? {
        progressAllowed(json: json) ? ProgressLine(label: label, style: progressStyle) : nil
    }

    /// Redrawing a line in place needs a terminal that understands `\r` and ANSI erase: not a dumb one (TERM
    /// unset or `dumb`, as git decides), and not one whose locale is not UTF-8 (serial consoles, old terminals),
    /// which get one plain line at a time instead.
    var progressStyle: ProgressLine.Style {
        let term = environment["TERM"] ?? ""
        if term.isEmpty || term == "dumb" { return .plain }
        let locale = [environment["LC_ALL"], environment["LC_CTYPE"], environment["LANG"]]
            .compactMap { $0 }.first { !$0.isEmpty } ?? "C"
        let lowered = locale.lowercased()
        return lowered.contains("utf-8") || lowered.contains("utf8") ? .redraw : .plain
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
        let bytes = Array((terminalSafe(question) + " [y/N] ").utf8)
        bytes.withUnsafeBytes { _ = Foundation.write(2, $0.baseAddress, $0.count) }
        guard let answer = readLine() else { return false }
        return ["y", "yes"].contains(answer.trimmingWhitespace.lowercased())
    }
}
