import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltRegistry
#if canImport(Glibc)
import Glibc
#endif

/// The walk on several threads must be the walk on one: the same files, undecodable names and error, in the same
/// order, whatever the threads' timing.
@Suite struct ParallelWalkTests {
    /// What a walk hands over, in order: `F` files, `U` undecodable names, `E` the error it ended with.
    func events(_ directory: String, applyIgnore: Bool = true, workers: Int, heldLimit: Int = 8192,
                stopAfter: Int? = nil) -> [String] {
        struct Stop: Error {}
        var events: [String] = []
        do {
            try DirectoryScanner.walk(directory, applyIgnore: applyIgnore, workers: workers, heldLimit: heldLimit,
                                      undecodable: { events.append("U " + quoted(bytes: $0)) }) { file in
                if let stopAfter, events.count >= stopAfter { throw Stop() }
                events.append("F \(file.relativePath) \(file.size) \(file.realPath)")
            }
        } catch is Stop {
            events.append("stopped")
        } catch {
            events.append("E \(error)")
        }
        return events
    }

    func createRaw(_ bytes: [UInt8]) {
        let path = (bytes + [0]).map { CChar(bitPattern: $0) }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(fd >= 0)
        close(fd)
    }

    /// Nested and empty directories, links to files and to directories, ignored files and directories,
    /// undecodable names; many small directories so that the threads race.
    func makeTree(_ dir: TemporaryDirectory) -> String {
        let data = dir.path + "/data"
        dir.file("data/.quiltignore", "*.log\nskip/\n")
        for a in 0..<12 {
            for b in 0..<(a % 4) {
                for f in 0..<(a * 3 % 7) { dir.file("data/d\(a)/e\(b)/f\(f)", String(repeating: "x", count: f)) }
            }
            dir.file("data/d\(a)/top-\(a)", "t")
            dir.file("data/d\(a)/run.log", "l")
            dir.file("data/d\(a)/skip/hidden", "h")
            try! FileSystem.makeDirectories(data + "/d\(a)/empty\(a)")
        }
        dir.file("outside/target", "target")
        dir.file("outside/dir/inner", "i")
        symlink(dir.path + "/outside/target", data + "/d3/link-to-file")
        symlink(dir.path + "/outside/dir", data + "/d3/link-to-dir")
        symlink(dir.path + "/nowhere", data + "/d5/dangling")
        createRaw(Array((data + "/d2/x").utf8) + [0xFF])
        createRaw(Array((data + "/d6/e1/y").utf8) + [0xFE])
        createRaw(Array((data + "/z").utf8) + [0xFF])
        return data
    }

    @Test func givesTheSequentialWalksFilesInItsOrder() throws {
        let dir = TemporaryDirectory()
        let data = makeTree(dir)
        for applyIgnore in [true, false] {
            let sequential = events(data, applyIgnore: applyIgnore, workers: 0)
            #expect(sequential.contains { $0.hasPrefix("F d3/link-to-file 6 ") && $0.hasSuffix("/outside/target") })
            #expect(!sequential.contains { $0.contains("link-to-dir") || $0.contains("dangling") })
            #expect(sequential.filter { $0.hasPrefix("U ") }.count == 3)
            #expect(sequential.contains { $0.contains("run.log") } == !applyIgnore)
            for workers in [1, 3] {
                for heldLimit in [1, 5, 8192] {
                    for _ in 0..<5 {
                        #expect(events(data, applyIgnore: applyIgnore, workers: workers, heldLimit: heldLimit) == sequential)
                    }
                }
            }
        }
    }

    @Test func stopsWhereTheVisitorStops() throws {
        let dir = TemporaryDirectory()
        let data = makeTree(dir)
        for stopAfter in [0, 1, 7, 30] {
            let sequential = events(data, workers: 0, stopAfter: stopAfter)
            #expect(sequential.last == "stopped")
            for workers in [1, 3] {
                #expect(events(data, workers: workers, heldLimit: 3, stopAfter: stopAfter) == sequential)
            }
        }
    }

    /// Root reads every directory, so the error can only be made for another user.
    @Test(.enabled(if: getuid() != 0)) func throwsAnUnreadableDirectorysErrorWhereTheSequentialWalkDoes() throws {
        let dir = TemporaryDirectory()
        let data = makeTree(dir)
        chmod(data + "/d6", 0)
        defer { chmod(data + "/d6", 0o755) }
        let sequential = events(data, workers: 0)
        #expect(sequential.last?.hasPrefix("E ") == true)
        #expect(sequential.contains { $0.hasPrefix("F d5/") })
        for workers in [1, 3] {
            for _ in 0..<5 { #expect(events(data, workers: workers, heldLimit: 2) == sequential) }
        }
    }

    @Test func aMissingDirectoryIsRefusedAsBefore() throws {
        let dir = TemporaryDirectory()
        #expect(events(dir.path + "/none", workers: 1) == events(dir.path + "/none", workers: 0))
    }
}
