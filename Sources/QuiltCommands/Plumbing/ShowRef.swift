// quilt-show-ref: list pointers (git's show-ref).
import ArgumentParser
import QuiltSupport
import QuiltFormat
import QuiltRegistry

struct ShowRef: QuiltCommand, VerboseCommand {
    static let configuration = CommandConfiguration.plumbing(
        "show-ref",
        abstract: "List package pointers.",
        discussion: "Prints '<top-hash> <ns/name> <pointer>' per line, pointer being 'latest' or a timestamp; every package's, or NAME's.")

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption

    @Argument(help: "A package name, ns/name.")
    var name: String?

    func execute(_ io: IO) throws {
        let registry = try io.registry(registryOptions)
        let names: [String]
        if let name {
            try PackageName.validate(name)
            names = [name]
        } else {
            names = try registry.listPackages()
        }
        for package in names {
            let listing = try registry.listPointers(package)
            warnCorrupt(listing, io)
            let pointers = listing.pointers
            if name != nil && pointers.isEmpty { throw RegistryError.noSuchPackage(package, registry: registry.url) }
            for pointer in pointers { io.line("\(pointer.topHash) \(terminalSafe(package)) \(terminalSafe(pointer.pointer))") }
        }
    }
}

/// One warning per pointer that holds no top hash (a hand edit, a torn copy): the rest are still shown.
func warnCorrupt(_ listing: Registry.PointerListing, _ io: IO) {
    for location in listing.corrupt { warnCorruptPointer(location, io) }
}

/// A pointer that holds no top hash, skipped by a reader of history.
func warnCorruptPointer(_ location: String, _ io: IO) {
    io.warning("skipping corrupt pointer \(quoted(location))")
}
