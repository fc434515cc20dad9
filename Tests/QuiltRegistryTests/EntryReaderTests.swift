// The verified entry reader: no byte handed out before its chunk matched, damaged chunks anywhere, a file that
// changes between the digest pass and the read, ranges across chunks, the cache's copies and records, other hash
// types checked whole; and the listing's restart rule.
import Foundation
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltFormat
@testable import QuiltStorage
@testable import QuiltAWS
@testable import QuiltRegistry

/// Thrown by the S3 source of readers that must not reach S3 (or must, once, to prove a fallback).
struct S3Reached: Error {}

@Suite struct EntryReaderTests {
    static let chunk = ChunkedHash.minimumChunkSize
    /// Three chunks: two whole and five bytes.
    static let threeChunks = 2 * chunk + 5

    /// Deterministic bytes, different in every chunk.
    static func bytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
        var random = SeededGenerator(seed: seed)
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            for i in words.indices { words[i] = random.next() }
            for i in (words.count * 8)..<count { raw[i] = UInt8(truncatingIfNeeded: random.next()) }
        }
        return out
    }

    /// A local file and its entry (hashed as `type`).
    static func entry(_ directory: TemporaryDirectory, _ name: String, _ content: [UInt8],
                      type: HashType = .sha2256Chunked) throws -> (ManifestEntry, String) {
        let path = directory.path + "/" + name
        try FileSystem.writeAtomically(content, to: path)
        let (hash, size) = try FileHasher.hash(path: path, type: type)
        return (ManifestEntry(logicalKey: "data/" + name, physicalKey: PhysicalKey.local(path: path).url, size: size, hash: hash), path)
    }

    static func reader(cache: ObjectCache?, directory: TemporaryDirectory, threads: Int = 2) -> EntryReader {
        EntryReader(cache: cache, transfers: { throw S3Reached() }, temporaryDirectory: directory.path, hashConcurrency: threads)
    }

    /// Overwrites one byte of the file in place (the same inode: an open reader sees it).
    static func damage(_ path: String, at offset: Int) throws {
        let fd = open(path, O_WRONLY)
        #expect(fd >= 0)
        var byte: UInt8 = 0x5A
        var current: UInt8 = 0
        let rd = open(path, O_RDONLY)
        _ = pread(rd, &current, 1, off_t(offset))
        close(rd)
        if current == byte { byte = 0xA5 }
        _ = pwrite(fd, &byte, 1, off_t(offset))
        close(fd)
    }

    /// What a read handed out before it ended, and how it ended.
    static func read(_ handle: EntryHandle, _ range: Range<Int>? = nil) -> ([UInt8], (any Error)?) {
        var out: [UInt8] = []
        do {
            try handle.read(range) { out.append(contentsOf: $0) }
            return (out, nil)
        } catch {
            return (out, error)
        }
    }

    static func chunkMismatch(_ error: (any Error)?) -> Int? {
        if case .hashMismatch(_, let chunk?, _, _)? = error as? ReadError { return chunk }
        return nil
    }

    static func wholeMismatch(_ error: (any Error)?) -> Bool {
        if case .hashMismatch(_, nil, _, _)? = error as? ReadError { return true }
        return false
    }

    @Test func readsWholeObjectsAndEveryRange() throws {
        let directory = TemporaryDirectory()
        let content = Self.bytes(Self.threeChunks)
        let (entry, _) = try Self.entry(directory, "big", content)
        for threads in [1, 2, 4] {
            let handle = try Self.reader(cache: nil, directory: directory, threads: threads).open(entry)
            #expect(try handle.bytes() == content)
            let ranges = [0..<0, 0..<1, Self.chunk - 10..<Self.chunk + 10, Self.chunk - 1..<2 * Self.chunk + 1,
                          2 * Self.chunk..<Self.threeChunks, Self.threeChunks - 1..<Self.threeChunks, 5..<Self.threeChunks - 3]
            for range in ranges { #expect(try handle.bytes(range) == Array(content[range]), "range \(range)") }
        }
        let handle = try Self.reader(cache: nil, directory: directory).open(entry)
        #expect(throws: ReadError.self) { try handle.bytes(Self.threeChunks - 1..<Self.threeChunks + 1) }
        // Small and empty objects are one chunk (or none), checked whole.
        for size in [0, 1, 4096, Self.chunk] {
            let small = Self.bytes(size, seed: UInt64(size) + 7)
            let (e, _) = try Self.entry(directory, "s\(size)", small)
            #expect(try Self.reader(cache: nil, directory: directory).open(e).bytes() == small)
        }
    }

    @Test func damagedMiddleChunkWithoutRecordPrintsNothing() throws {
        let directory = TemporaryDirectory()
        let (entry, path) = try Self.entry(directory, "big", Self.bytes(Self.threeChunks))
        try Self.damage(path, at: Self.chunk + 100)
        let (out, error) = Self.read(try Self.reader(cache: nil, directory: directory).open(entry))
        // The digests come from the file itself: they do not combine to the hash, and no chunk is trusted.
        #expect(out.isEmpty && Self.wholeMismatch(error))
        #expect((error as? ReadError)?.kind == .badInput)
        #expect((error as? QuiltError)?.message.contains("'data/big'") == true)
    }

    @Test func damagedChunksWithTheirDigestsKnownStopAtTheDamage() throws {
        for (damagedChunk, offset) in [(1, Self.chunk + 100), (2, Self.threeChunks - 1), (0, 0)] {
            let directory = TemporaryDirectory()
            let cache = ObjectCache(root: directory.path + "/cache")
            let content = Self.bytes(Self.threeChunks, seed: 3)
            let (entry, path) = try Self.entry(directory, "big", content)
            // A first read verifies it whole and keeps its chunk digests.
            #expect(try Self.reader(cache: cache, directory: directory).open(entry).bytes() == content)
            #expect(cache.chunkDigests(for: entry.hash!, size: entry.size)?.count == 3)
            try Self.damage(path, at: offset)
            let (out, error) = Self.read(try Self.reader(cache: cache, directory: directory).open(entry))
            #expect(Self.chunkMismatch(error) == damagedChunk, "\(String(describing: error))")
            #expect(out == Array(content[0..<damagedChunk * Self.chunk]))
            // A range in the chunks before the damage still reads; one touching it does not.
            let handle = try Self.reader(cache: cache, directory: directory).open(entry)
            if damagedChunk > 0 { #expect(try handle.bytes(10..<Self.chunk - 10) == Array(content[10..<Self.chunk - 10])) }
            #expect(Self.chunkMismatch(Self.read(handle, offset..<offset + 1).1) == damagedChunk)
        }
    }

    @Test func chunksReadIntoTheCallersBufferAreVerifiedThereAndADamagedOneThrows() throws {
        let directory = TemporaryDirectory()
        let cache = ObjectCache(root: directory.path + "/cache")
        let content = Self.bytes(Self.threeChunks, seed: 7)
        let (entry, path) = try Self.entry(directory, "big", content)
        let handle = try Self.reader(cache: cache, directory: directory).open(entry)
        #expect(handle.chunkLength == Self.chunk)
        for index in [2, 0, 1] {
            let range = index * Self.chunk..<min(content.count, (index + 1) * Self.chunk)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: range.count, alignment: 64)
            defer { buffer.deallocate() }
            try handle.readChunk(index, into: buffer)
            #expect(Array(buffer) == Array(content[range]))
        }
        // A buffer of another size, or a chunk past the end, is refused before anything is read.
        let wrong = UnsafeMutableRawBufferPointer.allocate(byteCount: 10, alignment: 64)
        defer { wrong.deallocate() }
        #expect(throws: ReadError.self) { try handle.readChunk(0, into: wrong) }
        #expect(throws: ReadError.self) { try handle.readChunk(3, into: wrong) }
        // With the digests known, a damaged chunk throws, naming it; the others still read.
        try Self.damage(path, at: Self.chunk + 5)
        let again = try Self.reader(cache: cache, directory: directory).open(entry)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunk, alignment: 64)
        defer { buffer.deallocate() }
        do {
            try again.readChunk(1, into: buffer)
            Issue.record("a damaged chunk read")
        } catch {
            #expect(Self.chunkMismatch(error) == 1)
        }
        try again.readChunk(0, into: buffer)
        #expect(Array(buffer) == Array(content[0..<Self.chunk]))
    }

    @Test func aFileChangedAfterItsDigestsWereTakenIsCaughtAtTheChangedChunk() throws {
        let directory = TemporaryDirectory()
        let content = Self.bytes(Self.threeChunks, seed: 4)
        let (entry, path) = try Self.entry(directory, "big", content)
        // No cache, so no record: the digests come from a pass over the file, kept by the handle.
        let handle = try Self.reader(cache: nil, directory: directory).open(entry)
        #expect(try handle.bytes() == content)
        try Self.damage(path, at: 2 * Self.chunk + 2)
        let (out, error) = Self.read(handle)
        #expect(Self.chunkMismatch(error) == 2)
        #expect(out == Array(content[0..<2 * Self.chunk]))
        // A range crossing from a good chunk into the changed one hands out the good part only.
        let (partial, rangeError) = Self.read(handle, Self.chunk + 5..<2 * Self.chunk + 3)
        #expect(Self.chunkMismatch(rangeError) == 2 && partial == Array(content[Self.chunk + 5..<2 * Self.chunk]))
        // A file that shrank is refused too (a new open sees the size, an open handle a short read).
        _ = truncate(path, off_t(Self.chunk))
        #expect(throws: ReadError.self) { try handle.bytes() }
        #expect(throws: ReadError.self) { try Self.reader(cache: nil, directory: directory).open(entry) }
    }

    @Test func recordsThatDoNotCombineToTheirNameAreRemoved() throws {
        let directory = TemporaryDirectory()
        let cache = ObjectCache(root: directory.path + "/cache")
        let content = Self.bytes(Self.threeChunks, seed: 5)
        let (entry, _) = try Self.entry(directory, "big", content)
        _ = try Self.reader(cache: cache, directory: directory).open(entry).bytes()
        let location = ObjectCache.location(of: entry.hash!)!
        let record = cache.root + "/chunk-digests/" + location.shard + "/" + location.name
        var bytes = try FileSystem.readFile(record)
        bytes[40] ^= 1
        try FileSystem.writeAtomically(bytes, to: record)
        #expect(cache.chunkDigests(for: entry.hash!, size: entry.size) == nil)
        #expect(!FileSystem.exists(record))
        cache.keepChunkDigests([[UInt8](repeating: 0, count: 32), [UInt8](repeating: 1, count: 32)], for: entry.hash!)
        #expect(!FileSystem.exists(record))
        #expect(try Self.reader(cache: cache, directory: directory).open(entry).bytes() == content)
        #expect(FileSystem.exists(record))
    }

    @Test func hashingForABuildKeepsTheRecordSoAFirstReadStreams() throws {
        let directory = TemporaryDirectory()
        let cache = ObjectCache(root: directory.path + "/cache")
        let content = Self.bytes(Self.threeChunks, seed: 6)
        let (entry, path) = try Self.entry(directory, "big", content)
        let (small, smallPath) = try Self.entry(directory, "small", Self.bytes(Self.chunk, seed: 7))
        let results = try EntryHasher.hashFiles([path, smallPath], chunkDigestsTo: cache)
        #expect(results.map(\.hash.value) == [entry.hash!.value, small.hash!.value])
        #expect(cache.chunkDigests(for: entry.hash!, size: entry.size)?.count == 3)
        // One chunk is checked against the hash itself: no record.
        let location = ObjectCache.location(of: small.hash!)!
        #expect(!FileSystem.exists(cache.root + "/chunk-digests/" + location.shard + "/" + location.name))
        // The record lets the first read stream: a damaged last chunk leaves the two before it.
        try Self.damage(path, at: 2 * Self.chunk + 1)
        let (out, error) = Self.read(try Self.reader(cache: cache, directory: directory).open(entry))
        #expect(Self.chunkMismatch(error) == 2)
        #expect(out == Array(content[0..<(2 * Self.chunk)]))
    }

    @Test func cachedCopiesAreReadFirstAndADamagedOneGivesWayToS3() throws {
        let directory = TemporaryDirectory()
        let cache = ObjectCache(root: directory.path + "/cache")
        let content = Self.bytes(Self.threeChunks, seed: 6)
        let (local, path) = try Self.entry(directory, "big", content)
        var remote = local
        remote.physicalKey = "s3://bucket/data/big?versionId=v1"
        #expect(cache.insert(local.hash!, from: try InputFile(path: path)))
        // Read from the cache alone: S3 is never asked.
        #expect(try Self.reader(cache: cache, directory: directory).open(remote).bytes() == content)
        // The cached copy damaged in its last chunk: the chunks before it come from the cache, then S3 is asked.
        let cached = cache.root + "/sha2-256-chunked/" + ObjectCache.location(of: local.hash!)!.shard + "/"
            + ObjectCache.location(of: local.hash!)!.name
        try Self.damage(cached, at: Self.threeChunks - 2)
        let (out, error) = Self.read(try Self.reader(cache: cache, directory: directory).open(remote))
        #expect(error is S3Reached)
        #expect(out == Array(content[0..<2 * Self.chunk]))
        #expect(!FileSystem.exists(cached))
    }

    @Test func otherHashTypesAreCheckedWholeBeforeAnyByte() throws {
        for type in [HashType.sha256, .crc64nvme] {
            for size in [0, 1000, EntryHandle.memorySpoolLimit + 1000] {
                let directory = TemporaryDirectory()
                let content = Self.bytes(size, seed: UInt64(size) + 11)
                let (entry, path) = try Self.entry(directory, "f", content, type: type)
                let handle = try Self.reader(cache: nil, directory: directory).open(entry)
                #expect(try handle.bytes() == content)
                if size > 10 { #expect(try handle.bytes(3..<size - 3) == Array(content[3..<size - 3])) }
                guard size > 0 else { continue }
                try Self.damage(path, at: size - 1)
                // The handle's verified copy is what it reads from; a new handle sees the damage.
                #expect(try handle.bytes() == content)
                let (out, error) = Self.read(try Self.reader(cache: nil, directory: directory).open(entry))
                #expect(out.isEmpty && Self.wholeMismatch(error))
            }
        }
    }

    @Test func anErrorOfTheConsumerEndsTheReadAsItIs() throws {
        struct Closed: Error {}
        let directory = TemporaryDirectory()
        let (entry, _) = try Self.entry(directory, "big", Self.bytes(Self.threeChunks, seed: 8))
        var blocks = 0
        #expect(throws: Closed.self) {
            try Self.reader(cache: nil, directory: directory).open(entry).read { _ in
                blocks += 1
                throw Closed()
            }
        }
        #expect(blocks == 1)
    }
}

@Suite struct PackageListingTests {
    /// A registry with one revision whose file lists `keys` in the order given (tree order or not); its top hash.
    static func revision(_ keys: [String], in root: TemporaryDirectory) throws -> (Registry, String) {
        let registry = Registry(storage: LocalStorage(root: root.path), temporaryDirectory: root.path + "/tmp")
        let entries = keys.enumerated().map { i, key in
            ManifestEntry(logicalKey: key, physicalKey: "s3://b/\(i)", size: i + 1, hash: ObjectHash(.sha256, value: String(repeating: "a", count: 64)))
        }
        var manifest = Manifest(header: JSONObject([("version", .string("v0"))]), entries: entries)
        let top = try ManifestWriter().topHash(of: &manifest)
        var out = Array(#"{"version": "v0"}"#.utf8) + [0x0A]
        for entry in entries { EntryStream.write(entry, to: &out) }
        try registry.storage.put(Registry.manifestKey(top), bytes: out)
        return (registry, top)
    }

    static func names(_ registry: Registry, _ top: String, path: String? = nil, recursive: Bool = false,
                      totals: Bool = false, takeBack: () -> Bool = { false }) throws -> [String] {
        var names: [String] = []
        try registry.list(top, path: path, recursive: recursive, directoryTotals: totals, takeBack: takeBack) {
            names.append(totals ? "\($0.name) \($0.size) \($0.files)" : $0.name)
        }
        return names
    }

    @Test func childrenTotalsAndRecursion() throws {
        let root = TemporaryDirectory()
        // Sizes 1…7 in this order; stored in tree order.
        let (registry, top) = try Self.revision(["a/x", "a/y/w", "a/y/z", "a-b", "a.txt", "b.txt", "c/d/e/f"], in: root)
        #expect(try Self.names(registry, top) == ["a/", "a-b", "a.txt", "b.txt", "c/"])
        #expect(try Self.names(registry, top, totals: true) == ["a/ 6 3", "a-b 4 1", "a.txt 5 1", "b.txt 6 1", "c/ 7 1"])
        #expect(try Self.names(registry, top, path: "a") == ["x", "y/"])
        #expect(try Self.names(registry, top, path: "a/y/", recursive: true) == ["w", "z"])
        #expect(try Self.names(registry, top, recursive: true) == ["a/x", "a/y/w", "a/y/z", "a-b", "a.txt", "b.txt", "c/d/e/f"])
        #expect(try Self.names(registry, top, path: "b.txt") == ["b.txt"])
        #expect(throws: ReadError.self) { try Self.names(registry, top, path: "b.txt/") }
        #expect(throws: ReadError.self) { try Self.names(registry, top, path: "nope") }
        #expect(try registry.entry(top, logicalKey: "a/y/z").size == 3)
        #expect(throws: ReadError.self) { try registry.entry(top, logicalKey: "a/y") }
    }

    /// More keys than the reader hands over in its first batch (1 MiB of lines), so that some are handed over before the disorder
    /// at the end of the file is found.
    static let many = (0..<12000).map { String(format: "%05d-%@", $0, String(repeating: "x", count: 40)) }

    @Test func aRestartAfterWrongItemsIsUnseenIfTakenBackAndAnErrorIfNot() throws {
        // `m/…` first, then `a/x`: found out of order at the end, after `m/` was handed over.
        let root = TemporaryDirectory()
        let (registry, top) = try Self.revision(Self.many.map { "m/" + $0 } + ["a/x"], in: root)
        var got: [String] = []
        var askedBack = 0
        try registry.list(top, path: nil, takeBack: { askedBack += 1; got.removeAll(); return true }) { got.append($0.name) }
        #expect(askedBack == 1 && got == ["a/", "m/"])
        #expect(throws: ReadError.self) { try Self.names(registry, top) }
    }

    @Test func aRestartAfterRightItemsGoesOnWithoutRepeatingThem() throws {
        // Listing `a/`, whose entries all come first, in order; the disorder is in `z/`, after them.
        let root = TemporaryDirectory()
        let (registry, top) = try Self.revision(Self.many.map { "a/" + $0 } + ["z/2", "z/1"], in: root)
        #expect(try Self.names(registry, top, path: "a") == Self.many)
        #expect(try Self.names(registry, top, path: "a", totals: true).count == Self.many.count)
    }
}
