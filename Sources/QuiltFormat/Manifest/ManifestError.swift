// Everything that can be wrong with a manifest, a logical key, a package name or a physical key.
import QuiltSupport

public enum ManifestError: QuiltError {
    case invalidLine(line: Int, reason: String)
    /// A line error in one of several entry streams.
    indirect case inStream(source: String, ManifestError)
    case missingField(line: Int, field: String)
    case duplicateLogicalKey(String)
    /// A file entry where a directory is needed, or the other way round: `a` and `a/b` both files.
    case logicalKeyCollision(file: String, directory: String)
    case invalidLogicalKey(String, reason: String)
    case invalidPackageName(String)
    case recordTooLarge(subject: String, size: Int, limit: Int)
    case invalidPhysicalKey(String, reason: String)
    case missingHash(logicalKey: String)
    case invalidMetadata(subject: String, reason: String)
    case invalidMessage
    case empty
    /// A directory-metadata line (no `physical_keys`) whose key does not end in `/`: quilt3 reads it as the
    /// metadata of the directory holding the key (the package's own for a top-level key), a different package.
    case directoryKeyWithoutSlash(String)
    case duplicateDirectoryMeta(String)
    /// The entries' sizes add up to more than a 64-bit count can hold (no real manifest does).
    case sizeOverflow(logicalKey: String)
    /// A line longer than a reader holds (a bound on memory, not on the format).
    case lineTooLong(line: Int, limit: Int)

    public var kind: FailureKind { .badInput }

    public var message: String {
        switch self {
        case .invalidLine(let line, let reason): return "malformed manifest line \(line): \(reason)"
        case .inStream(let source, .invalidLine(let line, let reason)):
            return "malformed line \(line) of entry stream \(quoted(source)): \(reason)"
        case .inStream(let source, .missingField(let line, let field)):
            return "malformed line \(line) of entry stream \(quoted(source)): missing \(quoted(field))"
        case .inStream(let source, let error): return "\(error.message) in entry stream \(quoted(source))"
        case .missingField(let line, let field): return "malformed manifest line \(line): missing \(quoted(field))"
        case .duplicateLogicalKey(let key): return "duplicate logical key \(quoted(key))"
        case .logicalKeyCollision(let file, let directory):
            return "logical key \(quoted(directory)) passes through the file entry \(quoted(file))"
        case .invalidLogicalKey(let key, let reason): return "invalid logical key \(quoted(key)): \(reason)"
        case .invalidPackageName(let name):
            return "invalid package name \(quoted(name)): must be 'namespace/name' of letters, digits, '_' and '-'"
        case .recordTooLarge(let subject, let size, let limit):
            return "manifest record too large for \(subject): \(size) bytes, limit \(limit)"
        case .invalidPhysicalKey(let url, let reason): return "invalid physical key \(quoted(url)): \(reason)"
        case .missingHash(let key): return "entry has no hash or size \(quoted(key))"
        case .invalidMetadata(let subject, let reason): return "invalid metadata for \(subject): \(reason)"
        case .invalidMessage: return "invalid manifest header: 'message' must be a string or null"
        case .empty: return "malformed manifest: no header line"
        case .directoryKeyWithoutSlash(let key):
            return "directory-metadata line for \(quoted(key)) has no physical_keys and no trailing '/'"
        case .duplicateDirectoryMeta(let key): return "duplicate directory metadata for \(quoted(key))"
        case .sizeOverflow(let key): return "the entries' sizes add up to more than 2^63-1 bytes at \(quoted(key))"
        case .lineTooLong(let line, let limit): return "manifest line \(line) is longer than \(limit) bytes"
        }
    }

    public var hint: String? {
        switch self {
        case .recordTooLarge, .lineTooLong: return "keep metadata under 1 MB a record, or raise QUILT_MANIFEST_MAX_RECORD_SIZE"
        case .directoryKeyWithoutSlash(let key):
            let holder = key.contains("/") ? "directory " + quoted(String(key[..<key.lastIndex(of: "/")!]) + "/") : "the package itself"
            return "quilt3 reads such a line as metadata of \(holder); end a directory's key with '/', or give a file its physical_keys"
        default: return nil
        }
    }
}
