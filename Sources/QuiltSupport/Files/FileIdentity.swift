// What identifies a version of a file without reading it, and the clock the kernel stamps files with.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What says, without reading it, that a file still holds the bytes it held: the same inode with the same size,
/// modification time and change time. The change time cannot be set back (utimensat sets only the modification
/// time), so a rewrite that keeps the size and restores the modification time still shows (as git and restic rely on).
public struct FileIdentity: Sendable, Equatable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int
    /// Nanoseconds since the epoch.
    public var mtime: Int
    public var ctime: Int

    public init(device: UInt64, inode: UInt64, size: Int, mtime: Int, ctime: Int) {
        self.device = device
        self.inode = inode
        self.size = size
        self.mtime = mtime
        self.ctime = ctime
    }

    init(_ info: stat) {
        self.init(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int(info.st_size),
                  mtime: Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec),
                  ctime: Int(info.st_ctim.tv_sec) * 1_000_000_000 + Int(info.st_ctim.tv_nsec))
    }

    /// Whether a file found now at `current` still holds the bytes it held at this identity: every field the same,
    /// inode and change time included. The one rule for trusting a recorded identity found again: installed files'
    /// records (`InstalledFile.isUnchanged`) and the push journal's sources (`SourceIdentity.match`) both use it.
    public func stillDescribes(_ current: FileIdentity) -> Bool {
        self == current
    }

    /// Whether this identity, observed (by a stat) after the file-stamp clock read `observedAt`, fails to prove
    /// the bytes: a file last changed in that clock tick or later can be written again in the same tick, leaving
    /// every timestamp as it was (git's "racily clean" entries). A stamp well in the future, from another
    /// machine's clock, is no such write. The one rule for trusting a recorded identity: reads (`checkUnchanged`),
    /// the push journal's sources and installed files' records all use it.
    public func isRacy(observedAt: Int) -> Bool {
        ctime >= observedAt && ctime < observedAt + FileIdentity.stampTick
    }

    /// Longer than a coarse clock tick (1–10 ms), with room for the finer stamps of newer kernels.
    public static let stampTick = 50_000_000
}

/// The clock the kernel stamps files with (a coarse one, advancing once a tick), in nanoseconds.
func fileStampClock() -> Int {
    var spec = timespec()
    #if os(Linux)
    clock_gettime(CLOCK_REALTIME_COARSE, &spec)
    #else
    clock_gettime(CLOCK_REALTIME, &spec)
    #endif
    return Int(spec.tv_sec) * 1_000_000_000 + Int(spec.tv_nsec)
}
