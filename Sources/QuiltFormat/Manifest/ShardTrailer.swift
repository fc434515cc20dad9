// The shard trailer: the last line of a `--shard K/N` program's output, so that a part cut short (a worker killed)
// or edited by hand cannot pass for a whole one. Only the codec knows its form: it is recognised where every
// entry-stream line is parsed (`ManifestLine.parse`, entry-stream rules) and rendered beside the entry lines. What
// a trailer means for a set of parts is the registry's sharding code's to check.
import QuiltSupport

/// `{"shard": "K/N", "entries": C, "sha256": "<hex>"}`: the segment of the stream before it (back to the previous
/// trailer, or the start) is shard K of N, holds C file entries, and its non-blank lines, each followed by a
/// newline, hash to that SHA-256. A trailer is a checksum against accidents (a cut, a lost worker, a slip in an
/// editor), not a signature: whoever can write a part can write its trailer.
public struct ShardTrailer: Sendable, Equatable {
    public var index: Int
    public var count: Int
    /// File entry lines in the segment (directory-metadata and header lines are digested, not counted).
    public var entries: Int
    /// SHA-256 of the segment's lines, lowercase hex.
    public var sha256: String

    public init(index: Int, count: Int, entries: Int, sha256: String) {
        self.index = index
        self.count = count
        self.entries = entries
        self.sha256 = sha256
    }

    /// `K/N`, as `--shard` spells it.
    public var shard: String { "\(index)/\(count)" }

    /// The key only a trailer line has (an entry stream's other lines have `logical_key`, or `version` for a
    /// header).
    static let marker = "shard"

    /// The trailer a line's JSON object describes, its fields checked; unknown fields are ignored, as in entries.
    init(_ object: JSONObject, lineNumber: Int) throws(ManifestError) {
        func bad(_ reason: String) -> ManifestError {
            .invalidLine(line: lineNumber, reason: "malformed shard trailer: \(reason)")
        }
        guard case .string(let shard)? = object[Self.marker] else { throw bad("'shard' must be a string \"K/N\"") }
        let parts = shard.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 18 && $0.utf8.allSatisfy({ (0x30...0x39).contains($0) }) }),
              let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, index < count else {
            throw bad("'shard' must be \"K/N\" with 0 <= K < N, not \(quoted(shard))")
        }
        guard let entries = object["entries"]?.intValue, entries >= 0 else {
            throw bad("'entries' must be a non-negative integer")
        }
        guard case .string(let digest)? = object["sha256"], digest.utf8.count == 64,
              digest.utf8.allSatisfy(Hex.isDigit) else {
            throw bad("'sha256' must be 64 lowercase hexadecimal digits")
        }
        self.init(index: index, count: count, entries: entries, sha256: digest)
    }
}

extension ManifestLine {
    /// A shard trailer line, without the newline.
    public static func appendShardTrailer(_ trailer: ShardTrailer, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"shard": "#.utf8)
        JSONWriter.writeString(trailer.shard, asciiOnly: true, to: &out)
        out.append(contentsOf: #", "entries": "#.utf8)
        JSONWriter.writeInteger(trailer.entries, to: &out)
        out.append(contentsOf: #", "sha256": "#.utf8)
        JSONWriter.writeString(trailer.sha256, asciiOnly: true, to: &out)
        out.append(UInt8(ascii: "}"))
    }
}
