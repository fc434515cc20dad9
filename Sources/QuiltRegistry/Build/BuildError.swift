// How building a package from local files (or S3 objects) fails.
import QuiltSupport

/// Errors of building packages from local files.
public enum BuildError: QuiltError {
    case notADirectory(String)
    case unreadable(path: String, reason: String)
    case noSuchEntry(String)
    /// `--entry-meta LK=…` where the revision has no file at `LK`.
    case entryMetaNamesNoEntry(String)
    case unsupportedPhysicalKey(String)
    /// A file name in a directory being added that is not valid UTF-8 (shown as bytes), and how many more.
    case undecodableName(path: [UInt8], others: Int)
    /// A path given as text (on standard input) that is not valid UTF-8.
    case pathNotUTF8([UInt8])
    /// A logical key in two entry streams merged as one (or twice in one), and where.
    case duplicateInStreams(key: String, places: [String])

    public var kind: FailureKind {
        switch self {
        case .noSuchEntry, .entryMetaNamesNoEntry, .undecodableName, .pathNotUTF8, .duplicateInStreams: return .badInput
        default: return .operationFailed
        }
    }
    public var message: String {
        switch self {
        case .notADirectory(let path): return "not a directory \(quoted(path))"
        case .unreadable(let path, let reason): return "cannot read file \(quoted(path)): \(reason)"
        case .noSuchEntry(let key): return "no such logical key \(quoted(key))"
        case .entryMetaNamesNoEntry(let key): return "--entry-meta names no entry of the revision \(quoted(key))"
        case .unsupportedPhysicalKey(let url):
            return url.hasPrefix("s3://")
                ? "cannot hash data at \(quoted(url)) here: its entry has no hash or size, and an entry stream's missing hashes are computed from local files only"
                : "cannot read data at \(quoted(url)) here: only file:// and s3:// physical keys are read"
        case .pathNotUTF8(let bytes): return "path is not valid UTF-8 \(quoted(bytes: bytes))"
        case .duplicateInStreams(let key, let places):
            return "duplicate logical key \(quoted(key))" + (places.isEmpty ? "" : " in " + places.joined(separator: " and "))
        case .undecodableName(let path, let others):
            return "file name is not valid UTF-8 \(quoted(bytes: path))" + (others > 0 ? " (and \(others) more)" : "")
        }
    }

    public var hint: String? {
        switch self {
        case .undecodableName:
            return "no logical key can name it: rename it, or leave such files out with --skip-unreadable-names"
        case .unsupportedPhysicalKey(let url) where url.hasPrefix("s3://"):
            return "give the entry its \"size\" and \"hash\" (quilt-upload-blob prints both for the objects it copies), or build from S3 with 'quilt build NAME s3://bucket/prefix/', which reads them from S3"
        case .duplicateInStreams:
            return "each logical key must be in one part only: was a part given twice, or two runs' parts mixed?"
        default:
            return nil
        }
    }
}
