// quilt serve: a read-only browser of registries in a web page (git's instaweb, the Quilt catalog's package pages).
// The server (QuiltServe: Hummingbird and NIO) is linked into the quilt-serve program alone, so that no other
// program carries it: in `quilt`, the arguments are parsed here, then quilt-serve (beside quilt, else on PATH) is
// run with them, as git runs its own programs; quilt-serve sets `ServeHost.run` and serves.
import ArgumentParser
import Foundation
import QuiltSupport
import QuiltRegistry

/// What `quilt serve` asks of the server.
public struct ServeRequest: Sendable {
    public let registries: [Registry]
    public let host: String
    public let port: Int
    public let context: QuiltContext
    /// One line on stderr (a request, a note).
    public let log: @Sendable (String) -> Void
    /// Called once the server listens, with its URL.
    public let ready: @Sendable (String) -> Void
}

/// The server of `quilt serve`: set by the quilt-serve program before it runs, nil in every other program.
public enum ServeHost {
    nonisolated(unsafe) public static var run: ((ServeRequest) throws -> Void)?
}

struct Serve: QuiltCommand, VerboseCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Browse registries in a web page (read-only).",
        discussion: """
        Serves a browser of the registries given with --registry (local directories or S3; default: the local \
        registry) at http://127.0.0.1:PORT/: the packages with their latest revision, a package at any revision \
        (metadata, README.md, its files by directory with sizes, the workflow stamp, a Quilt+ URI), its revisions, \
        a comparison of two revisions, and a page per file with a preview (text, CSV and TSV as a table, JSON, \
        Markdown, images) and a download of its verified bytes. Nothing is ever written to a registry: GET and \
        HEAD are answered, anything else is refused. Each revision's directory tree is built once and kept in the \
        cache directory (revision-index). One line per request goes to standard error; Ctrl-C stops it.
        """)

    @Option(name: .long, help: ArgumentHelp("A registry to show: a path, file:///dir or s3://bucket[/prefix]; repeat for several (default: the local registry).", valueName: "url"))
    var registry: [String] = []

    @Option(name: .long, help: ArgumentHelp("The TCP port to listen on (0: any free port).", valueName: "port"))
    var port: Int = 7970

    @Option(name: .long, help: ArgumentHelp("The address to listen on; any but a loopback address is warned about.", valueName: "addr"))
    var bind: String = "127.0.0.1"

    @Flag(name: .long, help: "Open the first page in a web browser (xdg-open, else $BROWSER).")
    var open = false

    @OptionGroup var verboseOption: VerboseOption

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard !bind.isEmpty else { throw ValidationError("--bind needs an address") }
        for text in registry { _ = try RegistryLocation(text) }
    }

    func execute(_ io: IO) throws {
        guard let run = ServeHost.run else { try Self.runServeProgram() }
        let context = try io.context()
        var registries: [Registry] = []
        for text in registry.isEmpty ? [nil] : registry.map(Optional.some) {
            let registry = try context.registry(text)
            if !registries.contains(where: { $0.url == registry.url }) { registries.append(registry) }
        }
        if !Self.isLoopback(bind) {
            let reach = port == 0 ? "its port" : "port \(port)"
            io.warning("listening on \(bind): anyone who can reach this machine on \(reach) can read these registries (there is no sign-in)")
        }
        let open = self.open, environment = io.environment
        let shown = registries.count == 1 ? registries[0].url : "\(registries.count) registries"
        let log: @Sendable (String) -> Void = { line in
            let bytes = Array((terminalSafe(line) + "\n").utf8)
            bytes.withUnsafeBytes { _ = Foundation.write(2, $0.baseAddress, $0.count) }
        }
        try run(ServeRequest(registries: registries, host: bind, port: port, context: context, log: log) { url in
            log("serving \(shown) at \(url) (Ctrl-C stops)")
            if open { Self.openBrowser(url, environment: environment, log: log) }
        })
        log("stopped")
    }

    static func isLoopback(_ address: String) -> Bool {
        address == "localhost" || address == "::1" || address.hasPrefix("127.")
    }

    /// Runs quilt-serve with this command's arguments: the one beside this program first (an install, a build
    /// directory), else the first on PATH.
    static func runServeProgram() throws -> Never {
        let arguments = Array(CommandLine.arguments.dropFirst(2))
        var searchPath = ProcessInfo.processInfo.environment["PATH"] ?? ""
        if let me = try? FileSystem.realPath("/proc/self/exe") { searchPath = FileSystem.parent(of: me) + ":" + searchPath }
        for path in FileSystem.executables(named: "quilt-serve", searchPath: searchPath) {
            Tracer.process?.line("exec: " + shellQuoted([path] + arguments))
            let argv = (["quilt-serve"] + arguments).map { strdup($0) } + [nil]
            execv(path, argv)
        }
        throw ServeCommandError.programMissing
    }

    /// xdg-open, else $BROWSER, in the background; a failure is a note, not an error.
    static func openBrowser(_ url: String, environment: [String: String], log: @Sendable (String) -> Void) {
        let commands = ["xdg-open"] + (environment["BROWSER"].map { [$0] } ?? [])
        for command in commands {
            for path in FileSystem.executables(named: command, searchPath: environment["PATH"] ?? "") {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: path)
                process.arguments = [url]
                if (try? process.run()) != nil { return }
            }
        }
        log("note: no browser to open (neither xdg-open nor $BROWSER); open \(url) yourself")
    }
}

enum ServeCommandError: QuiltError {
    case programMissing

    var kind: FailureKind { .operationFailed }
    var message: String { "quilt serve runs the quilt-serve program, found neither beside quilt nor on PATH" }
    var hint: String? {
        "scripts/install puts it beside quilt; from the binary packages, install quilt-swift-serve too (scripts/package --serve makes it)"
    }
}
