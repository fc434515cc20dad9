// What every command is: it parses its arguments, then executes with an IO; errors become exit codes here.
import ArgumentParser

/// A command of the suite: parses its arguments (swift-argument-parser), then `execute`s with an `IO`.
protocol QuiltCommand: ParsableCommand {
    func execute(_ io: IO) throws
}

/// A command with `--verbose`.
protocol VerboseCommand {
    var verboseOption: VerboseOption { get }
}

/// A command with `-q`, `--quiet`.
protocol QuietCommand {
    var quietOption: QuietOption { get }
}

extension QuiltCommand {
    mutating func run() throws {
        let io = IO()
        if let command = self as? VerboseCommand { io.setVerbose(command.verboseOption.verbose) }
        if let command = self as? QuietCommand { io.setQuiet(command.quietOption.quiet) }
        do {
            try execute(io)
            io.flush()
        } catch {
            io.flush()
            throw ExitCode(io.report(error))
        }
    }
}
