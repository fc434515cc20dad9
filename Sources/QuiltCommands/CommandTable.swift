// The table of every command: drives `quilt <name>` dispatch, each `quilt-<name>` executable, `quilt help`, and
// the one command tree (`Quilt`) that swift-argument-parser generates shell completions from.
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

        /// The command as its own program, `quilt-<name>` (plumbing).
        var standalone: any ParsableCommand.Type { CommandTable.standalone(command) }
    }

    static let rows: [Row] = [
        Row(name: "build", command: Build.self, category: .porcelain),
        Row(name: "push", command: Push.self, category: .porcelain),
        Row(name: "log", command: Log.self, category: .porcelain),
        Row(name: "list", command: List.self, category: .porcelain),
        Row(name: "show", command: Show.self, category: .porcelain),
        Row(name: "ls", command: Ls.self, category: .porcelain),
        Row(name: "cat", command: Cat.self, category: .porcelain),
        Row(name: "mount", command: Mount.self, category: .porcelain),
        Row(name: "umount", command: Umount.self, category: .porcelain),
        Row(name: "diff", command: Diff.self, category: .porcelain),
        Row(name: "verify", command: Verify.self, category: .porcelain),
        Row(name: "install", command: Install.self, category: .porcelain),
        Row(name: "status", command: Status.self, category: .porcelain),
        Row(name: "pull", command: Pull.self, category: .porcelain),
        Row(name: "delete", command: Delete.self, category: .porcelain),
        Row(name: "fsck", command: Fsck.self, category: .porcelain),
        Row(name: "gc", command: GC.self, category: .porcelain),
        Row(name: "rollback", command: Rollback.self, category: .porcelain),
        Row(name: "config", command: Config.self, category: .porcelain),
        Row(name: "cache", command: Cache.self, category: .porcelain),
        Row(name: "login", command: Login.self, category: .porcelain),
        Row(name: "logout", command: Logout.self, category: .porcelain),
        Row(name: "whoami", command: Whoami.self, category: .porcelain),
        Row(name: "bundle", command: BundleCommand.self, category: .porcelain),
        Row(name: "serve", command: Serve.self, category: .porcelain),
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

    static let summary = "Quilt data packages: build, publish and read versioned datasets."

    static func row(_ name: String) -> Row? { rows.first { $0.name == name } }

    /// Runs the program that `argv0` names, as git's builtins do: one binary hard-linked (or symlinked) as
    /// `quilt-<name>` for each plumbing command (scripts/package, scripts/install) runs that program, and any other
    /// name (`quilt`, `/usr/bin/quilt`, a renamed copy) runs `quilt`.
    public static func main(invokedAs argv0: String?) -> Never {
        main(program: program(invokedAs: argv0))
    }

    /// The program a path names: `quilt-<name>` when its last component is that of a plumbing command, else `quilt`.
    static func program(invokedAs argv0: String?) -> String {
        guard let base = argv0?.split(separator: "/").last, base.hasPrefix("quilt-"),
              row(String(base.dropFirst("quilt-".count)))?.category == .plumbing
        else { return "quilt" }
        return String(base)
    }

    /// Runs the program named `program` (`quilt` or `quilt-<name>`) with the process's arguments and exits.
    public static func main(program: String) -> Never {
        // A closed pipe must end the program quietly, not kill it with a signal mid-write.
        signal(SIGPIPE, SIG_IGN)
        let arguments = Array(CommandLine.arguments.dropFirst())
        if program != "quilt" {
            guard let row = row(String(program.dropFirst("quilt-".count))) else {
                fatalError("no command table row for \(program)")
            }
            Tracer.process?.line("built-in: " + shellQuoted([program] + arguments))
            run(row.standalone, arguments, helpCommand: program)
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
            guard arguments.count > 1 else {
                printOverview(to: 1)
                exit(0)
            }
            let name = arguments[1]
            if row(name) != nil { run(Quilt.self, [name, "--help"], helpCommand: "quilt \(name)") }
            execExternal(name, arguments: ["--help"])
            notACommand(name)
        case "--version", "version":
            print("quilt \(version)")
            exit(0)
        default:
            break
        }
        if let shell = completionShellAsked(arguments) {
            print(completionScript(for: shell), terminator: "")
            exit(0)
        }
        if row(first) != nil {
            Tracer.process?.line("built-in: " + shellQuoted(["quilt"] + arguments))
            run(Quilt.self, arguments, helpCommand: "quilt \(first)")
        }
        // Options of `quilt` itself: --generate-completion-script, and the parser's own errors for the rest.
        if first.hasPrefix("-") { run(Quilt.self, arguments, helpCommand: "quilt") }
        execExternal(first, arguments: Array(arguments.dropFirst()))
        notACommand(first)
    }

    /// Parses and runs one command. Help, versions and completion scripts go to stdout; argument errors are
    /// reported in the suite's one-line style (`error: …` and a `hint:`) with exit status 64, not
    /// swift-argument-parser's own format.
    static func run(_ root: any ParsableCommand.Type, _ arguments: [String], helpCommand: String) -> Never {
        if let bytes = firstArgumentNotUTF8() {
            Foundation.exit(IO().report(ArgumentError.notUTF8(what: "argument", bytes: bytes)))
        }
        var command: any ParsableCommand
        do {
            command = try root.parseAsRoot(arguments)
        } catch {
            if root.exitCode(for: error) == .success { root.exit(withError: error) }
            var text = root.message(for: error).trimmingWhitespace
            if let first = text.first, first.isUppercase, text.dropFirst().first?.isLowercase ?? false {
                text = first.lowercased() + text.dropFirst()
            }
            usageError(text, hint: "see '\(helpCommand) --help'")
        }
        do {
            try command.run()
            exit(0)
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch {
            root.exit(withError: error)
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

    /// The shell of `--generate-completion-script SHELL` (or `=SHELL`), anywhere on a `quilt` command line.
    static func completionShellAsked(_ arguments: [String]) -> CompletionShell? {
        for (i, argument) in arguments.enumerated() {
            if argument == "--generate-completion-script", i + 1 < arguments.count {
                return CompletionShell(rawValue: arguments[i + 1])
            }
            if argument.hasPrefix("--generate-completion-script=") {
                return CompletionShell(rawValue: String(argument.dropFirst("--generate-completion-script=".count)))
            }
        }
        return nil
    }

    /// The completion script of the whole tree. swift-argument-parser appends its own `help` command to every
    /// script after ours (HelpTopic), and in bash and zsh the later function wins, offering nothing after
    /// `quilt help`: its definition is dropped, so `quilt help <TAB>` offers the command names.
    static func completionScript(for shell: CompletionShell) -> String {
        let script = Quilt.completionScript(for: shell)
        guard shell == .bash || shell == .zsh else { return script }
        var lines = script.split(separator: "\n", omittingEmptySubsequences: false)
        let definitions = lines.indices.filter { lines[$0] == "_quilt_help() {" }
        guard definitions.count == 2, let end = lines[definitions[1]...].firstIndex(of: "}") else { return script }
        lines.removeSubrange(definitions[1]...end)
        return lines.joined(separator: "\n")
    }

    static func notACommand(_ name: String) -> Never {
        usageError("\(quoted(name)) is not a quilt command", hint: "see 'quilt --help'")
    }

    static func usageError(_ text: String, hint: String) -> Never {
        FileHandle.standardError.write(Data("error: \(text)\nhint: \(hint)\n".utf8))
        exit(ExitStatus.usage)
    }

    /// As git does for `git foo`: run `quilt-foo` from PATH when it exists.
    static func execExternal(_ name: String, arguments: [String]) {
        guard !name.hasPrefix("-"), !name.contains("/") else { return }
        let program = "quilt-" + name
        for path in FileSystem.executables(named: program, searchPath: ProcessInfo.processInfo.environment["PATH"] ?? "") {
            Tracer.process?.line("exec: " + shellQuoted([path] + arguments))
            let argv = ([program] + arguments).map { strdup($0) } + [nil]
            execv(path, argv)
        }
    }

    static func printOverview(to descriptor: Int32) {
        var text = "usage: quilt <command> [<args>]\n\n\(summary)\n"
        for category in [Category.porcelain, .plumbing] {
            text += "\n\(category.rawValue):\n"
            for row in rows where row.category == category {
                let padded = row.name.padding(toLength: 16, withPad: " ", startingAt: 0)
                text += "   \(padded)\(row.command.configuration.abstract)\n"
            }
        }
        text += "\nSee 'quilt help <command>' or 'quilt <command> --help' for one command, 'quilt --version' for the\n"
        text += "version, 'quilt --generate-completion-script bash|zsh|fish' for shell completion.\n"
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { _ = write(descriptor, $0.baseAddress, $0.count) }
    }

    /// Opens the existential so `Standalone` gets the concrete command type.
    static func standalone<Command: ParsableCommand>(_ command: Command.Type) -> any ParsableCommand.Type {
        Standalone<Command>.self
    }
}

/// `quilt` as swift-argument-parser sees it: the root of one tree holding every command, so that its completion
/// generator covers every command and option in one script per shell. Dispatch stays git's (`CommandTable.main`):
/// known names are parsed through this tree, anything else runs `quilt-<name>` from PATH.
struct Quilt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quilt",
        abstract: CommandTable.summary,
        version: "quilt \(CommandTable.version)",
        subcommands: [HelpTopic.self],
        groupedSubcommands: [CommandTable.Category.porcelain, .plumbing].map { category in
            CommandGroup(name: category.rawValue,
                         subcommands: CommandTable.rows.filter { $0.category == category }.map(\.command))
        })
}

/// `quilt help <command>` as the completion scripts see it: dispatch answers `help` before any parsing
/// (`CommandTable.main`), so this type only gives the completion generator the command names to offer.
struct HelpTopic: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "help", abstract: "Show the help of a command.")

    @Argument(help: "The command.", completion: .list(CommandTable.rows.map(\.name)))
    var command: String?

    func run() throws {
        CommandTable.printOverview(to: 1)
    }
}

/// A plumbing command as its own program, `quilt-<name>`: the same options and work, with the program's name in
/// its help and version line. (The command's own configuration names it as a subcommand of `quilt`, and a type's
/// configuration is static, so the other name needs another type.)
struct Standalone<Command: ParsableCommand>: ParsableCommand {
    static var configuration: CommandConfiguration {
        let command = Command.configuration
        let name = "quilt-" + (command.commandName ?? "")
        return CommandConfiguration(commandName: name, abstract: command.abstract, discussion: command.discussion,
                                    version: "\(name) \(CommandTable.version)")
    }

    @OptionGroup var command: Command

    mutating func run() throws { try command.run() }
}

extension CommandConfiguration {
    /// A plumbing command's configuration: named as a subcommand of `quilt`, with the program's version line, so
    /// `quilt hash-object --version` and `quilt-hash-object --version` both print `quilt-hash-object 0.1.0`.
    static func plumbing(_ name: String, abstract: String, discussion: String = "") -> CommandConfiguration {
        CommandConfiguration(commandName: name, abstract: abstract, discussion: discussion,
                             version: "quilt-\(name) \(CommandTable.version)")
    }
}
