// The table of every command: drives `quilt <name>` dispatch, each `quilt-<name>` executable, and `quilt help`.
import ArgumentParser
import Foundation
import QuiltSupport

public enum CommandTable {
    enum Category: String {
        case porcelain = "Porcelain commands (for people)"
        case plumbing = "Plumbing commands (for scripts; also quilt-<name> executables)"
    }

    struct Row {
        let name: String
        let command: any ParsableCommand.Type
        let category: Category
    }

    static let rows: [Row] = [
        Row(name: "build", command: Build.self, category: .porcelain),
        Row(name: "push", command: Push.self, category: .porcelain),
        Row(name: "log", command: Log.self, category: .porcelain),
        Row(name: "list", command: List.self, category: .porcelain),
        Row(name: "show", command: Show.self, category: .porcelain),
        Row(name: "diff", command: Diff.self, category: .porcelain),
        Row(name: "verify", command: Verify.self, category: .porcelain),
        Row(name: "install", command: Install.self, category: .porcelain),
        Row(name: "delete", command: Delete.self, category: .porcelain),
        Row(name: "config", command: Config.self, category: .porcelain),
        Row(name: "bundle", command: BundleCommand.self, category: .porcelain),
        Row(name: "hash-object", command: HashObject.self, category: .plumbing),
        Row(name: "write-manifest", command: WriteManifest.self, category: .plumbing),
        Row(name: "cat-manifest", command: CatManifest.self, category: .plumbing),
        Row(name: "rev-parse", command: RevParse.self, category: .plumbing),
        Row(name: "update-ref", command: UpdateRef.self, category: .plumbing),
        Row(name: "show-ref", command: ShowRef.self, category: .plumbing),
        Row(name: "upload-blob", command: UploadBlob.self, category: .plumbing),
        Row(name: "fetch-blob", command: FetchBlob.self, category: .plumbing),
    ]

    public static let version = "0.1.0"

    /// Runs the program named `program` (`quilt` or `quilt-<name>`) with the process's arguments and exits.
    public static func main(program: String) -> Never {
        // A closed pipe must end the program quietly, not kill it with a signal mid-write.
        signal(SIGPIPE, SIG_IGN)
        let arguments = Array(CommandLine.arguments.dropFirst())
        if program != "quilt" {
            let name = String(program.dropFirst("quilt-".count))
            guard let row = rows.first(where: { $0.name == name }) else { fatalError("no command table row for \(program)") }
            run(row, arguments)
        }
        guard let first = arguments.first else {
            printOverview(to: 2)
            exit(ExitStatus.usage)
        }
        switch first {
        case "-h", "--help":
            printOverview(to: 1)
            exit(0)
        case "help":
            if arguments.count > 1, let row = rows.first(where: { $0.name == arguments[1] }) {
                run(row, ["--help"])
            }
            printOverview(to: 1)
            exit(0)
        case "--version", "version":
            print("quilt \(version)")
            exit(0)
        default:
            break
        }
        if let row = rows.first(where: { $0.name == first }) {
            run(row, Array(arguments.dropFirst()))
        }
        execExternal(first, arguments: Array(arguments.dropFirst()))
        FileHandle.standardError.write(Data("error: '\(first)' is not a quilt command\nhint: see 'quilt --help'\n".utf8))
        exit(ExitStatus.usage)
    }

    /// Parses and runs one command. Help goes to stdout; argument errors are reported in the suite's one-line
    /// style (`error: …` and a `hint:`) with exit status 64, not swift-argument-parser's own format.
    static func run(_ row: Row, _ arguments: [String]) -> Never {
        if let bytes = firstArgumentNotUTF8() {
            Foundation.exit(IO().report(ArgumentError.notUTF8(what: "argument", bytes: bytes)))
        }
        do {
            var command = try row.command.parseAsRoot(arguments)
            try command.run()
            exit(0)
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch {
            if row.command.exitCode(for: error) == .success { row.command.exit(withError: error) }
            var text = row.command.message(for: error).trimmingWhitespace
            if let first = text.first, first.isUppercase, text.dropFirst().first?.isLowercase ?? false {
                text = first.lowercased() + text.dropFirst()
            }
            let name = row.category == .porcelain ? "quilt \(row.name)" : "quilt-\(row.name)"
            FileHandle.standardError.write(Data("error: \(text)\nhint: see '\(name) --help'\n".utf8))
            Foundation.exit(ExitStatus.usage)
        }
    }

    /// The first argument, as the process received it, that is not valid UTF-8 (or encodes a surrogate).
    /// `CommandLine.arguments` repairs such bytes with U+FFFD, which would store a message or metadata different
    /// from what was given, or look for a file that does not exist, without a word.
    static func firstArgumentNotUTF8() -> [UInt8]? {
        for i in 1..<Int(CommandLine.argc) {
            guard let argument = CommandLine.unsafeArgv[i] else { continue }
            let bytes = Array(UnsafeRawBufferPointer(start: argument, count: strlen(argument)))
            if String(validating: bytes, as: UTF8.self) == nil { return bytes }
        }
        return nil
    }

    /// As git does for `git foo`: run `quilt-foo` from PATH when it exists.
    static func execExternal(_ name: String, arguments: [String]) {
        guard !name.hasPrefix("-"), !name.contains("/") else { return }
        let program = "quilt-" + name
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = directory + "/" + program
            guard access(path, X_OK) == 0 else { continue }
            let argv = ([program] + arguments).map { strdup($0) } + [nil]
            execv(path, argv)
        }
    }

    static func printOverview(to descriptor: Int32) {
        var text = "usage: quilt <command> [<args>]\n\nQuilt data packages: build, publish and read versioned datasets.\n"
        for category in [Category.porcelain, .plumbing] {
            text += "\n\(category.rawValue):\n"
            for row in rows where row.category == category {
                let padded = row.name.padding(toLength: 16, withPad: " ", startingAt: 0)
                text += "   \(padded)\(row.command.configuration.abstract)\n"
            }
        }
        text += "\nSee 'quilt help <command>' or 'quilt <command> --help' for one command.\n"
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { _ = write(descriptor, $0.baseAddress, $0.count) }
    }
}
