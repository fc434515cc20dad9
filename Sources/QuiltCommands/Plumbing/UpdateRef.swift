// quilt-update-ref: move a package's pointers (git's update-ref), or delete them.
import ArgumentParser
import QuiltFormat
import QuiltRegistry

struct UpdateRef: QuiltCommand, VerboseCommand {
    static let configuration = CommandConfiguration.plumbing(
        "update-ref",
        abstract: "Point a package name at a top hash, or delete its pointers.",
        discussion: """
        Writes the <timestamp> pointer, then latest. With OLD, latest moves only if it holds OLD now ('none': \
        only if it does not exist yet), by compare-and-swap; otherwise nothing moves and the exit status is 2. \
        With -d, deletes every pointer of NAME, or those holding HASH, re-pointing latest at the newest \
        remaining pointer as quilt3's delete_package does. The manifest must already be in the registry.
        """)

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption

    @Flag(name: .customShort("d"), help: "Delete pointers instead.")
    var delete = false

    @Argument(help: "The package name, ns/name.")
    var name: String

    @Argument(help: "The new top hash (or, with -d, the hash whose pointers to delete).")
    var new: String?

    @Argument(help: "The top hash latest must hold now, or 'none'.")
    var old: String?

    func validate() throws {
        if !delete && new == nil { throw ValidationError("missing NEW top hash") }
        if delete && old != nil { throw ValidationError("-d takes NAME and an optional HASH") }
    }

    func execute(_ io: IO) throws {
        try PackageName.validate(name)
        let registry = try io.registry(registryOptions)
        if delete {
            try registry.deletePackage(name, topHash: new)
            return
        }
        let expectation: RefExpectation
        switch old {
        case nil: expectation = .any
        case "none"?: expectation = .absent
        case let hash?: expectation = .hash(hash)
        }
        try registry.updateRef(name, toPrefix: new!, expecting: expectation)
    }
}
