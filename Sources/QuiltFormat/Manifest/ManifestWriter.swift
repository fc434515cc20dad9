// The one manifest writer: the header, the directory lines, then file entry lines handed over in tree order,
// written in quilt3's exact form to a sink in large blocks while a second core computes the top hash from the
// same lines. An in-memory `Manifest` is written through it by rendering its sorted entries as lines.
import QuiltSupport

public struct ManifestWriter: Sendable {
    public let maxRecordSize: Int

    /// quilt3's default limit of a manifest line (`QUILT_MANIFEST_MAX_RECORD_SIZE` changes it).
    public static let defaultMaxRecordSize = 1_000_000

    public init(maxRecordSize: Int = ManifestWriter.defaultMaxRecordSize) {
        self.maxRecordSize = maxRecordSize
    }

    /// Output reaches the sink in blocks of about this size: one call per line cost more than the lines.
    static let blockSize = 1 << 20

    /// Writes a manifest whose file lines `lines` hands over in tree order (each a line in the codec's form,
    /// without its newline): the header, the directory lines with metadata (sorted), then the file lines, in
    /// blocks; returns the top hash, computed on another core from the lines themselves. The caller vouches for
    /// the order (a spool's sorted lines, a merge of sorted streams); the lines' own meta was checked when they
    /// were made.
    @discardableResult
    public func write(header: JSONObject, directories: [(key: String, meta: JSONValue)],
                      lines: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void,
                      to sink: (UnsafeRawBufferPointer) throws -> Void) throws -> String {
        var header = header
        header.removeValue(forKey: "top_hash")
        try Self.checkFinite(.object(header), subject: "package metadata")
        let hashing = TopHashPipeline(header: header)
        defer { hashing.wait() }

        var output: [UInt8] = []
        output.reserveCapacity(Self.blockSize + 4096)
        JSONWriter.writeManifestForm(.object(header), to: &output)
        try checkRecord(output.count, subject: "package metadata")
        output.append(0x0A)
        let sortedDirectories = directories
            .filter { $0.meta.isTruthy }
            .sorted { LogicalKey.precedes($0.key, $1.key) }
        for directory in sortedDirectories {
            try Self.checkFinite(directory.meta, subject: "directory \(quoted(directory.key))")
            let start = output.count
            ManifestLine.appendDirectory(key: directory.key, meta: directory.meta, to: &output)
            try checkRecord(output.count - start, subject: "entry with logical key \(quoted(directory.key))")
            output.append(0x0A)
        }
        // Header and directory lines are not hashed as entries: they go out on their own.
        try output.withUnsafeBytes { try sink($0) }
        output.removeAll(keepingCapacity: true)

        try withoutActuallyEscaping(sink) { sink in
            try lines { line in
                if line.count > maxRecordSize {
                    try checkRecord(line.count, subject: "entry with logical key \(quoted(ManifestLine.logicalKey(of: line)))")
                }
                output.append(contentsOf: line)
                output.append(0x0A)
                if output.count >= Self.blockSize {
                    try output.withUnsafeBytes { try sink($0) }
                    hashing.submit(lines: output)
                    output = []
                    output.reserveCapacity(Self.blockSize + 4096)
                }
            }
        }
        try output.withUnsafeBytes { try sink($0) }
        hashing.submit(lines: output)
        return try hashing.finish()
    }

    /// Writes an in-memory manifest (normalising it first) through the same writer; returns the top hash.
    @discardableResult
    public func write(_ manifest: inout Manifest, to sink: (UnsafeRawBufferPointer) throws -> Void) throws -> String {
        try manifest.normalize()
        for entry in manifest.entries {
            guard entry.hash != nil, entry.size >= 0 else { throw ManifestError.missingHash(logicalKey: entry.logicalKey) }
            try Self.checkFinite(entry.meta, subject: "entry \(quoted(entry.logicalKey))")
        }
        let entries = manifest.entries
        var line: [UInt8] = []
        line.reserveCapacity(4096)
        return try write(header: manifest.header, directories: manifest.directoryMeta, lines: { emit in
            for entry in entries {
                line.removeAll(keepingCapacity: true)
                ManifestLine.appendEntry(entry, to: &line)
                try line.withUnsafeBytes { try emit($0) }
            }
        }, to: sink)
    }

    /// The top hash of an in-memory manifest (normalising it), writing nothing. Record sizes are a writer's
    /// concern, not the hash's: they are not checked.
    public func topHash(of manifest: inout Manifest) throws -> String {
        try ManifestWriter(maxRecordSize: .max).write(&manifest) { _ in }
    }

    /// The whole manifest as bytes, and its top hash.
    public func serialize(_ manifest: inout Manifest) throws -> (bytes: [UInt8], topHash: String) {
        var bytes: [UInt8] = []
        let top = try write(&manifest) { bytes.append(contentsOf: $0) }
        return (bytes, top)
    }

    private func checkRecord(_ size: Int, subject: @autoclosure () -> String) throws(ManifestError) {
        if size > maxRecordSize { throw .recordTooLarge(subject: subject(), size: size, limit: maxRecordSize) }
    }

    /// NaN and infinities have no JSON form quilt3 could read back.
    public static func checkFinite(_ value: JSONValue, subject: @autoclosure () -> String) throws(ManifestError) {
        if !isFinite(value) {
            throw .invalidMetadata(subject: subject(), reason: "NaN and Infinity are not allowed")
        }
    }

    private static func isFinite(_ value: JSONValue) -> Bool {
        switch value {
        case .float(let d): return d.isFinite
        case .array(let items): return items.allSatisfy(isFinite)
        case .object(let object): return object.pairs.allSatisfy { isFinite($0.value) }
        default: return true
        }
    }
}
