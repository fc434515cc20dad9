// Errors of reading a package's contents: an entry's bytes that are not what its manifest says (exit 65), a key the
// revision does not have, a listing that cannot go on.
import QuiltSupport

public enum ReadError: QuiltError {
    /// The bytes read do not hash to the entry's hash: one chunk of a sha2-256-chunked object (`chunk` of
    /// `chunks`, 0-based, over `bytes`), or the whole object (`chunk` nil).
    case hashMismatch(logicalKey: String, chunk: Int?, chunks: Int, bytes: Range<Int>?)
    /// The object is not the entry's size.
    case sizeMismatch(logicalKey: String, expected: Int, actual: Int)
    /// A local file that changed (shrank) while it was read.
    case changedWhileRead(logicalKey: String)
    /// A byte range outside the entry (a caller's mistake: `quilt serve` answers 416).
    case rangeOutsideEntry(logicalKey: String, range: Range<Int>, size: Int)
    /// No entry has this logical key.
    case noSuchKey(String)
    /// The key names a directory of the package, not a file.
    case isADirectory(String)
    /// A listing printed in part, then found to come from a manifest stored out of tree order, and what it
    /// printed is not the start of the listing in tree order.
    case listingRestarted(topHash: String)

    public var kind: FailureKind {
        switch self {
        case .hashMismatch, .sizeMismatch, .changedWhileRead: return .badInput
        case .rangeOutsideEntry: return .usage
        case .noSuchKey, .isADirectory, .listingRestarted: return .operationFailed
        }
    }

    public var message: String {
        switch self {
        case .hashMismatch(let key, nil, _, _):
            return "hash mismatch for \(quoted(key)): its bytes do not hash to the entry's hash"
        case .hashMismatch(let key, let chunk?, let chunks, let bytes):
            let span = bytes.map { " (bytes \($0.lowerBound)-\($0.upperBound - 1))" } ?? ""
            return "hash mismatch for \(quoted(key)) in chunk \(chunk + 1) of \(chunks)\(span)"
        case .sizeMismatch(let key, let expected, let actual):
            return "size mismatch for \(quoted(key)): expected \(expected) bytes, found \(actual)"
        case .changedWhileRead(let key): return "the file of \(quoted(key)) changed while it was read"
        case .rangeOutsideEntry(let key, let range, let size):
            return "bytes \(range.lowerBound)-\(range.upperBound - 1) are outside \(quoted(key)) (\(size) bytes)"
        case .noSuchKey(let key): return "no such path in the package \(quoted(key))"
        case .isADirectory(let key): return "\(quoted(key)) is a directory of the package, not a file"
        case .listingRestarted(let topHash):
            return "manifest \(quoted(topHash)) is stored out of tree order: the lines printed above are not its listing"
        }
    }

    public var hint: String? {
        switch self {
        case .isADirectory: return "list it with 'quilt ls'"
        case .listingRestarted: return "'quilt show' prints every entry in tree order, checked first"
        default: return nil
        }
    }
}
