// Every command's help and its page agree, as git's t0450 checks: the page exists, has the sections in order,
// and names every long option the help lists.
import Foundation
import Testing
@testable import QuiltCommands
import ArgumentParser

@Suite struct DocumentationTests {
    static let sections = [
        "## NAME", "## SYNOPSIS", "## DESCRIPTION", "## OPTIONS", "## OUTPUT", "## EXIT STATUS", "## EXAMPLES",
        "## SEE ALSO",
    ]

    /// The repository root: this file is at Tests/QuiltCommandsTests/DocumentationTests.swift.
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func page(_ name: String) throws -> String {
        let url = root.appendingPathComponent("Documentation/quilt-\(name).md")
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// The `--long-option` names the help text's OPTIONS list declares, `--help` aside. Only option lines count, so
    /// an option of another program quoted in the discussion (such as quilt3's `--dir`) is not taken for one.
    static func longOptions(in help: String) -> Set<String> {
        var names: Set<String> = []
        var inOptions = false
        let declaration = /^\s+(?:-[A-Za-z], )?(--[a-z][a-z0-9-]*)/
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" ") && !line.isEmpty { inOptions = line.hasPrefix("OPTIONS:") }
            guard inOptions, let match = line.firstMatch(of: declaration) else { continue }
            names.insert(String(match.output.1))
        }
        names.remove("--help")
        return names
    }

    static var commandNames: [String] { CommandTable.rows.map(\.name) }

    @Test func everyCommandIsDocumented() {
        let missing = Self.commandNames.filter {
            !FileManager.default.fileExists(atPath: Self.root.appendingPathComponent("Documentation/quilt-\($0).md").path)
        }
        #expect(missing.isEmpty, "no page for: \(missing)")
    }

    @Test(arguments: commandNames)
    func pageHasSectionsInOrder(_ name: String) throws {
        let text = try Self.page(name)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var previous = -1
        for section in Self.sections {
            guard let index = lines.firstIndex(of: section) else {
                Issue.record("quilt-\(name).md has no '\(section)' line")
                continue
            }
            #expect(index > previous, "quilt-\(name).md: '\(section)' is out of order")
            previous = index
        }
    }

    @Test(arguments: commandNames)
    func pageNamesEveryHelpOption(_ name: String) throws {
        let row = try #require(CommandTable.rows.first { $0.name == name })
        // As `quilt <name> --help` prints it: the root's --version is one of the options.
        let help = Quilt.helpMessage(for: row.command)
        let page = try Self.page(name)
        // Only the OPTIONS section counts: a name in an example is not documentation.
        let start = try #require(page.range(of: "\n## OPTIONS\n"))
        let end = page.range(of: "\n## OUTPUT\n", range: start.upperBound..<page.endIndex)?.lowerBound ?? page.endIndex
        let text = page[start.upperBound..<end]
        // A command with subcommands (quilt bundle) documents theirs on its one page.
        let subcommands = row.command.configuration.subcommands
        let options = subcommands.reduce(into: Self.longOptions(in: help)) { $0.formUnion(Self.longOptions(in: $1.helpMessage())) }
        #expect(!help.isEmpty)
        for option in options.sorted() {
            #expect(text.contains("`\(option)"), "quilt-\(name).md does not document \(option) (from --help) in OPTIONS")
        }
    }

    @Test func longOptionsAreFoundInHelpText() {
        let help = """
            OVERVIEW: Hash. Like 'quilt3 push --dir'.

            USAGE: quilt-x [--stdin-paths] [-z] [--yes]

            OPTIONS:
              --stdin-paths           Read paths.
              -z                      With --stdin-paths: NUL.
              -y, --yes               Do not ask.
              --dest-registry <dest-registry>
                                      Where.
              -h, --help              Show help information.

            """
        #expect(Self.longOptions(in: help) == ["--stdin-paths", "--yes", "--dest-registry"])
    }
}
