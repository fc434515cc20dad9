// The revision index against the manifest it is built from: every directory's children, sizes and file counts,
// every entry by its key, paths that are not keys, and what is kept on disk (reopened, damaged, refused).
import Foundation
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltFormat
@testable import QuiltStorage
@testable import QuiltRegistry

@Suite struct RevisionIndexTests {
    /// What the index must say, worked out from the manifest held whole: each directory's children (name → is a
    /// directory, size, files), in tree order.
    struct Expected {
        var children: [String: [(name: String, directory: Bool, size: Int, files: Int)]] = [:]
    }

    static func expected(_ manifest: Manifest) -> Expected {
        var sizes: [String: (size: Int, files: Int)] = ["": (0, 0)]
        var children: [String: [String]] = [:]
        var isDirectory: Set<String> = [""]
        for entry in manifest.entries {
            let parts = entry.logicalKey.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            var path = ""
            for (i, part) in parts.enumerated() {
                let child = path.isEmpty ? part : path + "/" + part
                if !(children[path]?.contains(child) ?? false) { children[path, default: []].append(child) }
                sizes[path, default: (0, 0)].size += entry.size
                sizes[path, default: (0, 0)].files += 1
                if i < parts.count - 1 { isDirectory.insert(child) } else { sizes[child] = (entry.size, 1) }
                path = child
            }
        }
        var out = Expected()
        for (directory, names) in children {
            out.children[directory] = names.map { child in
                (String(child.split(separator: "/").last!), isDirectory.contains(child), sizes[child]!.size, sizes[child]!.files)
            }
        }
        return out
    }

    static func store(_ entries: [ManifestEntry], in registry: Registry, directoryMeta: [(key: String, meta: JSONValue)] = [],
                      message: String = "m") throws -> String {
        var manifest = Manifest(header: JSONObject([("version", .string("v0")), ("message", .string(message)),
                                                    ("user_meta", .object(JSONObject([("k", .int(1))])))]),
                                directoryMeta: directoryMeta, entries: entries)
        return try registry.storeManifest(&manifest)
    }

    @Test func everyDirectoryAndEntryAsTheManifestHasThem() throws {
        let root = TemporaryDirectory()
        let registry = Registry(storage: LocalStorage(root: root.path + "/registry"), temporaryDirectory: root.path)
        let meta: JSONValue = .object(JSONObject([("about", .string("scans"))]))
        let top = try Self.store(awkwardEntries(5000, seed: 3), in: registry, directoryMeta: [("reads/", meta)])
        let manifest = try loadManifest(registry, top)
        let index = try RevisionIndex.open(registry, topHash: top, directory: root.path + "/index")
        #expect(index.header == manifest.header && index.message == "m")
        #expect(index.fileCount == manifest.entries.count)
        #expect(index.totalSize == manifest.entries.reduce(0) { $0 &+ $1.size })
        let expected = Self.expected(manifest)
        var seenDirectories = 0
        for (directory, children) in expected.children {
            guard let node = index.lookup(directory) else {
                Issue.record("no node for directory \(directory)")
                continue
            }
            seenDirectories += 1
            #expect(node.isDirectory && index.path(of: node.id) == directory)
            let listed = index.children(of: node.id)
            #expect(listed.map(\.name) == children.map(\.name), "children of \(directory)")
            #expect(listed.map(\.isDirectory) == children.map(\.directory))
            #expect(listed.map(\.size) == children.map(\.size) && listed.map(\.files) == children.map(\.files))
            #expect(listed.allSatisfy { $0.parent == node.id && index.child(of: node.id, named: $0.name) == $0 })
            #expect(node.childCount == children.count)
            // Pages of a listing are slices of it.
            #expect(index.children(of: node.id, from: 1, limit: 2) == Array(listed.dropFirst().prefix(2)))
        }
        #expect(seenDirectories == expected.children.count)
        // Tree order: ids in order are the entries in order.
        var files: [String] = []
        for id in 0..<index.nodeCount where !index.node(id)!.isDirectory { files.append(index.path(of: id)) }
        #expect(files == manifest.entries.map(\.logicalKey))
        for entry in manifest.entries {
            let node = try #require(index.lookup(entry.logicalKey))
            #expect(try index.entry(node.id) == entry)
            #expect(node.subtreeEnd == node.id + 1)
        }
        let reads = try #require(index.lookup("reads"))
        #expect(index.directoryMeta(reads.id) == meta)
        #expect(index.directoryMeta(try #require(index.lookup("odd")).id) == nil)
        #expect(throws: ReadError.self) { try index.entry(reads.id) }
    }

    @Test func pathsThatAreNotKeysNameNothing() throws {
        let root = TemporaryDirectory()
        let registry = Registry(storage: LocalStorage(root: root.path + "/registry"), temporaryDirectory: root.path)
        let entries = ["a/b/c.txt", "a/b-c", "a.txt", "x"].map {
            ManifestEntry(logicalKey: $0, physicalKey: "s3://b/\($0)", size: 3, hash: ObjectHash(.sha256, value: "h"))
        }
        let index = try RevisionIndex.open(registry, topHash: try Self.store(entries, in: registry), directory: root.path + "/index")
        #expect(index.lookup("")?.id == 0 && index.lookup("/")?.id == 0)
        #expect(index.lookup("a/b/")?.isDirectory == true && index.lookup("a/b")?.childCount == 1)
        for path in ["..", "a/..", "a/../x", "./x", "a//b", "/x", "//", "a/b/c.txt/", "a/b/c", "a/b/c.txt/x", "A", "x\0", "a/b\0/c.txt"] {
            #expect(index.lookup(path) == nil, "\(path)")
        }
        #expect(index.lookup("a/b/c.txt")?.kind == .file)
        // a/b sorts before a/b-c in tree order (its subtree first), and a.txt after the directory a.
        #expect(index.children(of: 0).map(\.name) == ["a", "a.txt", "x"])
        #expect(index.children(of: index.lookup("a")!.id).map(\.name) == ["b", "b-c"])
        #expect(index.lookup("a")!.subtreeEnd == index.lookup("a.txt")!.id)
        #expect(index.node(-1) == nil && index.node(index.nodeCount) == nil && index.children(of: 99).isEmpty)
    }

    @Test func keptOnceAndOpenedWithoutTheManifest() throws {
        let root = TemporaryDirectory()
        let registry = Registry(storage: LocalStorage(root: root.path + "/registry"), temporaryDirectory: root.path)
        let top = try Self.store(awkwardEntries(300, seed: 4), in: registry)
        let directory = root.path + "/index"
        let first = try RevisionIndex.open(registry, topHash: top, directory: directory)
        let kept = directory + "/v1/" + RevisionIndex.registryFolder(registry) + "/" + top
        #expect(first.path == kept && FileSystem.exists(kept))
        // No temporary file is left beside it.
        #expect(try FileSystem.contentsOfDirectory(FileSystem.parent(of: kept)) == [top])
        try registry.storage.delete(Registry.manifestKey(top))
        let second = try RevisionIndex.open(registry, topHash: top, directory: directory)
        #expect(second.fileCount == 300 && second.children(of: 0) == first.children(of: 0))
        // Another registry holding the same revision has its own index (its physical keys may differ).
        let other = Registry(storage: LocalStorage(root: root.path + "/other"), temporaryDirectory: root.path)
        #expect(throws: RegistryError.self) { try RevisionIndex.open(other, topHash: top, directory: directory) }
    }

    @Test func aDamagedIndexIsBuiltAgain() throws {
        let root = TemporaryDirectory()
        let registry = Registry(storage: LocalStorage(root: root.path + "/registry"), temporaryDirectory: root.path)
        let top = try Self.store(awkwardEntries(500, seed: 5), in: registry)
        let directory = root.path + "/index"
        let good = try RevisionIndex.open(registry, topHash: top, directory: directory)
        let bytes = try FileSystem.readFile(good.path)
        let damages: [[UInt8]] = [
            Array(bytes.prefix(bytes.count - 1)),                                 // cut short
            Array(bytes.prefix(100)),                                             // mostly gone
            [],                                                                   // empty
            { var b = bytes; b[b.count - 128] ^= 1; return b }(),                 // trailer
            { var b = bytes; b[b.count - 128 - 64 + 32] = 0xFF; return b }(),     // a record's name offset
            { var b = bytes; b[b.count - 128 - 64 * 7 + 4] = 0xEE; return b }(),  // a record's parent
        ]
        for damaged in damages {
            try FileSystem.writeAtomically(damaged, to: good.path)
            let rebuilt = try RevisionIndex.open(registry, topHash: top, directory: directory)
            #expect(rebuilt.fileCount == 500 && rebuilt.children(of: 0) == good.children(of: 0))
            #expect(try FileSystem.readFile(good.path) == bytes)
        }
        // The index of another revision, put in this one's place, is not taken for it.
        let otherTop = try Self.store(awkwardEntries(20, seed: 6), in: registry)
        let other = try RevisionIndex.open(registry, topHash: otherTop, directory: directory)
        try FileSystem.writeAtomically(try FileSystem.readFile(other.path), to: good.path)
        #expect(try RevisionIndex.open(registry, topHash: top, directory: directory).fileCount == 500)
    }

    @Test func aManifestThatIsNotItsRevisionKeepsNoIndex() throws {
        let root = TemporaryDirectory()
        let registry = Registry(storage: LocalStorage(root: root.path + "/registry"), temporaryDirectory: root.path)
        let top = try Self.store(awkwardEntries(200, seed: 7), in: registry)
        var stored = try registry.storage.get(Registry.manifestKey(top))
        let at = stored.lastIndex(of: UInt8(ascii: "v"))!
        stored[at] = UInt8(ascii: "w")
        try registry.storage.put(Registry.manifestKey(top), bytes: stored)
        let directory = root.path + "/index"
        #expect(throws: RegistryError.self) { try RevisionIndex.open(registry, topHash: top, directory: directory) }
        let folder = directory + "/v1/" + RevisionIndex.registryFolder(registry)
        #expect((try? FileSystem.contentsOfDirectory(folder)) ?? [] == [])
    }

    @Test func aManifestStoredOutOfTreeOrder() throws {
        let root = TemporaryDirectory()
        let registry = Registry(storage: LocalStorage(root: root.path + "/registry"), manifestMemoryBudget: 64 << 10,
                                temporaryDirectory: root.path)
        let entries = awkwardEntries(1500, seed: 8)
        var manifest = Manifest(header: JSONObject([("version", .string("v0"))]), entries: entries)
        let top = try ManifestWriter().topHash(of: &manifest)
        var out = Array(#"{"version": "v0"}"#.utf8) + [0x0A]
        for entry in entries.shuffled() { EntryStream.write(entry, to: &out) }
        try registry.storage.put(Registry.manifestKey(top), bytes: out)
        let index = try RevisionIndex.open(registry, topHash: top, directory: root.path + "/index")
        let loaded = try loadManifest(registry, top)
        var files: [String] = []
        for id in 0..<index.nodeCount where !index.node(id)!.isDirectory { files.append(index.path(of: id)) }
        #expect(files == loaded.entries.map(\.logicalKey))
    }

    @Test func aCacheThatCannotBeWrittenGivesAnIndexForThisProcess() throws {
        let root = TemporaryDirectory()
        let registry = Registry(storage: LocalStorage(root: root.path + "/registry"), temporaryDirectory: root.path + "/tmp")
        try FileSystem.makeDirectories(root.path + "/tmp")
        let top = try Self.store(awkwardEntries(100, seed: 9), in: registry)
        root.file("index", "a file where the directory would be")
        let index = try RevisionIndex.open(registry, topHash: top, directory: root.path + "/index")
        #expect(index.fileCount == 100 && index.lookup(index.path(of: 5))?.id == 5)
        #expect(try FileSystem.contentsOfDirectory(root.path + "/tmp").isEmpty)
    }

    @Test func builtByManyAtOnce() throws {
        let root = TemporaryDirectory()
        let registry = Registry(storage: LocalStorage(root: root.path + "/registry"), temporaryDirectory: root.path)
        let top = try Self.store(awkwardEntries(2000, seed: 10), in: registry)
        let counts = Locked<[Int]>([])
        let directory = root.path + "/index"
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let index = try? RevisionIndex.open(registry, topHash: top, directory: directory)
            counts.withLock { $0.append(index?.fileCount ?? -1) }
        }
        #expect(counts.value == [2000, 2000, 2000, 2000])
        let folder = root.path + "/index/v1/" + RevisionIndex.registryFolder(registry)
        #expect(try FileSystem.contentsOfDirectory(folder) == [top])
        #expect(try RevisionIndex(mapping: folder + "/" + top, topHash: top).fileCount == 2000)
    }

    @Test func aFlatDirectoryOfManyFiles() throws {
        let root = TemporaryDirectory()
        let registry = Registry(storage: LocalStorage(root: root.path + "/registry"), temporaryDirectory: root.path)
        // More records than one window of the builder holds (16,384), in one directory and in a deep chain.
        var entries = (0..<20_000).map {
            ManifestEntry(logicalKey: "flat/f\($0)", physicalKey: "s3://b/\($0)", size: $0, hash: ObjectHash(.sha256, value: "\($0)"))
        }
        entries.append(ManifestEntry(logicalKey: (0..<300).map { "d\($0)" }.joined(separator: "/") + "/leaf", physicalKey: "s3://b/l",
                                     size: 7, hash: ObjectHash(.sha256, value: "l")))
        let index = try RevisionIndex.open(registry, topHash: try Self.store(entries, in: registry), directory: root.path + "/index")
        let flat = try #require(index.lookup("flat"))
        #expect(flat.childCount == 20_000 && flat.files == 20_000 && flat.size == (0..<20_000).reduce(0, +))
        let page = index.children(of: flat.id, from: 19_990, limit: 100)
        #expect(page.count == 10 && page.allSatisfy { index.path(of: $0.id) == "flat/" + $0.name })
        let sorted = (0..<20_000).map { "f\($0)" }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        #expect(index.children(of: flat.id).map(\.name) == sorted)
        #expect(index.child(of: flat.id, named: "f12345")?.size == 12345)
        #expect(index.lookup("d0")?.files == 1 && index.lookup("d0")?.size == 7)
        let leaf = try #require(index.lookup((0..<300).map { "d\($0)" }.joined(separator: "/") + "/leaf"))
        #expect(try index.entry(leaf.id).physicalKey == "s3://b/l")
    }
}
