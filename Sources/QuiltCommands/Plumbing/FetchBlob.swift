// quilt-fetch-blob: download (or copy) entries' data into a directory, verifying every hash.
import ArgumentParser
import QuiltSupport
import QuiltFormat
import QuiltRegistry

struct FetchBlob: QuiltCommand, VerboseCommand {
    static let configuration = CommandConfiguration.plumbing(
        "fetch-blob",
        abstract: "Materialise an entry stream's data under a directory, verifying hashes.",
        discussion: """
        Reads an entry stream on standard input and writes each entry's bytes to DIR/<logical key>: streamed to a \
        temporary file, hashed on the way, and renamed into place only when size and hash match. Keys that would \
        leave DIR (absolute, '..', empty segments, NUL, a symbolic link on the way) are refused before anything is \
        written. Prints the path of each file written. With --shard, only the entries whose logical keys fall \
        in this worker's shard are fetched. A sharded job's part is checked against its shard trailer as it is \
        read.
        """)

    @OptionGroup var verboseOption: VerboseOption
    @OptionGroup var shardOption: ShardOption

    @Option(name: .long, help: "The local directory to put the files in.")
    var dest: String = "."

    /// Entries fetched per call of the core (transfers run several at a time within one).
    static let batch = 4096

    func execute(_ io: IO) throws {
        // The stream is read as it comes and fetched a batch at a time, so its length does not matter.
        let shard = try io.shard(shardOption)
        let root = FileSystem.absolute(dest)
        let context = try io.context()
        var entries: [ManifestEntry] = []
        func fetchBatch() throws {
            try context.fetch(entries, into: root)
            for entry in entries { io.line(terminalSafe(root + "/" + entry.logicalKey)) }
            entries.removeAll(keepingCapacity: true)
        }
        var parser = EntryStream.Parser()
        // A part of a sharded job is checked against its trailer as it is read.
        let parts = ShardPartCheck(names: ["standard input"])
        func add(_ line: UnsafeRawBufferPointer, _ number: Int) throws {
            guard case .entry(let entry) = try parts.parse(line, lineNumber: number, input: 0),
                  shard?.contains(entry.logicalKey) ?? true else { return }
            entries.append(entry)
            if entries.count >= Self.batch { try fetchBatch() }
        }
        try io.readStandardInput { block in try parser.feedLines(block, into: add) }
        try parser.finishLines(into: add)
        try fetchBatch()
    }
}
