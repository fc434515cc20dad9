// Errors of mounting and unmounting a revision.
import QuiltSupport

public enum MountError: QuiltError {
    /// The mount point is not a directory one can mount on.
    case badMountPoint(String, reason: String)
    case cannotMount(String, reason: String)
    /// A Quilt+ URI's path that names a file: a mount's root is a directory.
    case notADirectory(String)
    case notMounted(String)
    case busy(String)
    case cannotUnmount(String, reason: String)
    /// libfuse refused or failed.
    case fuse(String)
    /// Not on Linux.
    case unsupportedPlatform

    public var kind: FailureKind {
        switch self {
        case .badMountPoint, .notADirectory, .notMounted: return .usage
        case .cannotMount, .busy, .cannotUnmount, .fuse, .unsupportedPlatform: return .operationFailed
        }
    }

    public var message: String {
        switch self {
        case .badMountPoint(let path, let reason): return "cannot mount on \(quoted(path)): \(reason)"
        case .cannotMount(let path, let reason): return "cannot mount on \(quoted(path)): \(reason)"
        case .notADirectory(let path): return "\(quoted(path)) is a file of the package; a mount's root is a directory"
        case .notMounted(let path): return "\(quoted(path)) is not a FUSE mount"
        case .busy(let path): return "\(quoted(path)) is in use"
        case .cannotUnmount(let path, let reason): return "cannot unmount \(quoted(path)): \(reason)"
        case .fuse(let text): return "FUSE: \(text)"
        case .unsupportedPlatform: return "quilt mount needs Linux (FUSE through libfuse 3)"
        }
    }

    public var hint: String? {
        switch self {
        case .busy: return "close what is open in it (fuser -m DIR), or unmount it lazily with --lazy"
        case .cannotMount: return "is /dev/fuse there, and fuse3 (fusermount3) installed?"
        default: return nil
        }
    }
}
