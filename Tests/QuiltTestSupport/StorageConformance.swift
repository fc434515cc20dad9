// One conformance check for every Storage backend: each contract of the Storage protocol's documentation.
import Dispatch
import Foundation
import Testing
import QuiltSupport
import QuiltStorage

/// Checks every contract of `Storage` against fresh stores from `makeStorage` (each call should give an empty
/// store; the checks use their own key prefix so a shared one works too).
public func checkStorageConformance(_ makeStorage: () throws -> any Storage) throws {
    let storage = try makeStorage()
    let base = "conformance-\(UInt32.random(in: 0...UInt32.max))/"

    // get of a missing key throws notFound; head gives nil; getIfPresent gives nil.
    let missing = try #require(throws: StorageError.self) { try storage.get(base + "missing") }
    if case .notFound = missing {} else { Issue.record("get of a missing key threw \(missing), not notFound") }
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

    // reader: the same bytes as get, in pieces of any size the caller asks for; a missing key is notFound.
    for (name, bytes) in samples {
        for piece in [1 << 20, 4093] {
            let reader = try storage.reader(base + name)
            var read: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: piece)
            while true {
                let n = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
                if n == 0 { break }
                read += buffer[0..<n]
            }
            #expect(read == bytes, "reader of \(name) in pieces of \(piece)")
        }
    }
    do {
        _ = try storage.reader(base + "missing")
        Issue.record("reader of a missing key succeeded")
    } catch StorageError.notFound {
    } catch {
        Issue.record("reader of a missing key threw \(error), not notFound")
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

    // getWithInfo: the bytes and the ETag a compare-and-swap needs, read together; missing is notFound.
    let withInfo = try storage.getWithInfo(casKey)
    #expect(withInfo.bytes == Array("two".utf8))
    #expect(withInfo.info.etag == second.etag, "getWithInfo's etag is the one a conditional put compares")
    #expect(withInfo.info.size == 3)
    do {
        _ = try storage.getWithInfo(base + "missing")
        Issue.record("getWithInfo of a missing key succeeded")
    } catch StorageError.notFound {
    } catch {
        Issue.record("getWithInfo of a missing key threw \(error), not notFound")
    }
    let swapped = try storage.put(casKey, bytes: Array("four".utf8), condition: .matches(etag: withInfo.info.etag))
    #expect(try storage.getWithInfo(casKey).info.etag == swapped.etag)

    // N writers race to create the same key, and N more to swap it from the same ETag: exactly one wins each.
    for round in 0..<2 {
        let key = base + "race-\(round)"
        let condition = round == 0 ? WriteCondition.absent
            : .matches(etag: try storage.put(key, bytes: Array("start".utf8)).etag)
        let writers = 8
        let outcomes = Locked<[Int: Bool]>([:])
        let unexpected = Locked<[String]>([])
        let ready = DispatchGroup(), go = DispatchSemaphore(value: 0), done = DispatchGroup()
        for writer in 0..<writers {
            ready.enter()
            done.enter()
            Thread {
                ready.leave()
                go.wait()
                do {
                    try storage.put(key, bytes: Array("writer \(writer)".utf8), condition: condition)
                    outcomes.withLock { $0[writer] = true }
                } catch StorageError.preconditionFailed {
                    outcomes.withLock { $0[writer] = false }
                } catch {
                    unexpected.withLock { $0.append("\(error)") }
                }
                done.leave()
            }.start()
        }
        ready.wait()
        for _ in 0..<writers { go.signal() }
        done.wait()
        #expect(unexpected.value.isEmpty, "racing writers failed otherwise: \(unexpected.value)")
        let winners = outcomes.value.filter(\.value).map(\.key)
        #expect(winners.count == 1, "round \(round): \(winners.count) of \(writers) racing conditional writers won")
        if let winner = winners.first {
            #expect(try storage.get(key) == Array("writer \(winner)".utf8), "the object holds the winner's bytes")
        }
    }

    // stage: written in pieces, stored at a key chosen at commit, nothing visible before.
    let staged = try storage.stage()
    let pieces = [Array("staged ".utf8), Array("object".utf8)]
    for piece in pieces { try piece.withUnsafeBytes { try staged.write($0) } }
    #expect(try storage.list(prefix: base + "staged") == [])
    let stagedInfo = try staged.commit(as: base + "staged/object")
    #expect(stagedInfo.size == 13)
    #expect(try storage.get(base + "staged/object") == Array("staged object".utf8))

    // Capabilities are stated.
    #expect(storage.capabilities.readConcurrency >= 1)

    // A listing cut short gives the first keys of the whole one.
    let everything = try storage.list(prefix: base)
    #expect(try storage.list(prefix: base, limit: 2) == Array(everything.prefix(2)))
    #expect(try storage.list(prefix: base, limit: 1) == Array(everything.prefix(1)))
    #expect(try storage.list(prefix: base + "missing", limit: 1) == [])

    // Deleting the version a write returned leaves nothing of the object.
    let probe = try storage.put(base + "probe/one", bytes: Array("probe".utf8))
    try storage.delete(base + "probe/one", versionId: probe.versionId)
    #expect(try storage.head(base + "probe/one") == nil)
    #expect(try storage.list(prefix: base + "probe") == [])

    // Overwrite is unconditional by default.
    try storage.put(base + "small.txt", bytes: Array("bye".utf8))
    #expect(try storage.get(base + "small.txt") == Array("bye".utf8))

    // listVersions: every object below the prefix as a latest version with its size and a time near now (it was
    // just written), keys in UTF-8 byte order with one key's versions together; pages hold all of them.
    var versions: [StoredVersion] = []
    try storage.listVersions(prefix: base) { versions += $0 }
    let current = versions.filter { $0.isLatest && !$0.isDeleteMarker }
    #expect(current.map(\.key) == (try storage.list(prefix: base)), "the latest versions are what list lists")
    for version in current {
        #expect(version.size == (try storage.head(version.key))?.size, "listed size of \(version.key)")
        #expect(abs(version.lastModified - WallClock.now()) < 3600, "listed time of \(version.key)")
    }
    #expect(zip(versions, versions.dropFirst()).allSatisfy { !$1.key.utf8.lexicographicallyPrecedes($0.key.utf8) },
            "versions in key order")
    var seen: [String] = []
    for version in versions where seen.last != version.key {
        #expect(!seen.contains(version.key), "the versions of \(version.key) are together")
        seen.append(version.key)
    }
    if case .directory = storage.location {
        #expect(versions.allSatisfy { $0.versionId == nil && $0.isLatest }, "a store without versions has one each")
    }
    var below: [StoredVersion] = []
    try storage.listVersions(prefix: base + "dir/") { below += $0 }
    #expect(below.allSatisfy { $0.key.hasPrefix(base + "dir/") } && !below.isEmpty)

    // delete(_:versionId:) of listed versions: every version of small.txt (written twice) deleted, it is gone and lists no version; a
    // version already gone deletes again without an error; the other objects are untouched.
    let target = base + "small.txt"
    let targetVersions = versions.filter { $0.key == target }
    #expect(!targetVersions.isEmpty)
    for version in targetVersions { try storage.delete(target, versionId: version.versionId) }
    #expect(try storage.head(target) == nil)
    var left: [StoredVersion] = []
    try storage.listVersions(prefix: target) { left += $0 }
    #expect(left.isEmpty, "deleted versions are gone for good: \(left)")
    for version in targetVersions { try storage.delete(target, versionId: version.versionId) }
    #expect(try storage.get(base + "refs/latest") == Array("four".utf8))

    // Incomplete uploads: none was started below this prefix; a directory, whose files are written whole, lists
    // none anywhere.
    #expect(try storage.listIncompleteUploads(prefix: base) == [])
    if case .directory = storage.location { #expect(try storage.listIncompleteUploads(prefix: "") == []) }

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
