// quilt3's `pkg.diff` between two stored revisions: both read side by side in tree order (a merge join), lines
// compared as bytes where both are in the writer's form, so memory holds the differences, not the manifests.
import QuiltSupport
import QuiltFormat

public struct ManifestDiff: Sendable, Equatable {
    public var added: [String]
    public var modified: [String]
    public var deleted: [String]

    public init(added: [String], modified: [String], deleted: [String]) {
        self.added = added
        self.modified = modified
        self.deleted = deleted
    }

    public var isEmpty: Bool { added.isEmpty && modified.isEmpty && deleted.isEmpty }

    /// From the revision `old` to `new`, both in `registry`: modified means size, hash or meta differ; physical
    /// keys and directory metadata are ignored. `deleted` and `modified` are in tree order, `added` sorted by code
    /// point (quilt3's `sorted` of the keys left over). Each manifest is checked against its name as it is read; a
    /// mismatch throws before anything is returned.
    public init(registry: Registry, from old: String, to new: String) throws {
        self = try registry.readManifests([old, new]) { try Self.merge($0[0], $0[1]) }
    }

    static func merge(_ old: StoredManifest, _ new: StoredManifest) throws -> ManifestDiff {
        var diff = ManifestDiff(added: [], modified: [], deleted: [])
        var a = try old.nextLine(), b = try new.nextLine()
        while true {
            switch (a, b) {
            case (nil, nil):
                diff.added.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                return diff
            case (let x?, let y?):
                if x.key.hasSameBytes(as: y.key) {
                    if try !sameContent(x, y) { diff.modified.append(String(decoding: x.key, as: UTF8.self)) }
                    a = try old.nextLine()
                    b = try new.nextLine()
                } else if LogicalKey.precedes(x.key.assumingMemoryBound(to: UInt8.self), y.key.assumingMemoryBound(to: UInt8.self)) {
                    diff.deleted.append(String(decoding: x.key, as: UTF8.self))
                    a = try old.nextLine()
                } else {
                    diff.added.append(String(decoding: y.key, as: UTF8.self))
                    b = try new.nextLine()
                }
            case (let x?, nil):
                diff.deleted.append(String(decoding: x.key, as: UTF8.self))
                a = try old.nextLine()
            case (nil, let y?):
                diff.added.append(String(decoding: y.key, as: UTF8.self))
                b = try new.nextLine()
            }
        }
    }

    /// quilt3's entry equality: size, hash and meta (as values: `1 == 1.0`, keys in any order).
    static func sameContent(_ x: ManifestStream.RawEntry, _ y: ManifestStream.RawEntry) throws -> Bool {
        if let cx = x.contentStart, let cy = y.contentStart,
           UnsafeRawBufferPointer(rebasing: x.line[cx...]).hasSameBytes(as: UnsafeRawBufferPointer(rebasing: y.line[cy...])) {
            return true
        }
        guard case .entry(let first) = try ManifestLine.parse(x.line, lineNumber: 0, rules: .manifest),
              case .entry(let second) = try ManifestLine.parse(y.line, lineNumber: 0, rules: .manifest) else { return false }
        return first.size == second.size && first.hash == second.hash && first.meta == second.meta
    }
}
