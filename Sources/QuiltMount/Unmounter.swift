// Unmounting a FUSE mount by its directory: what `quilt umount` and the mount's own signal handler do. As root,
// umount2(2); otherwise fusermount3 -u, the setuid helper that lets a user unmount what they mounted.
import Foundation
import QuiltSupport

public enum Unmounter {
    /// Unmounts `directory`; `lazy` detaches it even while it is in use (MNT_DETACH, fusermount3 -z).
    public static func unmount(_ directory: String, lazy: Bool = false) throws {
        guard isMountPoint(directory) else { throw MountError.notMounted(directory) }
        if geteuid() == 0 {
            guard umount2(directory, lazy ? Int32(MNT_DETACH) : 0) == 0 else {
                let code = errno
                throw code == EBUSY ? MountError.busy(directory) : MountError.cannotUnmount(directory, reason: String(cString: strerror(code)))
            }
            return
        }
        let status = try run(["fusermount3", "-u", "-q"] + (lazy ? ["-z"] : []) + [directory])
        guard status == 0 else { throw MountError.cannotUnmount(directory, reason: "fusermount3 -u exited with status \(status)") }
    }

    /// Whether `directory` is a FUSE mount of ours (`fuse.quilt` in /proc/self/mountinfo).
    public static func isMountPoint(_ directory: String) -> Bool {
        mountType(of: directory)?.hasPrefix("fuse") ?? false
    }

    /// The file system type mounted at `directory`, from /proc/self/mountinfo (nil: no mount there).
    public static func mountType(of directory: String) -> String? {
        guard let path = try? FileSystem.realPath(directory) else { return nil }
        // The last mount on a point is the one seen there.
        return Mount.table()?.last { $0.mountPoint == path }?.type
    }

    private static func run(_ arguments: [String]) throws -> Int32 {
        var pid = pid_t()
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let spawned = posix_spawnp(&pid, arguments[0], nil, nil, argv, environ)
        guard spawned == 0 else {
            throw MountError.cannotUnmount(arguments.last!, reason: "cannot run \(arguments[0]): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}
