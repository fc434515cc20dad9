// Install records (status, pull) and --path selections: the record's line format, the identity rule it relies
// on, pattern matching in path syntax, and where selected entries land.
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltFormat
@testable import QuiltRegistry

@Suite struct InstallRecordTests {
    private let identity = FileIdentity(device: 65024, inode: 12345, size: 7, mtime: 1_700_000_000_123_456_789,
                                        ctime: 1_700_000_000_223_456_789)

    private func roundTrip(_ file: InstalledFile) -> InstalledFile? {
        var line: [UInt8] = []
        file.appendLine(to: &line)
        #expect(line.last == 0x0A)
        #expect(line.dropLast().filter { $0 == 0x0A }.isEmpty)
        return line.dropLast().withUnsafeBytes { InstalledFile(line: $0) }
    }

    @Test func linesRoundTripPathsWithSpacesBackslashesAndNewlines() {
        for path in ["a.txt", "dir with spaces/x y", "back\\slash\\n", "new\nline", "日本語/ü", " lead"] {
            let file = InstalledFile(path: path, identity: identity, hash: ObjectHash(.sha2256Chunked, value: "abc+/="))
            #expect(roundTrip(file) == file)
        }
        let big = FileIdentity(device: UInt64.max, inode: UInt64.max - 1, size: 1 << 40, mtime: 0, ctime: 1)
        let file = InstalledFile(path: "p", identity: big, hash: ObjectHash(.sha256, value: String(repeating: "f", count: 64)))
        #expect(roundTrip(file) == file)
    }

    @Test func damagedLinesAreRefused() {
        for text in ["", "1 2 3", "x 2 3 4 5 sha2-256-chunked v p", "1 2 3 4 5 sha2-256-chunked v", "1 2 3 4 5 t v bad\\q",
                     "-1 2 3 4 5 t v p"] {
            let bytes = Array(text.utf8)
            #expect(bytes.withUnsafeBytes { InstalledFile(line: $0) } == nil, "\(text)")
        }
    }

    @Test func anyChangedFieldMeansChanged() {
        let file = InstalledFile(path: "a", identity: identity, hash: ObjectHash(.sha2256Chunked, value: "v"))
        #expect(file.isUnchanged(at: identity))
        var changed = identity
        changed.ctime += 1
        #expect(!file.isUnchanged(at: changed))
        changed = identity
        changed.inode += 1
        #expect(!file.isUnchanged(at: changed))
        changed = identity
        changed.mtime -= 1
        #expect(!file.isUnchanged(at: changed))
        changed = identity
        changed.size += 1
        #expect(!file.isUnchanged(at: changed))
    }

    @Test func racyIdentitiesAreNotRecorded() {
        let now = FileSystem.stampClock()
        var recent = identity
        recent.ctime = now
        var old = identity
        old.ctime = now - 1_000_000_000
        // The clock has left `recent`'s tick by the time it returns, so both are proven.
        let proven = InstallRecordWriter.proven([InstalledFile(path: "a", identity: recent, hash: ObjectHash(.sha256, value: "x")),
                                                 InstalledFile(path: "b", identity: old, hash: ObjectHash(.sha256, value: "y"))])
        #expect(proven.map(\.path) == ["a", "b"])
        #expect(FileSystem.stampClock() > now)
        #expect(recent.isRacy(observedAt: now))
        #expect(!old.isRacy(observedAt: now))
        var future = identity
        future.ctime = now + 10 * FileIdentity.stampTick
        #expect(!future.isRacy(observedAt: now))
    }

    @Test func recordsAreWrittenReadAndLookedUpInTreeOrder() throws {
        let dir = TemporaryDirectory()
        dir.file("installed/a", "a")
        let records = InstallRecords(root: dir.path + "/installs")
        let real = try FileSystem.realPath(dir.path + "/installed")
        let record = InstallRecord(directory: real, name: "ns/p", topHash: String(repeating: "a", count: 64),
                                   registry: "s3://bucket", manifestRegistry: "file:///tmp/reg", paths: ["data/*.csv"])
        let writer = try records.writer(record)
        for path in ["a", "a/x", "a-b", "b"] {
            try writer.add(InstalledFile(path: path, identity: identity, hash: ObjectHash(.sha2256Chunked, value: path)))
        }
        try writer.commit()
        let reader = try #require(try records.find(dir.path + "/installed"))
        #expect(reader.record == record)
        #expect(try reader.line(for: "a")?.hash.value == "a")
        #expect(try reader.line(for: "a-a") == nil)
        #expect(try reader.line(for: "a-b")?.hash.value == "a-b")
        #expect(try reader.next()?.path == "b")
        #expect(try reader.next() == nil)
        #expect(try records.find(dir.path) == nil)
    }

    @Test func theSelectedEntriesSummaryIsKeptInTheHeaderAndOptional() throws {
        let dir = TemporaryDirectory()
        let records = InstallRecords(root: dir.path + "/installs")
        for selected in [nil, SelectedEntries(count: 3, digest: String(repeating: "b", count: 64))] {
            let record = InstallRecord(directory: dir.path, name: "ns/p", topHash: String(repeating: "a", count: 64),
                                       registry: "s3://bucket", manifestRegistry: "file:///tmp/reg", paths: [],
                                       selected: selected)
            let writer = try records.writer(record)
            try writer.commit()
            #expect(try records.open(directory: dir.path)?.record == record)
        }
    }

    @Test func theSelectedEntriesDigestTellsPlacesSizesAndHashesApart() {
        func digest(_ entries: [(String, Int, ObjectHash)]) -> SelectedEntries {
            var digest = SelectedEntriesDigest()
            for (place, size, hash) in entries { digest.add(place: place, size: size, hash: hash) }
            return digest.finish()
        }
        let h = ObjectHash(.sha2256Chunked, value: "v")
        let base = digest([("a", 1, h), ("b", 2, h)])
        #expect(base == digest([("a", 1, h), ("b", 2, h)]))
        #expect(base.count == 2 && base.digest.count == 64)
        #expect(base != digest([("a", 1, h), ("c", 2, h)]))
        #expect(base != digest([("a", 1, h), ("b", 3, h)]))
        #expect(base != digest([("a", 1, h), ("b", 2, ObjectHash(.sha256, value: "v"))]))
        #expect(base != digest([("a", 1, h), ("b", 2, ObjectHash(.sha2256Chunked, value: "w"))]))
        #expect(base != digest([("a", 1, h)]))
        // A newline in a place cannot pass for the next entry.
        #expect(digest([("a\n1 sha2-256-chunked v b", 1, h)]) != digest([("a", 1, h), ("b", 1, h)]))
    }

    @Test func theSelectedEntriesDigestIsTheSHA256OfTheLinesHoweverManyThereAre() {
        // Lines are hashed in batches: across several batches, the digest is still that of all the lines in a row.
        var digest = SelectedEntriesDigest()
        var lines: [UInt8] = []
        for i in 0..<3_000 {
            let place = i % 7 == 0 ? "dir \\ \(i)\nname" : "d\(i % 40)/file-\(i).json"
            let hash = ObjectHash(.sha2256Chunked, value: "hash\(i)")
            digest.add(place: place, size: i * 17, hash: hash)
            lines += Array("\(i * 17) sha2-256-chunked hash\(i) ".utf8)
            for byte in place.utf8 {
                if byte == 0x5C { lines += [0x5C, 0x5C] } else if byte == 0x0A { lines += [0x5C, 0x6E] } else { lines.append(byte) }
            }
            lines.append(0x0A)
        }
        #expect(lines.count > 3 << 15)
        #expect(digest.finish() == SelectedEntries(count: 3_000, digest: Hex.encode(SHA256Hasher.digest(lines))))
    }

    @Test func aDirectoryIsAsRecordedOnlyIfEveryFileAndLineAgreeWithTheSummary() throws {
        let dir = TemporaryDirectory()
        dir.file("installed/a", "a")
        dir.file("installed/sub/b", "bb")
        let records = InstallRecords(root: dir.path + "/installs")
        let real = try FileSystem.realPath(dir.path + "/installed")
        let h = ObjectHash(.sha2256Chunked, value: "v")
        func files() throws -> [InstalledFile] {
            try ["a", "sub/b"].map { InstalledFile(path: $0, identity: try #require(FileSystem.identity(real + "/" + $0)), hash: h) }
        }
        func summary(_ lines: [InstalledFile]) -> SelectedEntries {
            var digest = SelectedEntriesDigest()
            for line in lines { digest.add(place: line.path, size: line.identity.size, hash: line.hash) }
            return digest.finish()
        }
        func asRecorded(_ lines: [InstalledFile], selected: SelectedEntries) throws -> Bool {
            let record = InstallRecord(directory: real, name: "ns/p", topHash: String(repeating: "a", count: 64),
                                       registry: "s3://bucket", manifestRegistry: "file:///tmp/reg", paths: [], selected: selected)
            let writer = try records.writer(record)
            for line in lines { try writer.add(line) }
            try writer.commit()
            return try QuiltContext.isAsRecorded(try #require(try records.open(directory: real)), selected: selected)
        }
        let lines = try files()
        #expect(try asRecorded(lines, selected: summary(lines)))
        // A line that holds another hash (a modified file status hashed), or one left out, or one too many.
        var other = lines
        other[1].hash = ObjectHash(.sha2256Chunked, value: "w")
        #expect(try !asRecorded(other, selected: summary(lines)))
        #expect(try !asRecorded([lines[0]], selected: summary(lines)))
        #expect(try !asRecorded([lines[0]], selected: summary([lines[0]])))
        let extra = InstalledFile(path: "z", identity: lines[0].identity, hash: h)
        #expect(try !asRecorded(lines + [extra], selected: summary(lines + [extra])))
        // A file the revision does not have; a changed stat.
        dir.file("installed/sub/c", "c")
        #expect(try !asRecorded(lines, selected: summary(lines)))
        try FileSystem.removeFile(real + "/sub/c")
        #expect(try asRecorded(lines, selected: summary(lines)))
        dir.file("installed/a", "a")
        #expect(try !asRecorded(lines, selected: summary(lines)))
    }

    @Test func pathPatternsStayWithinSegmentsUnlessDoubleStarred() {
        func match(_ pattern: String, _ key: String) -> Bool { GlobPattern(pattern, syntax: .path).matches(key) }
        #expect(match("data/*.csv", "data/a.csv"))
        #expect(!match("data/*.csv", "data/raw/a.csv"))
        #expect(match("data/**/*.csv", "data/a.csv"))
        #expect(match("data/**/*.csv", "data/raw/2024/a.csv"))
        #expect(!match("data/**/*.csv", "other/a.csv"))
        #expect(match("**/*.csv", "a.csv"))
        #expect(match("**/*.csv", "x/y/a.csv"))
        #expect(match("data/**", "data/x/y"))
        #expect(match("d?ta/[ab].txt", "data/a.txt"))
        #expect(!match("d?ta/[ab].txt", "data/c.txt"))
        #expect(!match("a?b", "a/b"))
        #expect(!match("a[/]b", "a/b"))
        #expect(match("a**b", "axxb"))
        #expect(!match("a**b", "a/b"))
        // fnmatch (.quiltignore) is unchanged: * matches /.
        #expect(GlobPattern("data/*.csv").matches("data/raw/a.csv"))
        #expect(GlobPattern.literalDirectory(of: "data/raw/*.csv") == "data/raw/")
        #expect(GlobPattern.literalDirectory(of: "*.csv") == "")
        #expect(GlobPattern.literalDirectory(of: "data/**/x") == "data/")
    }

    @Test func selectionsPlaceEntriesAsDocumented() {
        func entry(_ key: String) -> ManifestEntry {
            ManifestEntry(logicalKey: key, physicalKey: "file:///x", size: 1, hash: nil, meta: .object(JSONObject()))
        }
        let keys = ["data/a.csv", "data/raw/r.csv", "docs/readme.md", "top.csv"].map(entry)
        func placed(_ paths: [String]) -> [String] {
            let selection = Installer.Selection(paths: paths)
            return keys.filter(selection.contains).map(selection.relativePath)
        }
        #expect(placed([]) == ["data/a.csv", "data/raw/r.csv", "docs/readme.md", "top.csv"])
        #expect(placed(["data/"]) == ["a.csv", "raw/r.csv"])
        #expect(placed(["data/raw/r.csv"]) == ["r.csv"])
        #expect(placed(["data/*.csv"]) == ["a.csv"])
        #expect(placed(["data/**/*.csv"]) == ["a.csv", "raw/r.csv"])
        #expect(placed(["docs", "*.csv"]) == ["docs/readme.md", "top.csv"])
        #expect(Installer.Selection(paths: ["data/"]).paths == ["data"])
    }
}
