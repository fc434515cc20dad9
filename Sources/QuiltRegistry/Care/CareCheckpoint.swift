// Where an interrupted quilt fsck goes on from: a checkpoint kept under the local data directory, one directory per
// registry, as git-annex keeps its fsck state. It never writes to the registry.
import QuiltSupport
import QuiltFormat

/// The files of one registry's checkpoint, in `<data dir>/fsck/<id>/`:
///
/// - `manifests.jsonl`: the manifests the run checks, in order, each with the package named in its findings,
///   fixed when the pointers have been read (so a resumed run checks what the interrupted one set out to check,
///   not what was pushed since);
/// - `records.jsonl`: one line per entry of the manifests checked so far (with `--objects`): its physical key,
///   size, hash, logical key and manifest, the input of the object check (so no manifest is read twice);
/// - `problems.jsonl`: the findings so far, to be reported again by the run that resumes;
/// - `checkpoint.json`: the options, the phase, how many manifests and objects are done, and the lengths of the
///   two files above at that moment. It is written (by rename) every 1,000 objects or 30 s, after the work it
///   counts is done and the files it measures are written.
struct CareCheckpoint: Equatable {
    static let version = 1

    var registry: String
    var names: [String]?
    var objects: Bool
    var full: Bool
    var useS3Checksums: Bool
    /// `manifests` or `objects`.
    var phase: String
    var pointersChecked = 0
    var manifestsDone = 0
    var recordsBytes = 0
    var recordsCount = 0
    var problemsBytes = 0
    var problems = 0
    var warnings = 0
    /// Objects (distinct physical keys) checked, in the order of the sorted records, and the sort key of the
    /// last one (to tell that the records sort as they did).
    var objectsDone = 0
    var lastObject = ""
    var referencesDone = 0

    func sameRun(as other: CareCheckpoint) -> Bool {
        registry == other.registry && names == other.names && objects == other.objects && full == other.full
            && useS3Checksums == other.useS3Checksums
    }

    var json: JSONValue {
        .object(JSONObject([
            ("version", .int(Self.version)), ("registry", .string(registry)),
            ("names", names.map { .array($0.map { .string($0) }) } ?? .null),
            ("objects", .bool(objects)), ("full", .bool(full)), ("s3_checksums", .bool(useS3Checksums)),
            ("phase", .string(phase)), ("pointers_checked", .int(pointersChecked)), ("manifests_done", .int(manifestsDone)),
            ("records_bytes", .int(recordsBytes)), ("records_count", .int(recordsCount)),
            ("problems_bytes", .int(problemsBytes)), ("problems", .int(problems)), ("warnings", .int(warnings)),
            ("objects_done", .int(objectsDone)), ("last_object", .string(lastObject)),
            ("references_done", .int(referencesDone)), ("saved_at", .float(WallClock.now())),
        ]))
    }

    init(registry: String, names: [String]?, objects: Bool, full: Bool, useS3Checksums: Bool) {
        self.registry = registry
        self.names = names
        self.objects = objects
        self.full = full
        self.useS3Checksums = useS3Checksums
        phase = "manifests"
    }

    init?(json value: JSONValue) {
        guard case .object(let o) = value, o["version"]?.intValue == Self.version,
              let registry = o["registry"]?.stringValue, let phase = o["phase"]?.stringValue,
              case .bool(let objects)? = o["objects"], case .bool(let full)? = o["full"],
              case .bool(let sums)? = o["s3_checksums"] else { return nil }
        var names: [String]?
        if case .array(let list)? = o["names"] { names = list.compactMap(\.stringValue) }
        self.init(registry: registry, names: names, objects: objects, full: full, useS3Checksums: sums)
        self.phase = phase
        func int(_ key: String) -> Int { o[key]?.intValue ?? 0 }
        pointersChecked = int("pointers_checked")
        manifestsDone = int("manifests_done")
        recordsBytes = int("records_bytes")
        recordsCount = int("records_count")
        problemsBytes = int("problems_bytes")
        problems = int("problems")
        warnings = int("warnings")
        objectsDone = int("objects_done")
        lastObject = o["last_object"]?.stringValue ?? ""
        referencesDone = int("references_done")
    }

    /// The checkpoint directory of the registry at `url` below `root`.
    static func directory(root: String, registry url: String) -> String {
        root + "/" + Hex.encode(SHA256Hasher.digest(Array(url.utf8))).prefix(24)
    }

    static func load(_ directory: String) -> CareCheckpoint? {
        guard let bytes = try? FileSystem.readFile(directory + "/checkpoint.json"),
              let value = try? JSONParser.parse(bytes) else { return nil }
        return CareCheckpoint(json: value)
    }

    func save(_ directory: String) throws {
        var bytes: [UInt8] = []
        JSONWriter.writeCanonicalForm(json, to: &bytes)
        bytes.append(0x0A)
        try FileSystem.writeAtomically(bytes, to: directory + "/checkpoint.json", permissions: 0o600)
    }
}

/// The lines of a local file up to `limit` bytes (what a checkpoint covers), one at a time.
func forEachLine(ofFile path: String, upTo limit: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
    let file = try InputFile(path: path)
    guard file.size >= limit else {
        throw CareError.badCheckpoint(path: path, reason: "it holds \(file.size) bytes, the checkpoint counts \(limit)")
    }
    var offset = 0
    let reader = LineReader { buffer in
        let wanted = min(buffer.count, limit - offset)
        guard wanted > 0 else { return 0 }
        let n = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted]), at: offset)
        offset += n
        return n
    }
    while let line = try reader.next() {
        if !line.isEmpty { try body(line) }
    }
}
