// The canonical form of a file entry, what the top hash is made of: quilt3's
// `json.dumps(entry, sort_keys=True, separators=(',', ':'))`, ASCII only. One frame, filled either from an entry's
// values or straight from the bytes of a line in the writer's form.
import QuiltSupport

enum CanonicalEntry {
    /// `{"hash":{"type":T,"value":V},"logical_key":K,"meta":M,"size":S}`: the keys already in sorted order. Each
    /// field writer returns false when it cannot write its field; then nothing is appended.
    @inline(__always)
    private static func frame(_ out: inout [UInt8], type: (inout [UInt8]) -> Bool, value: (inout [UInt8]) -> Bool,
                              key: (inout [UInt8]) -> Bool, meta: (inout [UInt8]) -> Bool,
                              size: (inout [UInt8]) -> Void) -> Bool {
        let mark = out.count
        out.append(contentsOf: #"{"hash":{"type":"#.utf8)
        guard type(&out) else { out.removeSubrange(mark...); return false }
        out.append(contentsOf: #","value":"#.utf8)
        guard value(&out) else { out.removeSubrange(mark...); return false }
        out.append(contentsOf: #"},"logical_key":"#.utf8)
        guard key(&out) else { out.removeSubrange(mark...); return false }
        out.append(contentsOf: #","meta":"#.utf8)
        guard meta(&out) else { out.removeSubrange(mark...); return false }
        out.append(contentsOf: #","size":"#.utf8)
        size(&out)
        out.append(UInt8(ascii: "}"))
        return true
    }

    /// The canonical form of an entry's values.
    static func append(_ entry: ManifestEntry, hash: ObjectHash, to out: inout [UInt8]) {
        _ = frame(&out,
                  type: { JSONWriter.writeString(hash.type, asciiOnly: true, to: &$0); return true },
                  value: { JSONWriter.writeString(hash.value, asciiOnly: true, to: &$0); return true },
                  key: { JSONWriter.writeString(entry.logicalKey, asciiOnly: true, to: &$0); return true },
                  meta: { JSONWriter.writeCanonicalForm(entry.meta, to: &$0); return true },
                  size: { JSONWriter.writeInteger(entry.size, to: &$0) })
    }

    /// The canonical form of a line in the writer's form, made from its bytes (only a non-empty meta is parsed);
    /// false, with nothing appended, for another line or a meta that is not JSON.
    static func appendInPlace(line: UnsafeRawBufferPointer, to out: inout [UInt8]) -> Bool {
        guard let shape = WriterFormLine(line) else { return false }
        return appendInPlace(line: line, shape: shape, to: &out)
    }

    /// `appendInPlace` of a line whose shape the caller has read already.
    static func appendInPlace(line: UnsafeRawBufferPointer, shape: WriterFormLine, to out: inout [UInt8]) -> Bool {
        let scan = LineScanner(bytes: line)
        return frame(&out,
                     type: { scan.appendCanonical(shape.type, to: &$0) },
                     value: { scan.appendCanonical(shape.value, to: &$0) },
                     key: { scan.appendCanonical(shape.key, to: &$0) },
                     meta: { out in
                         let metaBytes = UnsafeRawBufferPointer(rebasing: line[shape.meta])
                         if metaBytes.count == 2 && metaBytes[0] == UInt8(ascii: "{") && metaBytes[1] == UInt8(ascii: "}") {
                             out.append(contentsOf: metaBytes)
                             return true
                         }
                         guard let value = try? JSONParser.parse(metaBytes) else { return false }
                         JSONWriter.writeCanonicalForm(value, to: &out)
                         return true
                     },
                     size: { $0.append(contentsOf: UnsafeRawBufferPointer(rebasing: line[shape.size])) })
    }

    /// The canonical form of any file entry line: in place where the line is in the writer's form, else from
    /// `entry` (the line already parsed) or from the line parsed now. An entry without a hash has none.
    static func append(line: UnsafeRawBufferPointer, parsed entry: ManifestEntry? = nil, to out: inout [UInt8]) throws(ManifestError) {
        if appendInPlace(line: line, to: &out) { return }
        var parsedNow: ManifestEntry?
        if entry == nil, case .entry(let e) = try ManifestLine.parse(line, lineNumber: 0, rules: .entryStream) { parsedNow = e }
        guard let entry = entry ?? parsedNow, let hash = entry.hash, entry.size >= 0 else {
            throw .missingHash(logicalKey: ManifestLine.logicalKey(of: line))
        }
        append(entry, hash: hash, to: &out)
    }
}
