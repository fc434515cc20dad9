// Shard outputs that cannot go missing: a `--shard K/N` program ends what it writes with a trailer (the codec's
// `ShardTrailer`: the shard, its entry count, a digest of its lines), and a merge given such parts checks each one
// against its trailer and the set against 0..N-1, so a worker killed half-way, a part lost or edited by hand stops
// the merge instead of publishing a package without those files.
import QuiltSupport
import QuiltFormat

/// Writes an entry stream in segments that end in shard trailers: each line written is counted and digested,
/// and `appendTrailer` closes the segment with the trailer of what was written since the last one.
public final class ShardStreamWriter {
    private var hasher = SHA256Hasher()
    private var entries = 0

    public init() {}

    /// Appends the line of an entry or directory-metadata item, with its newline, to `out`. (Headers and trailers
    /// of an input are not copied: the header belongs in the manifest, and trailers are made, not passed on.)
    public func append(_ item: ManifestLine.Item, to out: inout [UInt8]) {
        let start = out.count
        switch item {
        case .entry(let entry):
            EntryStream.write(entry, to: &out)
            entries += 1
        case .directory(let key, let meta):
            EntryStream.writeDirectory(key: key, meta: meta, to: &out)
        case .header, .shardTrailer:
            return
        }
        out.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[start...])) }
    }

    /// Appends an item: an entry's or a directory's line as `append` does, or, for a trailer, the trailer of what
    /// was appended since the last one for the trailer's shard (recomputed: a program that changes the lines it
    /// passes on, as quilt-upload-blob does, vouches for what it wrote).
    public func write(_ item: ManifestLine.Item, to out: inout [UInt8]) {
        if case .shardTrailer(let trailer) = item {
            appendTrailer(index: trailer.index, count: trailer.count, to: &out)
        } else {
            append(item, to: &out)
        }
    }

    /// Appends the trailer saying that what was appended since the last trailer is `shard`, and starts a new
    /// segment.
    public func appendTrailer(_ shard: Shard, to out: inout [UInt8]) {
        appendTrailer(index: shard.index, count: shard.count, to: &out)
    }

    private func appendTrailer(index: Int, count: Int, to out: inout [UInt8]) {
        let trailer = ShardTrailer(index: index, count: count, entries: entries, sha256: Hex.encode(hasher.finalize()))
        ManifestLine.appendShardTrailer(trailer, to: &out)
        out.append(0x0A)
        hasher = SHA256Hasher()
        entries = 0
    }
}

/// Checks entry streams against their shard trailers as they are read (it is the observer of
/// `EntrySpool.add(entryStreams:)`): each segment's entry count, the digest of its lines, and that its keys are
/// in the shard it names; and, once all are read, that the parts are a whole set (`finish`). Streams with no
/// trailer at all, when none has one, are plain entry streams and pass as they are.
public final class ShardPartCheck: EntryStreamObserver {
    /// A stream's name in messages.
    private let names: [String]
    private struct Segment {
        var hasher = SHA256Hasher()
        var lines = 0
        var entries = 0
        /// Each line's key as its shard slot number (the first 8 bytes of its SHA-256), to check against the
        /// trailer's shard once it comes (8 bytes an entry).
        var slots: [UInt64] = []
        /// A header line, which only shard 0 keeps.
        var header = false
    }
    private var segments: [Segment]
    /// Trailers seen per stream.
    private var trailers: [Int]
    /// Streams whose last non-blank line was not a trailer (some lines follow their last trailer, or they have
    /// lines and no trailer).
    private var open: [Bool]
    /// The shards seen: index → the stream it was in; and the count of the first.
    private var seen: [Int: Int] = [:]
    private var count: (n: Int, input: Int, shard: String)?
    /// Hashes each key for its slot (one context for them all).
    private let keyHasher = SHA256Hasher()

    /// `names`: the streams' names for messages, in the order of their indices.
    public init(names: [String]) {
        self.names = names
        // (One hasher each: `Array(repeating:)` would share one instance among them all.)
        segments = names.map { _ in Segment() }
        trailers = Array(repeating: 0, count: names.count)
        open = Array(repeating: false, count: names.count)
    }

    /// Whether any stream had a trailer: the streams are then a sharded job's parts.
    public var isSharded: Bool { count != nil }

    /// The name of a stream for messages: its path or URL, or standard input.
    public static func name(_ input: EntryStream.Input) -> String {
        input.name == nil || input.name == "-" ? "standard input" : input.name!
    }

    public func line(_ line: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer?, isEntry: Bool, input: Int) throws {
        segments[input].hasher.update(line)
        segments[input].hasher.update([0x0A])
        segments[input].lines += 1
        if isEntry { segments[input].entries += 1 }
        if let key {
            keyHasher.update(key)
            segments[input].slots.append(keyHasher.finalizePrefix64())
        } else {
            segments[input].header = true
        }
        open[input] = true
    }

    public func trailer(_ trailer: ShardTrailer, lineNumber: Int, input: Int) throws {
        let segment = segments[input]
        segments[input] = Segment()
        open[input] = false
        trailers[input] += 1
        let part = names[input]
        guard segment.entries == trailer.entries else {
            throw ShardError.partMismatch(part: part, shard: trailer.shard,
                                          reason: "it holds \(segment.entries) entries, its trailer says \(trailer.entries)")
        }
        guard Hex.encode(segment.hasher.finalize()) == trailer.sha256 else {
            throw ShardError.partMismatch(part: part, shard: trailer.shard,
                                          reason: "its lines do not hash to its trailer's sha256 (a line was changed, added or removed)")
        }
        if segment.header && trailer.index != 0 {
            throw ShardError.partMismatch(part: part, shard: trailer.shard, reason: "it holds a manifest header, which only shard 0 keeps")
        }
        let n = UInt64(trailer.count), k = UInt64(trailer.index)
        guard segment.slots.allSatisfy({ $0 % n == k }) else {
            throw ShardError.partMismatch(part: part, shard: trailer.shard, reason: "it holds logical keys of other shards")
        }
        if let count, count.n != trailer.count {
            throw ShardError.mixedCounts(part: part, shard: trailer.shard, otherPart: names[count.input], otherShard: count.shard)
        }
        if count == nil { count = (trailer.count, input, trailer.shard) }
        if let other = seen[trailer.index] {
            throw ShardError.shardTwice(shard: trailer.shard, first: names[other], second: part)
        }
        seen[trailer.index] = input
    }

    /// After the last stream the set is checked (`finish`), before the spool sorts what it holds: a part that is
    /// not whole is named as such, not by a duplicate key it caused.
    public func end(ofInput input: Int) throws {
        if input == names.count - 1 { try finish() }
    }

    /// Parses one line of stream `input` (entry-stream rules) and checks it as `EntrySpool.add(entryStreams:)`
    /// does, for the programs that read a stream themselves.
    public func parse(_ line: UnsafeRawBufferPointer, lineNumber: Int, input: Int) throws -> ManifestLine.Item {
        let item = try ManifestLine.parse(line, lineNumber: lineNumber, rules: .entryStream)
        switch item {
        case .entry(let entry):
            var key = entry.logicalKey
            try key.withUTF8 { try self.line(line, key: UnsafeRawBufferPointer($0), isEntry: true, input: input) }
        case .directory(let key, _):
            var key = key
            try key.withUTF8 { try self.line(line, key: UnsafeRawBufferPointer($0), isEntry: false, input: input) }
        case .header:
            try self.line(line, key: nil, isEntry: false, input: input)
        case .shardTrailer(let trailer):
            try self.trailer(trailer, lineNumber: lineNumber, input: input)
        }
        return item
    }

    /// Every item of one entry stream held in memory, each line checked as `parse` does.
    public static func items(of stream: [UInt8], name: String = "standard input") throws -> (items: [ManifestLine.Item], check: ShardPartCheck) {
        let check = ShardPartCheck(names: [name])
        var items: [ManifestLine.Item] = []
        var parser = EntryStream.Parser()
        func add(_ line: UnsafeRawBufferPointer, _ number: Int) throws {
            items.append(try check.parse(line, lineNumber: number, input: 0))
        }
        try stream.withUnsafeBytes { try parser.feedLines($0, into: add) }
        try parser.finishLines(into: add)
        return (items, check)
    }

    /// Whether stream `input` ended with lines after its last trailer (or with lines and no trailer).
    public func endedOpen(_ input: Int) -> Bool { open[input] }

    /// Whether stream `input` had a trailer.
    public func hadTrailer(_ input: Int) -> Bool { trailers[input] > 0 }

    /// After every stream was read: when any had a trailer, every stream must end with one and the shards must
    /// be 0..N-1, each once. Nothing to check for plain streams.
    public func finish() throws {
        guard let count else { return }
        let missing = (0..<count.n).filter { seen[$0] == nil }
        let shards = missing.prefix(4).map { "\($0)/\(count.n)" }
        for input in names.indices where trailers[input] == 0 {
            throw ShardError.partWithoutTrailer(part: names[input], missing: shards, missingCount: missing.count)
        }
        for input in names.indices where open[input] {
            throw ShardError.linesAfterTrailer(part: names[input])
        }
        if !missing.isEmpty { throw ShardError.shardsMissing(shards, count: missing.count) }
    }

    /// For a program that filters one stream to `shard` (quilt-upload-blob --shard): an input with trailers must
    /// be that very shard, or a whole set; either way it must not end with lines its trailers do not cover.
    public func checkInput(for shard: Shard) throws {
        guard let count else { return }
        if open[0] { throw ShardError.linesAfterTrailer(part: names[0]) }
        let whole = (0..<count.n).allSatisfy { seen[$0] != nil }
        guard whole || (seen.count == 1 && seen[shard.index] != nil && count.n == shard.count) else {
            let held = seen.keys.sorted().prefix(4).map { "\($0)/\(count.n)" }.joined(separator: ", ")
            throw ShardError.inputIsAnotherShard(part: names[0], held: held, wanted: shard.description)
        }
    }
}

extension Shard {
    /// The shard slot number of a logical key's bytes: the first 8 bytes of their SHA-256, big-endian (its shard
    /// among N is this modulo N).
    static func slotValue(of key: UnsafeRawBufferPointer) -> UInt64 {
        let hasher = SHA256Hasher()
        hasher.update(key)
        return hasher.finalizePrefix64()
    }
}
