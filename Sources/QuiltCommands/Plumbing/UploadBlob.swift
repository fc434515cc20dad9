// quilt-upload-blob: upload entries' data to S3.
import ArgumentParser
import QuiltCore

struct UploadBlob: QuiltCommand {
    static let configuration = CommandConfiguration(
        commandName: "quilt-upload-blob",
        abstract: "Upload entries' data to S3 and print the entries with their new physical keys.")

    @OptionGroup var registryOptions: RegistryOptions

    func execute(_ io: IO) throws {
        throw RegistryError.invalidRegistry(registryOptions.registry ?? "", reason: "S3 registries are not supported in this build")
    }
}
