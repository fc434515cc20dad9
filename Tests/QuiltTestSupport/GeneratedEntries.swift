// Generated test data: a reproducible random sequence, and manifest entries chosen to be hard to sort and to write.
import QuiltFormat

/// SplitMix64: small, fast and the same sequence on every platform, so a failure is reproducible from its seed.
public struct SeededGenerator: RandomNumberGenerator {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Entries meant to be hard to sort and to write: keys sharing more than the 16 bytes an index record holds,
/// siblings around '/' in tree order, escapes, astral characters and 0x7F, metadata with floats and falsy
/// values, three hash types in both key orders.
public func awkwardEntries(_ count: Int, seed: UInt64 = 7) -> [ManifestEntry] {
    var rng = SeededGenerator(seed: seed)
    var entries: [ManifestEntry] = []
    for i in 0..<count {
        let key: String
        switch i % 9 {
        case 0: key = "deep/shared/prefix/longer/than/sixteen/bytes/part-\(i).parquet"
        case 1: key = "t\(i % 50)/x\(i)"
        case 2: key = "t\(i % 50)-\(i)"
        case 3: key = "t\(i % 50).\(i)"
        case 4: key = "Ünïcode/日本語/\(i)/🙂.bin"
        case 5: key = "odd/quote\"back\\slash\ttab\u{7F}-\(i)"
        case 6: key = "a b/\(i % 13)/\(i)"
        case 7: key = "z\(i)"
        default: key = "\(["scan", "sample", "reads"][i % 3])/\(i % 997)/\((i * 7919) % 1009)/f\(i).csv"
        }
        let type = [HashType.sha2256Chunked, .sha256, .crc64nvme][i % 3]
        var hash = ObjectHash(type, value: "v\(i)")
        hash.valueFirst = i % 11 == 0
        var meta: JSONValue = .object(JSONObject())
        if i % 7 == 0 {
            meta = .object(JSONObject([("user_meta", .object(JSONObject([
                ("score", .float(Double(rng.next() % 1000) / 7)), ("n", .integer("123456789012345678901234567890")),
                ("s", .string("é🙂\u{7F}\"")), ("l", .array([.int(1), .float(2.5), .null, .bool(true)])),
            ])))]))
        }
        entries.append(ManifestEntry(logicalKey: key, physicalKey: "s3://b/\(i)?versionId=\(i)", size: Int(rng.next() % (1 << 40)),
                                     hash: hash, meta: meta))
    }
    entries.shuffle(using: &rng)
    return entries
}
