// A revision's contents as a tree: one entry found by its key (`quilt cat`), the children of a directory or every
// entry below it (`quilt ls`), streamed from the one manifest reader. Tree order makes a directory's subtree one
// run of entries, so a listing holds nothing but the directory it is adding up.
import QuiltSupport
import QuiltFormat

/// One line of a listing: a file, or a directory of the package.
public struct ListedItem: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case file, directory
    }

    public var kind: Kind
    /// Relative to the directory listed (a directory's ends in `/`); a file listed by its own key: that key.
    public var name: String
    /// From the root of the package (a directory's ends in `/`).
    public var logicalKey: String
    /// A file's size; a directory's is the sum of the sizes below it (0 unless totals were asked for).
    public var size: Int
    /// 1 for a file; the files below a directory (0 unless totals were asked for).
    public var files: Int
    /// The entry of a file.
    public var entry: ManifestEntry?
}

extension Registry {
    /// The file entry `logicalKey` of `topHash`, from a read of the whole manifest: it is returned only once the
    /// manifest was checked against its name (its hash is what the entry's bytes are then checked against).
    /// A key that is a directory of the package is `ReadError.isADirectory`, one that is not there `.noSuchKey`.
    public func entry(_ topHash: String, logicalKey: String) throws -> ManifestEntry {
        var directoryKey = logicalKey
        while directoryKey.hasSuffix("/") { directoryKey.removeLast() }
        let wanted = Array(logicalKey.utf8), prefix = Array((directoryKey + "/").utf8)
        return try readManifest(topHash, order: .stored) { manifest in
            var found: ManifestEntry?
            var directory = false
            while let raw = try manifest.nextLine() {
                if raw.key.elementsEqual(wanted) {
                    if case .entry(let entry) = try ManifestLine.parse(raw.line, lineNumber: 0, rules: .manifest) { found = entry }
                } else if !directory && !directoryKey.isEmpty && raw.key.starts(with: prefix) {
                    directory = true
                }
            }
            if let found { return found }
            throw directory || directoryKey.isEmpty ? ReadError.isADirectory(logicalKey) : ReadError.noSuchKey(logicalKey)
        }
    }

    /// Lists the directory `path` of `topHash` (nil or empty: the root; a file's key: that file alone): its files
    /// and directories in tree order, or with `recursive` every file below it. Each item goes to `item` as soon as
    /// it is known: a file at its entry; a directory at its first entry, or with `directoryTotals` once its subtree
    /// has passed, with its size and file count. The whole manifest is read, so the listing ends in an error if it
    /// is not what its name says. A path that names nothing is `ReadError.noSuchKey`.
    ///
    /// A manifest stored out of tree order (no writer we know makes one) is found out part-way and read again
    /// sorted (`readManifest`). Then `takeBack` is asked whether the items already handed over can be taken back
    /// (nothing of them printed yet); if so the listing starts again unseen. If not, it is made again without
    /// handing over the items already handed over, and goes on from there if they were the same (a SHA-256 of
    /// them tells), else ends in `ReadError.listingRestarted`.
    ///
    /// `pause` is called every few thousand entries read (a printer flushes there, so that a line followed by a long
    /// run of entries that make none is not kept back).
    public func list(_ topHash: String, path: String?, recursive: Bool = false, directoryTotals: Bool = false,
                     takeBack: () -> Bool = { false }, pause: () -> Void = {},
                     _ item: (ListedItem) throws -> Void) throws {
        var directory = path ?? ""
        while directory.hasSuffix("/") { directory.removeLast() }
        let onlyDirectory = path?.hasSuffix("/") ?? false
        let prefix = directory.isEmpty ? "" : directory + "/"
        let prefixBytes = Array(prefix.utf8), directoryBytes = Array(directory.utf8)
        var attempt = 0
        var delivered = 0
        let deliveredHash = SHA256Hasher()
        try readManifest(topHash) { manifest in
            attempt += 1
            // After a restart: the items to make again without handing them over, and what they hashed to.
            var replay: (remaining: Int, expected: [UInt8], hasher: SHA256Hasher)?
            if attempt > 1 && delivered > 0 {
                let expected = deliveredHash.finalize()
                if takeBack() { delivered = 0 } else { replay = (delivered, expected, SHA256Hasher()) }
            }
            func deliver(_ listed: ListedItem) throws {
                let identity = Array("\(listed.kind.rawValue)\0\(listed.logicalKey)\0\(listed.size)\0\(listed.files)\n".utf8)
                if let current = replay {
                    current.hasher.update(identity)
                    replay!.remaining -= 1
                    if replay!.remaining == 0 {
                        guard current.hasher.finalize() == current.expected else { throw ReadError.listingRestarted(topHash: topHash) }
                        replay = nil
                    }
                    return
                }
                deliveredHash.update(identity)
                delivered += 1
                try item(listed)
            }

            var found = false
            var pending: ListedItem?
            /// The pending directory's name, as bytes: entries below it are added up without making a String.
            var pendingName: [UInt8] = []
            func flush() throws {
                if let done = pending, directoryTotals { try deliver(done) }
                pending = nil
            }
            /// A file's item: its line parsed only now (most entries of a listing only add to a directory).
            func file(_ raw: ManifestStream.RawEntry, name: (String) -> String) throws -> ListedItem {
                guard case .entry(let entry) = try ManifestLine.parse(raw.line, lineNumber: 0, rules: .manifest) else {
                    throw ManifestError.invalidLine(line: 0, reason: "not a file entry")
                }
                return ListedItem(kind: .file, name: name(entry.logicalKey), logicalKey: entry.logicalKey, size: entry.size,
                                  files: 1, entry: entry)
            }
            var read = 0
            while let raw = try manifest.nextLine() {
                read += 1
                if read & 4095 == 0 { pause() }
                let key = raw.key
                if !onlyDirectory && !directory.isEmpty && key.elementsEqual(directoryBytes) {
                    found = true
                    try deliver(try file(raw) { $0 })
                    continue
                }
                guard key.starts(with: prefixBytes) else {
                    if pending != nil { try flush() }
                    continue
                }
                found = true
                let rest = key[prefixBytes.count...]
                if !recursive, let slash = rest.firstIndex(of: UInt8(ascii: "/")) {
                    if pending != nil && rest[..<slash].elementsEqual(pendingName) {
                        pending!.size += raw.size
                        pending!.files += 1
                        continue
                    }
                    try flush()
                    pendingName = Array(rest[..<slash])
                    let name = String(decoding: pendingName, as: UTF8.self) + "/"
                    pending = ListedItem(kind: .directory, name: name, logicalKey: prefix + name,
                                         size: directoryTotals ? raw.size : 0, files: directoryTotals ? 1 : 0, entry: nil)
                    if !directoryTotals { try deliver(pending!) }
                    continue
                }
                try flush()
                try deliver(try file(raw) { String(decoding: $0.utf8.dropFirst(prefixBytes.count), as: UTF8.self) })
            }
            try flush()
            if replay != nil { throw ReadError.listingRestarted(topHash: topHash) }
            if !found && !directory.isEmpty { throw ReadError.noSuchKey(path ?? directory) }
        }
    }
}

extension QuiltContext {
    /// The entry `logicalKey` of `revision` (nil: the path a Quilt+ URI names), in `registry` (or the URI's),
    /// opened for verified reading (`quilt cat`).
    public func openEntry(_ revision: String, logicalKey: String?, registry registryURL: String?) throws -> EntryHandle {
        let rev = try Revision(revision)
        let key = try Self.entryPath(rev, given: logicalKey, what: "logical key")
        guard let key else { throw RegistryError.invalidRevision(revision, reason: "no logical key given (as an argument or &path=)") }
        let registry = try registry(registryURL, for: rev)
        let entry = try registry.entry(try registry.resolve(rev), logicalKey: key)
        return try entryReader.open(entry)
    }

    /// The path a command works on: the one given as an argument or option, else the URI's `path`; both, unless
    /// the same, is a usage error.
    public static func entryPath(_ revision: Revision, given: String?, what: String) throws -> String? {
        guard let uriPath = revision.path else { return given }
        if let given, !given.isIdentical(to: uriPath) {
            throw RegistryError.invalidRevision(revision.text, reason: "the URI names the path \(quoted(uriPath)), and the \(what) is \(quoted(given))")
        }
        return uriPath
    }
}
