// The entry stream: the JSONL unit that flows between plumbing programs, in the manifest's own line form. Read
// with the one line splitter and the one line codec (entry-stream rules); written with the codec's renderers.
import QuiltSupport

public enum EntryStream {
    /// One entry stream of several: a name for messages (nil for standard input alone), and the function that
    /// hands each block of it to the function it is given.
    public struct Input {
        public var name: String?
        public var feed: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void

        public init(name: String?, feed: @escaping ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) {
            self.name = name
            self.feed = feed
        }
    }

    /// Parses an entry stream that arrives in blocks (standard input), so the whole input is never held: lines
    /// are parsed as they complete. Blank lines are skipped.
    public struct Parser {
        private var splitter = LineSplitter()
        /// The stream's name in error messages, when several are read.
        private let source: String?

        public init(source: String? = nil) {
            self.source = source
        }

        /// Parses every line that `block` completes.
        public mutating func feed(_ block: UnsafeRawBufferPointer, into body: (ManifestLine.Item) throws -> Void) throws {
            try feedLines(block) { line, number in try body(try ManifestLine.parse(line, lineNumber: number, rules: .entryStream)) }
        }

        /// Parses the last line, if the input did not end with a newline.
        public mutating func finish(into body: (ManifestLine.Item) throws -> Void) throws {
            try finishLines { line, number in try body(try ManifestLine.parse(line, lineNumber: number, rules: .entryStream)) }
        }

        /// Hands over every non-blank line that `block` completes, unparsed, with its line number.
        public mutating func feedLines(_ block: UnsafeRawBufferPointer,
                                       into body: (UnsafeRawBufferPointer, Int) throws -> Void) throws {
            let source = self.source
            try splitter.feed(block) { line, number in try Self.hand(line, number, source: source, to: body) }
        }

        /// Hands over the last line, if the input did not end with a newline.
        public mutating func finishLines(into body: (UnsafeRawBufferPointer, Int) throws -> Void) throws {
            let source = self.source
            try splitter.finish { line, number in try Self.hand(line, number, source: source, to: body) }
        }

        private static func hand(_ line: UnsafeRawBufferPointer, _ number: Int, source: String?,
                                 to body: (UnsafeRawBufferPointer, Int) throws -> Void) throws {
            if ManifestLine.isBlank(line) { return }
            do { try body(line, number) } catch let error as ManifestError {
                // With several streams, a line's error names its stream.
                guard let source else { throw error }
                if case .inStream = error { throw error }
                throw ManifestError.inStream(source: source, error)
            }
        }
    }

    /// Splits `bytes` into lines and parses each non-blank one.
    public static func parse(_ bytes: [UInt8], into body: (ManifestLine.Item) throws -> Void) throws {
        var parser = Parser()
        try bytes.withUnsafeBytes { try parser.feed($0, into: body) }
        try parser.finish(into: body)
    }

    /// Appends an entry line with its newline.
    public static func write(_ entry: ManifestEntry, to out: inout [UInt8]) {
        ManifestLine.appendEntry(entry, to: &out)
        out.append(0x0A)
    }

    /// Appends a directory-metadata line with its newline.
    public static func writeDirectory(key: String, meta: JSONValue, to out: inout [UInt8]) {
        ManifestLine.appendDirectory(key: key, meta: meta, to: &out)
        out.append(0x0A)
    }
}

/// What `EntrySpool.add(entryStreams:observer:)` shows of each stream as it reads it: every non-blank line but a
/// shard trailer, with what it is; each trailer; the end of each stream. (The registry's shard check is one.)
public protocol EntryStreamObserver: AnyObject {
    /// A line of stream `input` (its index among the streams), without its newline: a file entry or a
    /// directory-metadata line with its logical key's bytes, or a header line (`key` nil).
    func line(_ line: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer?, isEntry: Bool, input: Int) throws
    /// A shard trailer, at `lineNumber` of stream `input`.
    func trailer(_ trailer: ShardTrailer, lineNumber: Int, input: Int) throws
    /// Stream `input` ended.
    func end(ofInput input: Int) throws
}

extension EntrySpool {
    /// Entries whose hash or size is missing are completed this many at a time.
    public static let completionBatch = 8192

    /// Adds the entries of several entry streams (one, or a sharded job's outputs), exactly as if their lines had
    /// come in one stream, every logical key checked; returns their directory-metadata lines, each key checked and
    /// none repeated. Each stream is parsed on its own, as its blocks arrive, so a last line without a newline
    /// ends there, and errors in a line name the stream it is in. Entries without a hash or size are handed to
    /// `complete` in batches, which must fill them in; memory stays within the spool's budget however long the
    /// streams. `observer` sees every line as it is read (shard trailers are shown to it and otherwise skipped).
    public func add(entryStreams inputs: [EntryStream.Input], observer: EntryStreamObserver? = nil,
                    complete: (inout [ManifestEntry]) throws -> Void) throws -> [(key: String, meta: JSONValue)] {
        var directories: [(key: String, meta: JSONValue)] = []
        var incomplete: [ManifestEntry] = []
        var input = 0
        func completeHeld() throws {
            try complete(&incomplete)
            for entry in incomplete { try add(entry) }
            incomplete.removeAll(keepingCapacity: true)
        }
        func addLine(_ line: UnsafeRawBufferPointer, number: Int) throws {
            // (A closure at the call, not kept: nothing is allocated per line.)
            if try add(line: line, seeKey: { key in try observer?.line(line, key: key, isEntry: true, input: input) }) { return }
            switch try ManifestLine.parse(line, lineNumber: number, rules: .entryStream) {
            case .entry(let entry):
                try LogicalKey.validate(entry.logicalKey)
                if let observer {
                    var key = entry.logicalKey
                    try key.withUTF8 { try observer.line(line, key: UnsafeRawBufferPointer($0), isEntry: true, input: input) }
                }
                if entry.hash == nil || entry.size < 0 {
                    incomplete.append(entry)
                    if incomplete.count >= Self.completionBatch { try completeHeld() }
                } else {
                    try add(entry)
                }
            case .directory(let key, let meta):
                try Manifest.checkDirectoryKey(key)
                if let observer {
                    var key = key
                    try key.withUTF8 { try observer.line(line, key: UnsafeRawBufferPointer($0), isEntry: false, input: input) }
                }
                directories.append((key, meta))
            case .header:
                try observer?.line(line, key: nil, isEntry: false, input: input)
            case .shardTrailer(let trailer):
                try observer?.trailer(trailer, lineNumber: number, input: input)
            }
        }
        for (index, stream) in inputs.enumerated() {
            input = index
            var parser = EntryStream.Parser(source: stream.name)
            try stream.feed { block in try parser.feedLines(block, into: addLine) }
            try parser.finishLines(into: addLine)
            try observer?.end(ofInput: index)
        }
        if !incomplete.isEmpty { try completeHeld() }
        try finish()
        var seen: Set<ExactString> = []
        for (key, _) in directories where !seen.insert(ExactString(key)).inserted {
            throw ManifestError.duplicateDirectoryMeta(key)
        }
        return directories
    }
}
