// The JSON form of a revision (`quilt show --json`): `{name, top_hash, message, user_meta, workflow, entries}`, streamed as
// the manifest is read, so a revision of ten million entries costs a buffer.
import QuiltSupport
import QuiltFormat

extension Registry {
    /// Writes the JSON object of revision `topHash` to `sink` in blocks, entries in stored order (tree order for
    /// every manifest quilt3 or this suite writes). The manifest is checked against its name at the end: one that
    /// fails leaves the object unclosed, and the error is thrown.
    public func writeRevisionJSON(name: String?, topHash: String, to sink: ([UInt8]) -> Void) throws {
        try readManifest(topHash, order: .stored) { manifest in
            var out: [UInt8] = []
            out.append(contentsOf: #"{"name": "#.utf8)
            JSONWriter.writeManifestForm(name.map { .string($0) } ?? .null, to: &out)
            out.append(contentsOf: #", "top_hash": "#.utf8)
            JSONWriter.writeManifestForm(.string(topHash), to: &out)
            out.append(contentsOf: #", "message": "#.utf8)
            JSONWriter.writeManifestForm(manifest.header["message"] ?? .null, to: &out)
            out.append(contentsOf: #", "user_meta": "#.utf8)
            JSONWriter.writeManifestForm(manifest.userMeta ?? .null, to: &out)
            // The workflow stamp as the header holds it (`{"id", "config"[, "schemas"]}`), null without one.
            out.append(contentsOf: #", "workflow": "#.utf8)
            JSONWriter.writeManifestForm(manifest.workflow ?? .null, to: &out)
            out.append(contentsOf: #", "entries": ["#.utf8)
            var first = true
            while let entry = try manifest.next() {
                if !first { out.append(contentsOf: ", ".utf8) }
                first = false
                JSONWriter.writeManifestForm(.object(JSONObject([
                    // `physical_keys` is the manifest's own name and form; `physical_key` stays for old readers.
                    ("logical_key", .string(entry.logicalKey)), ("physical_key", .string(entry.physicalKey)),
                    ("physical_keys", .array([.string(entry.physicalKey)])),
                    ("size", .int(entry.size)), ("hash", entry.hash?.json ?? .null), ("meta", entry.meta),
                ])), to: &out)
                if out.count >= 1 << 16 {
                    sink(out)
                    out.removeAll(keepingCapacity: true)
                }
            }
            out.append(contentsOf: "]}\n".utf8)
            sink(out)
        }
    }
}
