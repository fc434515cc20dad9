// quilt-upload-blob: upload entries' data to S3 and print the entries with their new physical keys.
import ArgumentParser
import QuiltFormat
import QuiltRegistry

struct UploadBlob: QuiltCommand, VerboseCommand, QuietCommand {
    static let configuration = CommandConfiguration.plumbing(
        "upload-blob",
        abstract: "Upload entries' data to S3 and print the entries with their new physical keys.",
        discussion: """
        Reads an entry stream on standard input; each entry whose data is a local file (or an S3 object in \
        another bucket) is copied to <dest>/<logical key>, and the entry is printed with its new physical key \
        s3://bucket/key?versionId=… (no versionId on an unversioned bucket) and its sha2-256-chunked hash, \
        computed here from the bytes sent and checked against S3's checksum. Below 8 MiB one PUT; at 8 MiB and \
        above a multipart upload whose part size is the chunked hash's chunk size, parts in parallel. An upload \
        is skipped when the destination already holds identical content. With FILE and DEST-URL, uploads one \
        file to exactly that URL and prints its entry. With --shard, only the entries whose logical keys fall \
        in this worker's shard are uploaded and printed, and the output ends with the shard's trailer. Shard \
        trailers in the input are checked before anything is uploaded and carried through, recomputed for the \
        lines as printed. Uploads are journalled per destination and shard: running the same command again \
        after a failure sends only what is missing.
        """)

    @OptionGroup var verboseOption: VerboseOption
    @OptionGroup var shardOption: ShardOption
    @OptionGroup var quietOption: QuietOption

    @Option(name: .long, help: ArgumentHelp("The registry bucket, s3://bucket: the default --dest is its root.", valueName: "url"))
    var registry: String?

    @Option(name: .long, help: ArgumentHelp("Where data goes: s3://bucket[/prefix].", valueName: "url"))
    var dest: String?

    @Argument(help: "A file to upload (with DEST-URL).")
    var file: String?

    @Argument(help: "The s3:// URL to upload FILE to.")
    var destURL: String?

    func validate() throws {
        if (file == nil) != (destURL == nil) { throw ValidationError("give both FILE and DEST-URL, or neither") }
        if file == nil && dest == nil && registry == nil { throw ValidationError("give --dest or --registry") }
        if file != nil && shardOption.shard != nil { throw ValidationError("--shard applies to an entry stream, not to FILE DEST-URL") }
    }

    func execute(_ io: IO) throws {
        // A registry URL is checked as one (a bucket S3 would refuse is a usage error) before stdin is read.
        if let registry { _ = try RegistryLocation(registry) }
        let context = try io.context()
        var out: [UInt8] = []
        if let file, let destURL {
            EntryStream.write(try context.uploadFile(file, to: destURL), to: &out)
            io.write(out)
            return
        }
        let shard = try io.shard(shardOption)
        let progress = io.progressLine("uploading")
        let uploaded = try context.upload(entryStream: io.readStandardInput(), to: dest ?? registry!, shard: shard,
                                          progress: progress?.handler)
        progress?.finish()
        // Shard trailers are written for what is printed (the physical keys changed).
        let writer = ShardStreamWriter()
        for item in uploaded { writer.write(item, to: &out) }
        io.write(out)
    }
}
