// The table of every command: drives dispatch of `quilt <name>` and of each `quilt-<name>` executable.
import QuiltCore

public enum CommandTable {
    /// Runs the program named `program` with the process's arguments and exits.
    public static func main(program: String) -> Never {
        fatalError("not yet implemented: \(program)")
    }
}
