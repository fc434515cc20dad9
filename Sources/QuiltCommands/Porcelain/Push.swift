// quilt push: copy data and publish a revision to a remote registry.
import ArgumentParser
import QuiltCore

struct Push: QuiltCommand {
    static let configuration = CommandConfiguration(
        commandName: "quilt push",
        abstract: "Copy data to S3 and publish a revision to a remote registry.")

    @OptionGroup var registryOptions: RegistryOptions

    func execute(_ io: IO) throws {
        throw RegistryError.invalidRegistry(registryOptions.registry ?? "", reason: "S3 registries are not supported in this build")
    }
}
