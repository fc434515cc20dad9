// The file layer's guarantees about files that change under a reader, and files that are not regular.
import Testing
#if canImport(Glibc)
import Glibc
#endif
import QuiltTestSupport
@testable import QuiltSupport

/// Waits until a file written now is no longer in the clock tick of the next open (see `checkUnchanged`).
private func letTheClockMoveOn() { usleep(UInt32(InputFile.stampTick / 1000 + 10_000)) }

@Suite struct FileIOTests {
    @Test func aRewriteWithTheSameSizeAndModificationTimeIsStillAChange() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("a.bin", "one two three")
        letTheClockMoveOn()
        let file = try InputFile(path: path)
        _ = try file.readAll()
        try file.checkUnchanged()
        rewriteInPlace(path, "ONE TWO THREE", restoring: file.identity.mtime)
        #expect(FileSystem.identity(path)?.mtime == file.identity.mtime)
        expectError(FileSystemError.changedWhileRead(path: path)) { try file.checkUnchanged() }
    }

    @Test func readStablyReadsAFileThatChangedAgainAndGivesUpAfterThreeAttempts() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("a.bin", "first")
        letTheClockMoveOn()
        var attempts = 0
        let bytes = try InputFile.readStably(path) { file -> [UInt8] in
            attempts += 1
            let bytes = try file.readAll()
            if attempts == 1 { rewriteInPlace(path, "other") }
            try file.checkUnchanged()
            return bytes
        }
        #expect(attempts == 2 && bytes == Array("other".utf8))

        attempts = 0
        expectError(FileSystemError.changedWhileRead(path: path)) {
            try InputFile.readStably(path) { file in
                attempts += 1
                rewriteInPlace(path, "again")
                try file.checkUnchanged()
            }
        }
        #expect(attempts == 3)
        #expect(FileSystemError.changedWhileRead(path: "a b").message == "file changed while it was read 'a b'")
    }

    @Test func aFIFOIsRefusedWithoutWaitingForAWriter() throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/fifo"
        #expect(mkfifo(path, 0o600) == 0)
        expectError(FileSystemError.notARegularFile(path: path)) { _ = try InputFile(path: path) }
        expectError(FileSystemError.notARegularFile(path: "/dev/zero")) { _ = try InputFile(path: "/dev/zero") }
    }

    @Test func aDirectoryHandleNeverFollowsALinkBelowIt() throws {
        let dir = TemporaryDirectory()
        try FileSystem.makeDirectories(dir.path + "/outside")
        try FileSystem.makeDirectories(dir.path + "/dest/real")
        symlink(dir.path + "/outside", dir.path + "/dest/link")
        let dest = try DirectoryHandle(path: dir.path + "/dest")
        expectError(FileSystemError.notADirectory(path: dir.path + "/dest/link")) { _ = try dest.subdirectory("link") }
        #expect(dest.kind(of: "link") == .symbolicLink)

        // The handle stays on the directory it opened, whatever its name becomes.
        let real = try dest.subdirectory("real")
        try FileSystem.move(dir.path + "/dest/real", to: dir.path + "/dest/moved")
        symlink(dir.path + "/outside", dir.path + "/dest/real")
        let writer = try AtomicFileWriter(in: real, name: "a", unnamed: false)
        #expect(try real.names().count == 1 && real.names()[0].hasPrefix(".a.tmp-") && real.names()[0].utf8.count == 13)
        try writer.write(Array("x".utf8))
        try writer.commit()
        #expect(try FileSystem.readFile(dir.path + "/dest/moved/a") == Array("x".utf8))
        #expect(try FileSystem.contentsOfDirectory(dir.path + "/outside").isEmpty)

        // A writer never committed takes its temporary file with it.
        do { _ = try AtomicFileWriter(in: real, name: "b", unnamed: false) }
        #expect(try real.names() == ["a"])
    }

    @Test func anUnnamedFileAppearsOnlyWhenCommittedAndReplacesWhatIsThere() throws {
        let dir = TemporaryDirectory()
        let held = try DirectoryHandle(path: dir.path)
        // Nothing is in the directory while the file is written, and nothing is left by a writer never committed.
        let first = try AtomicFileWriter(in: held, name: "a")
        try first.write(Array("one".utf8))
        #expect(try held.names().isEmpty)
        let back = try first.readBack()
        #expect(back.size == 3)
        try first.commit()
        #expect(try held.names() == ["a"] && FileSystem.readFile(dir.path + "/a") == Array("one".utf8))
        do {
            let abandoned = try AtomicFileWriter(in: held, name: "b")
            try abandoned.write(Array("lost".utf8))
        }
        #expect(try held.names() == ["a"])

        // Committed over a file that is there, it replaces it whole (a link under a temporary name, then a rename),
        // and a reader of the old file keeps the old bytes.
        let old = try InputFile(path: dir.path + "/a")
        let second = try AtomicFileWriter(in: held, name: "a")
        try second.write(Array("two!".utf8))
        try second.commit()
        #expect(try held.names() == ["a"] && FileSystem.readFile(dir.path + "/a") == Array("two!".utf8))
        var buffer = [UInt8](repeating: 0, count: 8)
        let n = try buffer.withUnsafeMutableBytes { try old.read(into: $0, at: 0) }
        #expect(Array(buffer[0..<n]) == Array("one".utf8))

        // Committed with the file handed back: it reads what was written, on the writer's own descriptor, and
        // its identity is the file's now in place; a named writer does the same.
        for unnamed in [true, false] {
            let third = try AtomicFileWriter(in: held, name: "c", unnamed: unnamed)
            try Array("three".utf8).withUnsafeBytes { try third.writeUnbuffered($0) }
            let placed = try third.commitReturningFile()
            #expect(try placed.readAll() == Array("three".utf8))
            let named = try InputFile(path: dir.path + "/c")
            #expect(placed.identity.inode == named.identity.inode && placed.size == 5)
            #expect(try held.names().sorted() == ["a", "c"])
        }

        // Where the file cannot be linked by its descriptor, it is linked through /proc; where it cannot be linked
        // at all, its bytes are copied to a named file renamed into place. Both over an existing file and not, by
        // commit and by commitReturningFile, and nothing is left beside the file.
        for linking in [UnnamedLinking.throughProc, .impossible] {
            for (index, returning) in [false, true].enumerated() {
                let name = "fallback-\(linking)-\(index)"
                for round in ["first", "second"] {
                    let writer = try AtomicFileWriter(in: held, name: name, unnamed: true, linking: linking)
                    try Array(round.utf8).withUnsafeBytes { try writer.writeUnbuffered($0) }
                    if returning {
                        let placed = try writer.commitReturningFile()
                        #expect(try placed.readAll() == Array(round.utf8))
                    } else {
                        try writer.commit()
                    }
                    #expect(try FileSystem.readFile(dir.path + "/" + name) == Array(round.utf8), "\(linking) \(round)")
                }
            }
        }
        #expect(try held.names().filter { $0.hasPrefix(".") }.isEmpty)

        // Mode 0666 less the umask, as a named file's.
        let mask = umask(0o022)
        umask(mask)
        var info = stat()
        #expect(stat(dir.path + "/a", &info) == 0 && info.st_mode & 0o777 == 0o666 & ~mask)
    }

    @Test func aScratchFileWrittenInPlaceAndAMappingOfAFile() throws {
        let dir = TemporaryDirectory()
        let scratch = try ScratchFile(directory: dir.path)
        try [UInt8]("abcdef".utf8).withUnsafeBytes { try scratch.append($0) }
        try [UInt8]("XY".utf8).withUnsafeBytes { try scratch.write($0, at: 2) }
        try [UInt8]("Z".utf8).withUnsafeBytes { try scratch.write($0, at: 8) }
        #expect(scratch.size == 9)
        var buffer = [UInt8](repeating: 0xFF, count: 16)
        let n = try buffer.withUnsafeMutableBytes { try scratch.read(into: $0, at: 0) }
        #expect(Array(buffer[0..<n]) == Array("abXYef".utf8) + [0, 0] + Array("Z".utf8))

        let path = dir.file("mapped", "mapped bytes")
        let mapped = try MappedFile(path: path)
        #expect(Array(mapped.bytes) == Array("mapped bytes".utf8))
        // Replaced by a rename, the file mapped stays what it was.
        try FileSystem.writeAtomically(Array("other".utf8), to: path)
        #expect(Array(mapped.bytes) == Array("mapped bytes".utf8))
        #expect(try MappedFile(path: dir.file("empty")).bytes.isEmpty)
        #expect(throws: FileSystemError.self) { try MappedFile(path: dir.path + "/missing") }
        // Pages let go are read again from the file.
        mapped.releaseResidentPages(0..<5)
        mapped.releaseResidentPages()
        #expect(Array(mapped.bytes) == Array("mapped bytes".utf8))
    }

    @Test func aFileOfProcIsReadToItsEnd() throws {
        let statm = try #require(FileSystem.readToEnd("/proc/self/statm"))
        #expect(statm.split(separator: UInt8(ascii: " ")).count >= 2)
        #expect(FileSystem.readToEnd("/proc/self/no-such-file") == nil)
    }

    @Test func anAppendOnlyFileTakesItsModeAndMakesDirectoriesOnlyWhenAsked() throws {
        let dir = TemporaryDirectory()
        let umask = Glibc.umask(0o022)
        defer { _ = Glibc.umask(umask) }
        expectError(FileSystemError.cannotWrite(path: dir.path + "/missing/trace", reason: String(cString: strerror(ENOENT)))) {
            _ = try AppendOnlyFile(path: dir.path + "/missing/trace", permissions: 0o666, createDirectories: false)
        }
        #expect(!FileSystem.exists(dir.path + "/missing"))
        let shared = try AppendOnlyFile(path: dir.path + "/trace", permissions: 0o666, createDirectories: false)
        try shared.append(Array("one\n".utf8))
        try AppendOnlyFile(path: dir.path + "/trace", permissions: 0o666, createDirectories: false).append(Array("two\n".utf8))
        #expect(try FileSystem.readFile(dir.path + "/trace") == Array("one\ntwo\n".utf8))
        let journal = try AppendOnlyFile(path: dir.path + "/made/journal")
        try journal.append([0x78])
        var info = stat()
        #expect(stat(dir.path + "/trace", &info) == 0 && info.st_mode & 0o777 == 0o644)
        #expect(stat(dir.path + "/made/journal", &info) == 0 && info.st_mode & 0o777 == 0o600)
    }

    @Test func executablesAreFoundInSearchPathOrder() throws {
        let dir = TemporaryDirectory()
        for (name, mode) in [("a/tool", 0o755), ("b/tool", 0o644), ("c/tool", 0o700)] as [(String, mode_t)] {
            chmod(dir.file(name, "#!/bin/sh\n"), mode)
        }
        let searchPath = [dir.path + "/c", dir.path + "/b", "", dir.path + "/none", dir.path + "/a"].joined(separator: ":")
        #expect(FileSystem.executables(named: "tool", searchPath: searchPath) == [dir.path + "/c/tool", dir.path + "/a/tool"])
        #expect(FileSystem.executables(named: "other", searchPath: searchPath).isEmpty)
    }

    /// Read leases (ReadLease.swift): held until someone opens the file for writing, whose open does not wait for
    /// the kernel's 45 seconds (the lease is let go in the signal handler); none while a writer has it open.
    @Test func aReadLeaseHoldsUntilTheFileIsOpenedForWriting() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("a.bin", "leased bytes")
        let file = try InputFile(path: path)
        #expect(file.takeReadLease(), "leases are taken on \(dir.path)'s file system")
        #expect(file.holdsReadLease)
        #expect(file.holdsReadLease)
        let writer = open(path, O_WRONLY)
        #expect(writer >= 0)
        #expect(!file.holdsReadLease)
        let whileWritten = try InputFile(path: path)
        #expect(!whileWritten.takeReadLease())
        close(writer)
        let afterwards = try InputFile(path: path)
        #expect(afterwards.takeReadLease())
        _ = truncate(path, 3)
        #expect(!afterwards.holdsReadLease)
    }

    /// The mount table names the root's file system, and the root's device number is written as the table writes it.
    @Test func theMountTableNamesTheRootsFileSystemAndDevice() throws {
        let mounts = try #require(Mount.table())
        let root = try #require(mounts.last { $0.mountPoint == "/" })
        #expect(!root.type.isEmpty)
        let device = try #require(FileSystem.identity("/")).device
        #expect(mounts.contains { $0.device == Mount.deviceName(device) })
        #expect(Mount.deviceName(0xfe00) == "254:0")
        #expect(Mount.deviceName(0x1001_0300) == "259:65536")  // makedev(259, 65536): a minor past 8 bits
    }
}
