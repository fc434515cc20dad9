// Read leases (fcntl F_SETLEASE): the kernel's promise that no one has opened a file for writing, or truncated it,
// since the lease was taken. A reader that hashed a file under a lease may hand out bytes it reads again later
// without hashing them again, for as long as the lease holds: they are the bytes it hashed.
//
// Why that holds: a read lease is granted only while nothing has the file open for writing (a descriptor or a
// shared writable mapping, which keeps one); from then on every open for writing, and every truncate, breaks it
// first (and the opener waits until it is released). Only on file systems whose data changes through this kernel
// alone: a FUSE file system grants leases too, but its server can change a file's bytes without any open here, so
// anything but a local disk file system gets no lease (and the reader hashes again, as it would without leases).
#if canImport(Glibc)
import Glibc

extension InputFile {
    /// Takes a read lease on the file (see the top of this file); false if none can be had: the file is open for
    /// writing somewhere, not ours (leases are the owner's, or need CAP_LEASE), on another kind of file system, or
    /// the process handles SIGIO itself. Once the lease breaks it is released at once, so a writer waits only for
    /// the signal (not the kernel's 45 seconds), and `holdsReadLease` is false from then on.
    public func takeReadLease() -> Bool {
        guard ReadLeases.signalReady, ReadLeases.isLocalDiskFileSystem(identity.device) else { return false }
        // F_SETSIG names the signal explicitly, which is what makes the kernel say which descriptor's lease broke.
        guard fcntl(descriptor, ReadLeases.setSignal, SIGIO) == 0 else { return false }
        return fcntl(descriptor, ReadLeases.setLease, Int32(F_RDLCK)) == 0
    }

    /// Whether the read lease taken by `takeReadLease` still holds: nothing has opened the file for writing or
    /// truncated it since. A broken lease is released (the writer may go on).
    public var holdsReadLease: Bool {
        if fcntl(descriptor, ReadLeases.getLease) == Int32(F_RDLCK) { return true }
        _ = fcntl(descriptor, ReadLeases.setLease, Int32(F_UNLCK))
        return false
    }
}

private enum ReadLeases {
    // <fcntl.h>'s values, behind _GNU_SOURCE, which Glibc's module does not define.
    static let setLease: Int32 = 1024  // F_SETLEASE
    static let getLease: Int32 = 1025  // F_GETLEASE
    static let setSignal: Int32 = 10  // F_SETSIG

    /// Their data changes only through this kernel's writes.
    static let localDiskFileSystems: Set<String> = ["ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "f2fs"]
    /// Whether each device seen so far holds one of them.
    static let known = Locked<[UInt64: Bool]>([:])

    /// By the mount table (statfs, which would say it directly, is not in Glibc's module): the file system type
    /// of a mount of the file's device.
    static func isLocalDiskFileSystem(_ device: UInt64) -> Bool {
        if let answer = known.withLock({ $0[device] }) { return answer }
        let name = Mount.deviceName(device)
        let answer = Mount.table()?.first { $0.device == name }.map { localDiskFileSystems.contains($0.type) } ?? false
        known.withLock { $0[device] = answer }
        return answer
    }

    /// The lease-break signal's handler, installed once if SIGIO is the process's to take (its default action
    /// would end the process; a handler of someone else's is left alone, and no lease is taken).
    static let signalReady: Bool = {
        var current = sigaction()
        guard sigaction(SIGIO, nil, &current) == 0, current.__sigaction_handler.sa_handler == nil else { return false }
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = releaseBrokenLease
        action.sa_flags = SA_SIGINFO | SA_RESTART
        sigemptyset(&action.sa_mask)
        return sigaction(SIGIO, &action, nil) == 0
    }()
}

/// Runs in a signal handler: calls only fcntl, which is async-signal-safe, and keeps errno as it was. The lease
/// is released so the writer that broke it need not wait; the reader sees it gone at its next `holdsReadLease`.
private let releaseBrokenLease: @convention(c) (Int32, UnsafeMutablePointer<siginfo_t>?, UnsafeMutableRawPointer?) -> Void = { _, info, _ in
    guard let info else { return }
    let saved = errno
    _ = fcntl(info.pointee._sifields._sigpoll.si_fd, 1024 /* F_SETLEASE */, Int32(F_UNLCK))
    errno = saved
}
#else
extension InputFile {
    public func takeReadLease() -> Bool { false }
    public var holdsReadLease: Bool { false }
}
#endif
