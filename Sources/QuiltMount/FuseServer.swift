// The FUSE side of `quilt mount`: libfuse's low-level session (the one owner of its handle), the operations
// table, and the multithreaded loop. Each operation is a few lines that ask the MountedRevision and reply; none
// keeps state of its own but an open file's handle. The mount is read-only in the kernel (`-o ro`), which answers
// every write, create, rename, chmod and setxattr with EROFS before it reaches us.
import Foundation
import QuiltSupport
import QuiltRegistry
import CFuse
import CFuseShims

/// struct stat, as FUSE replies carry it (named so that no call here reads as stat(2)).
typealias FileStatus = Glibc.stat

/// glibc's mallopt(3): declared in <malloc.h>, which Swift's Glibc module does not include.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32

/// Serves one MountedRevision at a mount point until it is unmounted (`quilt umount`, `fusermount3 -u`, or
/// SIGTERM, SIGINT or SIGHUP, which unmount it).
public final class FuseServer: @unchecked Sendable {
    // Unchecked: `session` is set once before the loop and cleared after it, on the serving thread.
    let revision: MountedRevision
    public let mountpoint: String
    private var session: OpaquePointer?
    /// Whether the kernel opens and releases directories itself, caching their listings (FUSE_CAP_NO_OPENDIR_SUPPORT,
    /// Linux 5.1): set by `init`, before any request. A walk of a million directories then costs two requests
    /// each (a listing and its end) instead of four.
    private var kernelOpensDirectories = false

    /// Attributes and names never change (a revision is immutable): the kernel may keep them for a day.
    static let timeout = 86_400.0
    /// Requests served at once (each may wait on S3).
    static let maxThreads: UInt32 = 16

    public init(_ revision: MountedRevision, mountpoint: String) {
        self.revision = revision
        self.mountpoint = mountpoint
    }

    /// Mounts, calls `ready` once the mount is in place, and serves until it is unmounted. `debug`: libfuse
    /// prints every request on stderr.
    public func serve(debug: Bool = false, ready: () -> Void) throws {
        // The termination signals are taken by a thread of ours (below), never by a thread that happens to run
        // when they come: blocked here, so in every thread started from now on.
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&signals, signal) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)

        // Blocks are 8 MiB, freed and made again on many threads: glibc would raise its mmap threshold past them
        // on the first free and keep every thread's freed blocks in its arena (380 MiB resident after reading 1 GiB).
        // A fixed threshold gives each back to the system when it goes.
        _ = glibcMallopt(-3 /* M_MMAP_THRESHOLD */, 1 << 20)

        var operations = Self.operations
        let options = "ro,default_permissions,fsname=quilt,subtype=quilt"
        let me = Unmanaged.passUnretained(self).toOpaque()
        guard let session = quilt_fuse_session_new(options, debug ? 1 : 0, &operations,
                                                   MemoryLayout<fuse_lowlevel_ops>.size, me) else {
            throw MountError.fuse("cannot start a FUSE session")
        }
        self.session = session
        defer {
            fuse_session_destroy(session)
            self.session = nil
        }
        guard fuse_session_mount(session, mountpoint) == 0 else {
            throw MountError.cannotMount(mountpoint, reason: "libfuse could not mount it (its message is above)")
        }
        let mountpoint = self.mountpoint
        let waited = signals
        let waiter = Thread {
            var signal: Int32 = 0
            var set = waited
            if sigwait(&set, &signal) == 0 {
                // A lazy unmount always succeeds; the loop ends once the kernel drops the connection.
                _ = try? Unmounter.unmount(mountpoint, lazy: true)
            }
        }
        waiter.start()
        let revision = self.revision
        Thread { revision.keepMemoryBounded() }.start()
        ready()
        let result = quilt_fuse_session_loop_mt(session, Self.maxThreads)
        fuse_session_unmount(session)
        if result < 0 && result != -ENODEV {
            throw MountError.fuse("the FUSE loop ended with \(String(cString: strerror(-result)))")
        }
    }

    // MARK: Operations

    private static func server(_ request: OpaquePointer?) -> FuseServer {
        Unmanaged<FuseServer>.fromOpaque(fuse_req_userdata(request)!).takeUnretainedValue()
    }

    private func status(of attributes: MountedRevision.Attributes) -> FileStatus {
        var info = FileStatus()
        info.st_ino = __ino_t(attributes.inode)
        info.st_mode = (attributes.isDirectory ? S_IFDIR : S_IFREG) | attributes.permissions
        // 1 for a directory: "not counted", so find does not skip subdirectories by a link count.
        info.st_nlink = 1
        info.st_uid = getuid()
        info.st_gid = getgid()
        info.st_size = attributes.size
        info.st_blksize = 1 << 17
        info.st_blocks = (attributes.size + 511) / 512
        let time = timespec(tv_sec: revision.time, tv_nsec: 0)
        info.st_mtim = time
        info.st_ctim = time
        info.st_atim = time
        return info
    }

    private func entry(of attributes: MountedRevision.Attributes) -> fuse_entry_param {
        var entry = fuse_entry_param()
        entry.ino = attributes.inode
        entry.attr = status(of: attributes)
        entry.attr_timeout = Self.timeout
        entry.entry_timeout = Self.timeout
        return entry
    }

    private static let operations: fuse_lowlevel_ops = {
        var ops = fuse_lowlevel_ops()
        ops.`init` = { userdata, connection in
            guard let userdata, let connection else { return }
            let server = Unmanaged<FuseServer>.fromOpaque(userdata).takeUnretainedValue()
            server.kernelOpensDirectories = connection.pointee.capable & UInt32(FUSE_CAP_NO_OPENDIR_SUPPORT) != 0
            // Directory listings carry each child's attributes, so `find` and `ls -l` need no lookup per name.
            if connection.pointee.capable & UInt32(FUSE_CAP_READDIRPLUS) != 0 {
                connection.pointee.want |= UInt32(FUSE_CAP_READDIRPLUS)
                connection.pointee.want &= ~UInt32(FUSE_CAP_READDIRPLUS_AUTO)
            }
            connection.pointee.max_readahead = 1 << 20
        }
        ops.lookup = { request, parent, name in
            let server = server(request)
            guard let name, let found = server.revision.lookup(parent, String(cString: name)) else {
                fuse_reply_err(request, ENOENT)
                return
            }
            var entry = server.entry(of: found)
            fuse_reply_entry(request, &entry)
        }
        // Inodes are node ids and live as long as the mount: nothing to forget.
        ops.forget = { request, _, _ in fuse_reply_none(request) }
        ops.forget_multi = { request, _, _ in fuse_reply_none(request) }
        ops.getattr = { request, inode, _ in
            let server = server(request)
            guard let found = server.revision.attributes(inode) else {
                fuse_reply_err(request, ENOENT)
                return
            }
            var info = server.status(of: found)
            fuse_reply_attr(request, &info, timeout)
        }
        ops.open = { request, inode, info in
            let server = server(request)
            guard let info else { return }
            guard info.pointee.flags & O_ACCMODE == O_RDONLY else {
                fuse_reply_err(request, EROFS)
                return
            }
            do {
                let handle = try server.revision.open(inode)
                info.pointee.fh = UInt64(UInt(bitPattern: Unmanaged.passRetained(handle).toOpaque()))
                // The page cache may keep what was read across opens: the bytes never change.
                quilt_fuse_file_info_set_keep_cache(info, 1)
                fuse_reply_open(request, info)
            } catch ReadError.isADirectory {
                fuse_reply_err(request, EISDIR)
            } catch ReadError.noSuchKey {
                fuse_reply_err(request, ENOENT)
            } catch {
                fuse_reply_err(request, EIO)
            }
        }
        ops.read = { request, inode, size, offset, info in
            let server = server(request)
            guard let info, let pointer = UnsafeRawPointer(bitPattern: UInt(info.pointee.fh)) else {
                fuse_reply_err(request, EBADF)
                return
            }
            let handle = Unmanaged<EntryHandle>.fromOpaque(pointer).takeUnretainedValue()
            do {
                try server.revision.read(handle, inode: inode, offset: Int(offset), count: size) { pieces in
                    var vectors = pieces.map { iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count) }
                    _ = fuse_reply_iov(request, &vectors, Int32(vectors.count))
                }
            } catch {
                fuse_reply_err(request, EIO)
            }
        }
        ops.release = { request, inode, info in
            let server = server(request)
            if let info, let pointer = UnsafeRawPointer(bitPattern: UInt(info.pointee.fh)) {
                Unmanaged<EntryHandle>.fromOpaque(pointer).release()
                server.revision.close(inode)
            }
            fuse_reply_err(request, 0)
        }
        ops.opendir = { request, inode, info in
            let server = server(request)
            switch server.revision.isDirectory(inode) {
            case true?:
                // ENOSYS here is success, and the kernel answers every later opendir and releasedir itself.
                if server.kernelOpensDirectories { fuse_reply_err(request, ENOSYS) } else { fuse_reply_open(request, info) }
            case false?:
                fuse_reply_err(request, ENOTDIR)
            case nil:
                fuse_reply_err(request, ENOENT)
            }
        }
        ops.readdir = { request, inode, size, offset, _ in server(request).listDirectory(request, inode, size, offset, plus: false) }
        ops.readdirplus = { request, inode, size, offset, _ in server(request).listDirectory(request, inode, size, offset, plus: true) }
        ops.releasedir = { request, _, _ in fuse_reply_err(request, 0) }
        ops.statfs = { request, _ in
            let server = server(request)
            var info = statvfs()
            info.f_bsize = 1 << 17
            info.f_frsize = 1 << 17
            info.f_blocks = fsblkcnt_t((server.revision.totalSize + (1 << 17) - 1) >> 17)
            info.f_files = fsfilcnt_t(server.revision.nodeCount)
            info.f_namemax = 255
            info.f_flag = UInt(ST_RDONLY)
            fuse_reply_statfs(request, &info)
        }
        ops.getxattr = { request, inode, name, size in
            let server = server(request)
            guard let name else { return }
            let value: [UInt8]?
            do {
                value = try server.revision.extendedAttribute(inode, String(cString: name))
            } catch {
                fuse_reply_err(request, EIO)
                return
            }
            guard let value else {
                fuse_reply_err(request, ENODATA)
                return
            }
            replySized(request, value, size)
        }
        ops.listxattr = { request, inode, size in
            let server = server(request)
            guard let names = server.revision.extendedAttributeNames(inode) else {
                fuse_reply_err(request, ENOENT)
                return
            }
            replySized(request, names.flatMap { Array($0.utf8) + [0] }, size)
        }
        return ops
    }()

    /// xattr replies: the size alone when asked with size 0, ERANGE when it does not fit, else the bytes.
    private static func replySized(_ request: OpaquePointer?, _ bytes: [UInt8], _ size: Int) {
        if size == 0 {
            fuse_reply_xattr(request, bytes.count)
        } else if size < bytes.count {
            fuse_reply_err(request, ERANGE)
        } else {
            bytes.withUnsafeBytes { _ = fuse_reply_buf(request, $0.baseAddress?.assumingMemoryBound(to: CChar.self), $0.count) }
        }
    }

    /// One reply of a directory listing from `offset`: "." and ".." (offsets 1 and 2), then the children in tree
    /// order (child i at offset i + 3), as many as fit in `size` bytes.
    private func listDirectory(_ request: OpaquePointer?, _ inode: UInt64, _ size: Int, _ offset: off_t, plus: Bool) {
        guard revision.isDirectory(inode) == true else {
            fuse_reply_err(request, ENOTDIR)
            return
        }
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(size, 1))
        defer { buffer.deallocate() }
        var used = 0
        var next = Int(offset)
        /// Adds one name; false when it did not fit.
        func add(_ name: String, _ attributes: MountedRevision.Attributes) -> Bool {
            let needed: Int = name.withCString { cName in
                if plus {
                    var entry = self.entry(of: attributes)
                    return fuse_add_direntry_plus(request, buffer + used, size - used, cName, &entry, off_t(next + 1))
                }
                var info = status(of: attributes)
                return fuse_add_direntry(request, buffer + used, size - used, cName, &info, off_t(next + 1))
            }
            guard needed <= size - used else { return false }
            used += needed
            next += 1
            return true
        }
        let me = MountedRevision.Attributes(inode: inode, isDirectory: true, size: 0)
        if next == 0, !add(".", me) { return reply(request, buffer, used) }
        if next == 1, !add("..", me) { return reply(request, buffer, used) }
        while true {
            // A reply holds a page of names (4 KiB from the kernel): about 30 of them, so few are made in vain.
            let page = revision.children(inode, from: next - 2, limit: 32)
            if page.isEmpty { break }
            for child in page where !add(child.name, child.attributes) { return reply(request, buffer, used) }
        }
        reply(request, buffer, used)
    }

    private func reply(_ request: OpaquePointer?, _ buffer: UnsafeMutablePointer<CChar>, _ used: Int) {
        fuse_reply_buf(request, buffer, used)
    }
}
