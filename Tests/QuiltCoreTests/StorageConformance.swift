// One conformance check for every Storage backend: each contract of the Storage protocol's documentation.
import Foundation
import Testing
import QuiltSupport
import QuiltFormat
import QuiltHTTP
import QuiltStorage
import QuiltAWS
import QuiltRegistry

/// Checks every contract of `Storage` against fresh stores from `makeStorage` (each call should give an empty
/// store; the checks use their own key prefix so a shared one works too).
func checkStorageConformance(_ makeStorage: () throws -> any Storage) throws {
    let storage = try makeStorage()
    let base = "conformance-\(UInt32.random(in: 0...UInt32.max))/"

    // get of a missing key throws notFound; head gives nil; getIfPresent gives nil.
    #expect(throws: StorageError.self) { try storage.get(base + "missing") }
    do {
        _ = try storage.get(base + "missing")
    } catch StorageError.notFound {
    } catch {
        Issue.record("get of a missing key threw \(error), not notFound")
    }
    #expect(try storage.head(base + "missing") == nil)
    #expect(try storage.getIfPresent(base + "missing") == nil)
    #expect(throws: StorageError.self) { try storage.getPrefix(base + "missing", count: 10) }

    // Round trips: empty, small, awkward keys, a 9 MiB object (above one 8 MiB part).
    var big = [UInt8](repeating: 0, count: 9 * 1024 * 1024)
    for index in stride(from: 0, to: big.count, by: 4096) { big[index] = UInt8(truncatingIfNeeded: index / 4096) }
    let samples: [(String, [UInt8])] = [
        ("empty", []),
        ("small.txt", Array("hello\n".utf8)),
        ("dir/with space/a b.txt", Array("spaces".utf8)),
        ("dir/unicodé/日本語.txt", Array("unicode".utf8)),
        ("dir/plus+sign%percent&amp=eq?q#h.txt", Array("punctuation".utf8)),
        ("big.bin", big),
    ]
    var etags: [String: String] = [:]
    for (name, bytes) in samples {
        let info = try storage.put(base + name, bytes: bytes)
        #expect(!info.etag.isEmpty, "put \(name) gave no etag")
        #expect(try storage.get(base + name) == bytes, "round trip of \(name)")
        #expect(try storage.getPrefix(base + name, count: 3) == Array(bytes.prefix(3)), "prefix of \(name)")
        #expect(try storage.getPrefix(base + name, count: bytes.count + 10) == bytes, "prefix past the end of \(name)")
        let head = try storage.head(base + name)
        #expect(head?.size == bytes.count, "head size of \(name)")
        #expect(head?.etag == info.etag, "head etag of \(name) matches the put's")
        etags[name] = info.etag
    }

    // put(contentsOfFile:) streams a file.
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conformance-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent("file.bin").path
    #expect(FileManager.default.createFile(atPath: file, contents: Data(big.prefix(1_234_567))))
    let fileInfo = try storage.put(base + "from-file.bin", contentsOfFile: file, condition: .always)
    #expect(fileInfo.size == 1_234_567)
    #expect(try storage.get(base + "from-file.bin") == Array(big.prefix(1_234_567)))
    let emptyFile = directory.appendingPathComponent("empty").path
    #expect(FileManager.default.createFile(atPath: emptyFile, contents: Data()))
    try storage.put(base + "from-empty-file", contentsOfFile: emptyFile, condition: .always)
    #expect(try storage.get(base + "from-empty-file") == [])
    #expect(throws: (any Error).self) {
        try storage.put(base + "nope", contentsOfFile: directory.appendingPathComponent("absent").path, condition: .always)
    }

    // list: recursive, sorted by UTF-8 bytes, only below the prefix, keys relative to the root.
    let listed = try storage.list(prefix: base)
    let expected = (samples.map(\.0) + ["from-file.bin", "from-empty-file"]).map { base + $0 }
        .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    #expect(listed == expected)
    #expect(try storage.list(prefix: base + "dir/") == expected.filter { $0.hasPrefix(base + "dir/") })
    #expect(try storage.list(prefix: base + "dir/with") == [base + "dir/with space/a b.txt"])
    #expect(try storage.list(prefix: base + "nothing-here/") == [])

    // Conditional puts.
    let casKey = base + "refs/latest"
    let first = try storage.put(casKey, bytes: Array("one".utf8), condition: .absent)
    expectPreconditionFailed { try storage.put(casKey, bytes: Array("two".utf8), condition: .absent) }
    #expect(try storage.get(casKey) == Array("one".utf8), "a failed absent-put changed nothing")
    let second = try storage.put(casKey, bytes: Array("two".utf8), condition: .matches(etag: first.etag))
    #expect(try storage.get(casKey) == Array("two".utf8))
    expectPreconditionFailed { try storage.put(casKey, bytes: Array("three".utf8), condition: .matches(etag: first.etag)) }
    #expect(try storage.get(casKey) == Array("two".utf8), "a stale-etag put changed nothing")
    #expect(try storage.head(casKey)?.etag == second.etag)
    expectPreconditionFailed {
        try storage.put(base + "never-written", bytes: Array("x".utf8), condition: .matches(etag: second.etag))
    }
    #expect(try storage.head(base + "never-written") == nil)
    expectPreconditionFailed { try storage.put(casKey, contentsOfFile: file, condition: .absent) }
    #expect(try storage.get(casKey) == Array("two".utf8))

    // Overwrite is unconditional by default.
    try storage.put(base + "small.txt", bytes: Array("bye".utf8))
    #expect(try storage.get(base + "small.txt") == Array("bye".utf8))

    // delete: present and missing.
    for key in try storage.list(prefix: base) { try storage.delete(key) }
    try storage.delete(base + "missing")
    #expect(try storage.list(prefix: base) == [])
    #expect(try storage.head(base + "small.txt") == nil)
}

private func expectPreconditionFailed(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        try body()
        Issue.record("expected preconditionFailed, got success", sourceLocation: sourceLocation)
    } catch StorageError.preconditionFailed {
    } catch {
        Issue.record("expected preconditionFailed, got \(error)", sourceLocation: sourceLocation)
    }
}
