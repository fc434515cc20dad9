// One binary, many names: the program `quilt` runs is the one its argv[0] names (scripts/package installs one
// binary hard-linked under every program's name).
import Testing
@testable import QuiltCommands

@Suite struct InvocationNameTests {
    @Test func plumbingNamesRunTheirProgram() {
        for row in CommandTable.rows where row.category == .plumbing {
            #expect(CommandTable.program(invokedAs: "quilt-\(row.name)") == "quilt-\(row.name)")
            #expect(CommandTable.program(invokedAs: "/usr/bin/quilt-\(row.name)") == "quilt-\(row.name)")
        }
    }

    @Test func anyOtherNameIsQuilt() {
        for name in ["quilt", "/usr/bin/quilt", "./quilt", "quilt-build", "quilt-push", "quilt-nope", "quilt-",
                     "my-quilt-hash-object", "/opt/quilt-hash-object/bin/quilt", "", "/"] {
            #expect(CommandTable.program(invokedAs: name) == "quilt", "\(name)")
        }
        #expect(CommandTable.program(invokedAs: nil) == "quilt")
    }
}
