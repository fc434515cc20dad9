// Reading and writing manifests byte for byte as quilt3 does, and computing the top hash alongside.
import QuiltSupport
import Dispatch

public enum ManifestReader {
    /// Parses a manifest: quilt3's form, and the compact form quilt-rs writes. Unknown header keys are kept,
    /// `top_hash` is dropped, a `null` entry meta becomes `{}`.
    public static func read(_ bytes: [UInt8]) throws(ManifestError) -> Manifest {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(ManifestError) -> Manifest in try read(raw) }
        }
        return try result.get()
    }

    public static func read(_ bytes: UnsafeRawBufferPointer) throws(ManifestError) -> Manifest {
        var manifest = Manifest(header: JSONObject(), entries: [])
        var lineNumber = 0
        var start = 0
        var sawHeader = false
        var seenDirectories: [ExactString: Int] = [:]
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            let line = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            start = end + 1
            if !sawHeader {
                sawHeader = true
                manifest.header = try parseHeader(line)
                continue
            }
            switch try parseLine(line, lineNumber: lineNumber) {
            case .directory(let logicalKey, let meta):
                let key = ExactString(logicalKey)
                if let index = seenDirectories[key] {
                    manifest.directoryMeta[index].meta = meta
                } else {
                    seenDirectories[key] = manifest.directoryMeta.count
                    manifest.directoryMeta.append((logicalKey, meta))
                }
            case .entry(let entry):
                manifest.entries.append(entry)
            case .header:
                break
            }
        }
        guard sawHeader else { throw .empty }
        try manifest.normalize()
        return manifest
    }

    /// The header line (line 1): a JSON object, `top_hash` dropped, `message` a string or null.
    public static func parseHeader(_ line: UnsafeRawBufferPointer) throws(ManifestError) -> JSONObject {
        if isBlank(line) { throw .invalidLine(line: 1, reason: "empty line") }
        let value: JSONValue
        do { value = try JSONParser.parse(line) } catch {
            throw .invalidLine(line: 1, reason: error.message)
        }
        guard case .object(var object) = value else {
            throw .invalidLine(line: 1, reason: "not a JSON object")
        }
        object.removeValue(forKey: "top_hash")
        if let message = object["message"] {
            switch message {
            case .string, .null: break
            default: throw .invalidMessage
            }
        }
        return object
    }

    static func isBlank(_ line: UnsafeRawBufferPointer) -> Bool {
        line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D })
    }

    /// A line after the header: a directory-metadata line (no or empty `physical_keys`; `meta` required) or a
    /// file entry (`size`, `hash` and `meta` required; a `null` hash is kept as none, a `null` meta becomes {}).
    public static func parseLine(_ line: UnsafeRawBufferPointer, lineNumber: Int) throws(ManifestError) -> EntryStream.Item {
        // Most lines are read straight from their bytes; the fast path tells which fields it saw, and a line
        // lacking one the manifest form requires goes to the general path for its error.
        if let (item, seen) = EntryStream.parseLineDirectlyWithFields(line) {
            switch item {
            case .entry(let entry) where entry.size >= 0 && seen.isSuperset(of: [.physicalKeys, .size, .hash, .meta]):
                return item
            case .directory where seen.contains(.meta):
                return item
            default:
                break
            }
        }
        if isBlank(line) { throw .invalidLine(line: lineNumber, reason: "empty line") }
        let value: JSONValue
        do { value = try JSONParser.parse(line) } catch {
            throw .invalidLine(line: lineNumber, reason: error.message)
        }
        guard case .object(let object) = value else {
            throw .invalidLine(line: lineNumber, reason: "not a JSON object")
        }
        guard case .string(let logicalKey)? = object["logical_key"] else {
            throw .missingField(line: lineNumber, field: "logical_key")
        }
        let physicalKeys = object["physical_keys"]
        let isDirectoryLine: Bool
        switch physicalKeys {
        case nil, .null?: isDirectoryLine = true
        case .array(let list)?: isDirectoryLine = list.isEmpty
        default: isDirectoryLine = false
        }
        if isDirectoryLine {
            guard let meta = object["meta"] else { throw .missingField(line: lineNumber, field: "meta") }
            return .directory(key: logicalKey, meta: meta)
        }
        guard case .array(let urls)? = physicalKeys, case .string(let url)? = urls.first else {
            throw .invalidLine(line: lineNumber, reason: "'physical_keys' must be a list of URLs")
        }
        guard let sizeValue = object["size"] else { throw .missingField(line: lineNumber, field: "size") }
        guard let hashValue = object["hash"] else { throw .missingField(line: lineNumber, field: "hash") }
        guard let metaValue = object["meta"] else { throw .missingField(line: lineNumber, field: "meta") }
        guard let size = sizeValue.intValue, size >= 0 else {
            throw .invalidLine(line: lineNumber, reason: "'size' must be a non-negative integer")
        }
        let hash: ObjectHash?
        switch hashValue {
        case .null: hash = nil
        case .object(let h):
            guard case .string(let type)? = h["type"], case .string(let value)? = h["value"] else {
                throw .invalidLine(line: lineNumber, reason: "'hash' must have string 'type' and 'value'")
            }
            hash = ObjectHash(type: type, value: value, valueFirst: h.keys.first == "value")
        default:
            throw .invalidLine(line: lineNumber, reason: "'hash' must be an object")
        }
        return .entry(ManifestEntry(
            logicalKey: logicalKey, physicalKey: url, size: size, hash: hash,
            meta: metaValue.isTruthy ? metaValue : .object(JSONObject())))
    }
}

/// Writes manifests in quilt3's exact form and computes the top hash in the same pass.
public struct ManifestWriter: Sendable {
    public let maxRecordSize: Int

    /// quilt3's default limit of a manifest line (`QUILT_MANIFEST_MAX_RECORD_SIZE` changes it).
    public static let defaultMaxRecordSize = 1_000_000

    public init(maxRecordSize: Int = ManifestWriter.defaultMaxRecordSize) {
        self.maxRecordSize = maxRecordSize
    }

    /// Output reaches `sink` in blocks of about this size, and the top hash in blocks of its canonical form:
    /// one call per line cost more than the lines themselves.
    static let blockSize = 1 << 20

    /// Writes `manifest` (normalising it first) to `sink`; returns the top hash.
    @discardableResult
    public func write(_ manifest: inout Manifest, to sink: (UnsafeRawBufferPointer) throws -> Void) throws -> String {
        try manifest.normalize()
        var output: [UInt8] = []
        output.reserveCapacity(ManifestWriter.blockSize + 4096)

        var header = manifest.header
        header.removeValue(forKey: "top_hash")
        try Self.checkFinite(.object(header), subject: "package metadata")

        // The top hash depends on the entries alone, not on the lines: it is computed on another core while the
        // lines are written (for a million entries each pass takes about a second).
        let digest = Locked<[UInt8]>([])
        let hashing = DispatchGroup()
        let (hashedHeader, entries) = (header, manifest.entries)
        DispatchQueue.global().async(group: hashing) {
            let value = ManifestWriter.topHashDigest(header: hashedHeader, entries: entries)
            digest.withLock { $0 = value }
        }
        defer { hashing.wait() }

        var lineStart = output.count
        JSONWriter.writeManifestForm(.object(header), to: &output)
        try endLine(&output, from: lineStart, subject: "package metadata")

        let directories = manifest.directoryMeta
            .filter { $0.meta.isTruthy }
            .sorted { LogicalKey.precedes($0.key, $1.key) }
        for directory in directories {
            try Self.checkFinite(directory.meta, subject: "directory \(quoted(directory.key))")
            lineStart = output.count
            EntryStream.appendDirectoryLine(key: directory.key, meta: directory.meta, to: &output)
            try endLine(&output, from: lineStart, subject: "entry with logical key \(quoted(directory.key))")
            try flushIfFull(&output, sink: sink)
        }

        for entry in manifest.entries {
            guard entry.hash != nil else { throw ManifestError.missingHash(logicalKey: entry.logicalKey) }
            try Self.checkFinite(entry.meta, subject: "entry \(quoted(entry.logicalKey))")
            lineStart = output.count
            EntryStream.appendLine(entry, to: &output)
            try endLine(&output, from: lineStart, subject: "entry with logical key \(quoted(entry.logicalKey))")
            try flushIfFull(&output, sink: sink)
        }
        try output.withUnsafeBytes { try sink($0) }
        hashing.wait()
        return Hex.encode(digest.value)
    }

    /// SHA-256 of the header's and every file entry's canonical forms, fed in blocks. An entry without a hash
    /// is skipped: the writer reports it.
    static func topHashDigest(header: JSONObject, entries: [ManifestEntry]) -> [UInt8] {
        let hasher = SHA256Hasher()
        var canonical: [UInt8] = []
        canonical.reserveCapacity(blockSize + 4096)
        JSONWriter.writeCanonicalForm(.object(header), to: &canonical)
        for entry in entries {
            guard let hash = entry.hash else { continue }
            appendCanonicalEntry(entry, hash: hash, to: &canonical)
            if canonical.count >= blockSize {
                hasher.update(canonical)
                canonical.removeAll(keepingCapacity: true)
            }
        }
        hasher.update(canonical)
        return hasher.finalize()
    }

    /// The top hash alone (normalising the manifest): only the canonical forms are made, not the lines, so
    /// checking a loaded manifest against its name costs one pass. Record sizes are a writer's concern and are
    /// not checked here.
    public func topHash(of manifest: inout Manifest) throws -> String {
        try manifest.normalize()
        if let missing = manifest.entries.first(where: { $0.hash == nil }) {
            throw ManifestError.missingHash(logicalKey: missing.logicalKey)
        }
        var header = manifest.header
        header.removeValue(forKey: "top_hash")
        return Hex.encode(Self.topHashDigest(header: header, entries: manifest.entries))
    }

    /// The whole manifest as bytes, and its top hash.
    public func serialize(_ manifest: inout Manifest) throws -> (bytes: [UInt8], topHash: String) {
        var bytes: [UInt8] = []
        let top = try write(&manifest) { bytes.append(contentsOf: $0) }
        return (bytes, top)
    }

    /// The manifest form of a hash dict, in its stored key order (what `hash.json` would write, without building it).
    static func appendHash(_ hash: ObjectHash, to out: inout [UInt8]) {
        out.append(contentsOf: hash.valueFirst ? #"{"value": "#.utf8 : #"{"type": "#.utf8)
        JSONWriter.writeString(hash.valueFirst ? hash.value : hash.type, asciiOnly: false, to: &out)
        out.append(contentsOf: hash.valueFirst ? #", "type": "#.utf8 : #", "value": "#.utf8)
        JSONWriter.writeString(hash.valueFirst ? hash.type : hash.value, asciiOnly: false, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// Appends `{"hash":…,"logical_key":…,"meta":…,"size":…}`: the keys already in sorted order.
    static func appendCanonicalEntry(_ entry: ManifestEntry, hash: ObjectHash, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"hash":{"type":"#.utf8)
        JSONWriter.writeString(hash.type, asciiOnly: true, to: &out)
        out.append(contentsOf: #","value":"#.utf8)
        JSONWriter.writeString(hash.value, asciiOnly: true, to: &out)
        out.append(contentsOf: #"},"logical_key":"#.utf8)
        JSONWriter.writeString(entry.logicalKey, asciiOnly: true, to: &out)
        out.append(contentsOf: #","meta":"#.utf8)
        JSONWriter.writeCanonicalForm(entry.meta, to: &out)
        out.append(contentsOf: #","size":"#.utf8)
        JSONWriter.writeInteger(entry.size, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// Checks the line that starts at `start` (the subject is only built for the error) and ends it.
    private func endLine(_ output: inout [UInt8], from start: Int, subject: @autoclosure () -> String) throws {
        let size = output.count - start
        if size > maxRecordSize {
            throw ManifestError.recordTooLarge(subject: subject(), size: size, limit: maxRecordSize)
        }
        output.append(0x0A)
    }

    private func flushIfFull(_ output: inout [UInt8], sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard output.count >= ManifestWriter.blockSize else { return }
        try output.withUnsafeBytes { try sink($0) }
        output.removeAll(keepingCapacity: true)
    }

    static func checkFinite(_ value: JSONValue, subject: @autoclosure () -> String) throws(ManifestError) {
        if !ManifestWriter.isFinite(value) {
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
