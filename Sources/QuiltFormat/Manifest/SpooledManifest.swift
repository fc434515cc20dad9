// Manifests too big to hold as values: the header and directory lines as values, the file entries waiting in an
// EntrySpool as lines, written by the one writer from the spool's sorted lines.
import QuiltSupport

/// A manifest whose file entries wait in a spool, in memory bounded by the spool's budget however many entries
/// there are: a stored manifest sorted because its file is not in tree order.
public struct SpooledManifest {
    /// The header line (the package `_meta`), in its own key order.
    public var header: JSONObject
    /// Directory metadata lines: `"dir/"` → that directory's user_meta (few; held as values).
    public var directoryMeta: [(key: String, meta: JSONValue)]
    /// The file entries.
    public let entries: EntrySpool

    public init(header: JSONObject = JSONObject([("version", .string("v0"))]),
                directoryMeta: [(key: String, meta: JSONValue)] = [], entries: EntrySpool) {
        self.header = header
        self.directoryMeta = directoryMeta
        self.entries = entries
    }
}

extension ManifestWriter {
    /// Writes a spooled manifest to `sink` (its entries in tree order, checked as the spool hands them out);
    /// returns the top hash.
    @discardableResult
    public func write(_ manifest: SpooledManifest, to sink: (UnsafeRawBufferPointer) throws -> Void) throws -> String {
        try write(header: manifest.header, directories: manifest.directoryMeta, lines: { emit in
            try manifest.forEachLine { line, _ in try emit(line) }
        }, to: sink)
    }

    /// The top hash of a spooled manifest, writing nothing.
    public func topHash(of manifest: SpooledManifest) throws -> String {
        try write(manifest) { _ in }
    }
}


extension SpooledManifest {
    /// Every file line in tree order, with the checks that need every key: duplicates and collisions between
    /// files (the spool's), and no file where a directory-metadata line says a directory is (quilt3 could not
    /// load that).
    public func forEachLine(_ body: (_ line: UnsafeRawBufferPointer, _ key: UnsafeRawBufferPointer) throws -> Void) throws {
        let paths = Manifest.directoryPaths(directoryMeta)
        try entries.forEachSorted { line, key in
            if !paths.isEmpty {
                let file = String(decoding: key, as: UTF8.self)
                if let directory = paths[ExactString(file)] {
                    throw ManifestError.logicalKeyCollision(file: file, directory: directory)
                }
            }
            try body(line, key)
        }
    }
}
