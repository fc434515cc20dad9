// quilt mount: a revision as a read-only directory through FUSE, read lazily and verified (QuiltMount). Without
// --foreground the command starts the server as a process of its own (this program again, in its own session)
// and returns once that process has mounted it, with its status when it could not.
import ArgumentParser
import Foundation
import QuiltSupport
import QuiltRegistry
import QuiltMount

struct Mount: QuiltCommand, VerboseCommand {
    static let configuration = CommandConfiguration(
        commandName: "mount",
        abstract: "Mount a revision as a read-only directory (FUSE): files read on demand, every chunk verified.",
        discussion: """
        Makes REV (a Quilt+ URI too, whose path= mounts that directory of the package) a read-only file system at \
        DIR: the package's directories and files with the manifest's sizes, mode 0555 and 0444, the revision's \
        time as every mtime; an entry's user_meta as the extended attribute user.quilt.meta and its hash as \
        user.quilt.hash. Reads fetch what is read: a chunk of the object at a time (ranged GETs on S3, reads of \
        the file for file:// keys), each verified before any of its bytes are returned; a damaged chunk reads as \
        an I/O error (EIO) and its key is named on standard error. Writes fail with EROFS. Returns once the mount \
        is ready; the server runs in the background until 'quilt umount DIR', 'fusermount3 -u DIR' or SIGTERM. \
        Linux only.
        """)

    @OptionGroup var registryOptions: RegistryOptions
    @OptionGroup var verboseOption: VerboseOption

    @Flag(name: .long, help: "Serve in this process until unmounted, instead of in the background.")
    var foreground = false

    @Flag(name: .long, help: ArgumentHelp("Print every FUSE request on standard error (with --foreground).", visibility: .hidden))
    var fuseDebug = false

    /// The descriptor a background server reports its mount on (set by the command that started it).
    @Option(name: .long, help: .hidden)
    var readyFd: Int32?

    @Argument(help: "The revision: ns/name, ns/name@<hash prefix>, ns/name:latest, ns/name:<timestamp>, a 64-hex top hash or a Quilt+ URI.")
    var revision: String

    @Argument(help: ArgumentHelp("The directory to mount it on (it must exist).", valueName: "dir"), completion: .directory)
    var directory: String

    func execute(_ io: IO) throws {
        #if !os(Linux)
        throw MountError.unsupportedPlatform
        #else
        let mountpoint = FileSystem.absolute(directory)
        guard FileSystem.isDirectory(mountpoint) else {
            throw MountError.badMountPoint(directory, reason: FileSystem.exists(mountpoint) ? "not a directory" : "no such directory")
        }
        if !foreground { return try startInBackground(io) }
        let revision = try io.context().mountedRevision(self.revision, registry: registryOptions.registry) { line in
            let bytes = Array(("error: " + terminalSafe(line) + "\n").utf8)
            bytes.withUnsafeBytes { _ = Foundation.write(2, $0.baseAddress, $0.count) }
        }
        try FuseServer(revision, mountpoint: mountpoint).serve(debug: fuseDebug) {
            guard let readyFd else { return }
            _ = "ready\n".withCString { Foundation.write(readyFd, $0, 6) }
            close(readyFd)
        }
        #endif
    }

    /// Runs this program again with --foreground in a session of its own (no terminal signals reach it), its
    /// stdin and stdout /dev/null and its stderr ours, and waits until it says it mounted or ends.
    private func startInBackground(_ io: IO) throws {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw MountError.fuse("cannot make a pipe: \(String(cString: strerror(errno)))") }
        let (readEnd, writeEnd) = (pipeEnds[0], pipeEnds[1])
        let readyDescriptor: Int32 = 3
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        // The read end first: it may be descriptor 3 itself.
        posix_spawn_file_actions_addclose(&actions, readEnd)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, readyDescriptor)
        if writeEnd != readyDescriptor { posix_spawn_file_actions_addclose(&actions, writeEnd) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // POSIX_SPAWN_SETSID (glibc 2.26; a GNU extension Swift's Glibc module does not export).
        posix_spawnattr_setflags(&attributes, 0x80)
        let arguments = CommandLine.arguments + ["--foreground", "--ready-fd", String(readyDescriptor)]
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, "/proc/self/exe", &actions, &attributes, argv, environ)
        close(writeEnd)
        guard spawned == 0 else {
            close(readEnd)
            throw MountError.fuse("cannot start the server: \(String(cString: strerror(spawned)))")
        }
        var answer = [UInt8](repeating: 0, count: 16)
        var got = 0
        while got < answer.count {
            let n = answer.withUnsafeMutableBytes { Foundation.read(readEnd, $0.baseAddress! + got, $0.count - got) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            got += n
        }
        close(readEnd)
        if String(decoding: answer[0..<got], as: UTF8.self) == "ready\n" {
            io.note("mounted at \(terminalSafe(FileSystem.absolute(directory))) by process \(pid)")
            return
        }
        // The server ended before mounting: it said why on stderr; its status is ours.
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        throw ExitCode((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f))
    }
}
