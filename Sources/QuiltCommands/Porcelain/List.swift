// quilt list: the packages in a registry (quilt3's list_packages).
import ArgumentParser
import QuiltFormat
import QuiltRegistry

struct List: QuiltCommand, VerboseCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the packages in a registry.")

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption

    @Flag(name: .long, help: "Print [\"ns/name\", …] as JSON.")
    var json = false

    func execute(_ io: IO) throws {
        let names = try io.registry(registryOptions).listPackages()
        if json {
            io.json(.array(names.map { .string($0) }))
        } else {
            for name in names { io.line(terminalSafe(name)) }
        }
    }
}
