// The error vocabulary of the core: every subsystem throws its own enum; all share one protocol so the command
// layer can map them to exit codes and one-line messages in a single place.

/// What kind of failure an error is; the command layer turns this into the exit status of the contract.
public enum FailureKind: Sendable, Equatable {
    /// I/O, network, verification: exit 1.
    case operationFailed
    /// A compare-and-swap or conflict lost: exit 2.
    case conflict
    /// Bad arguments: exit 64.
    case usage
    /// Bad input data (JSON, names, logical keys, manifests): exit 65.
    case badInput
}

/// Implemented by every error the core throws.
public protocol QuiltError: Error, Sendable, CustomStringConvertible {
    var kind: FailureKind { get }
    /// One line, git style: lowercase, no full stop, subject in quotes: `cannot read file 'a.txt'`.
    var message: String { get }
    /// A remedy, when one is known.
    var hint: String? { get }
}

extension QuiltError {
    public var hint: String? { nil }
    public var description: String { message }
}

/// Quotes a subject for an error message the way git does, escaping what would break the line.
public func quoted(_ subject: String) -> String {
    "'" + escapingControlCharacters(subject) + "'"
}

/// Quotes bytes that need not be UTF-8 (a file name as the file system holds it): what is not valid UTF-8, an
/// encoded surrogate included, shows as `\xNN` per byte.
public func quoted(bytes: [UInt8]) -> String {
    "'" + escapingControlCharacters(bytes) + "'"
}

/// `text` with every control character escaped, so that text from a registry, a manifest or a file name can be
/// shown without driving the terminal (an escape sequence that retitles it or moves the cursor) or forging lines
/// of output (a newline followed by something that looks like a line of ours). C0 controls and DEL become
/// `\n`, `\r`, `\t`, `\0` or `\xNN`; C1 controls (U+0080–U+009F, which some terminals obey too) become the
/// `\xNN` of their two UTF-8 bytes. Everything else is kept as it is.
public func escapingControlCharacters(_ text: String) -> String {
    // Most text has nothing to escape: return it without building a copy.
    guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 }) else { return text }
    return escapingControlCharacters(Array(text.utf8))
}

/// `escapingControlCharacters` on bytes, which may also hold invalid UTF-8: each byte of an invalid sequence
/// becomes `\xNN`.
public func escapingControlCharacters(_ bytes: [UInt8]) -> String {
    var out = ""
    var parser = Unicode.UTF8.ForwardParser()
    var input = bytes.makeIterator()
    var offset = 0
    func hex(_ byte: UInt8) -> String { "\\x" + Hex.encode([byte]) }
    while true {
        switch parser.parseScalar(from: &input) {
        case .valid(let encoded):
            let scalar = Unicode.UTF8.decode(encoded)
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\0": out += "\\0"
            default:
                if scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value <= 0x9F) {
                    for byte in encoded { out += hex(byte) }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
            offset += encoded.count
        case .error(let length):
            for byte in bytes[offset..<offset + length] { out += hex(byte) }
            offset += length
        case .emptyInput:
            return out
        }
    }
}

/// Errors of the local file system layer.
public enum FileSystemError: QuiltError {
    case cannotOpen(path: String, reason: String)
    case cannotRead(path: String, reason: String)
    case cannotWrite(path: String, reason: String)
    case notARegularFile(path: String)
    case notFound(path: String)
    /// A symbolic link or a file where a directory was to be walked through.
    case notADirectory(path: String)
    /// Its size, timestamps or inode moved between open and the end of the read, on every attempt.
    case changedWhileRead(path: String)

    public var kind: FailureKind { .operationFailed }
    public var message: String {
        switch self {
        case .cannotOpen(let path, let reason): return "cannot open \(quoted(path)): \(reason)"
        case .cannotRead(let path, let reason): return "cannot read \(quoted(path)): \(reason)"
        case .cannotWrite(let path, let reason): return "cannot write \(quoted(path)): \(reason)"
        case .notARegularFile(let path): return "not a regular file \(quoted(path))"
        case .notFound(let path): return "no such file or directory \(quoted(path))"
        case .notADirectory(let path): return "not a directory \(quoted(path))"
        case .changedWhileRead(let path): return "file changed while it was read \(quoted(path))"
        }
    }

    /// What the system said, without the path: for a caller that names the subject better than the path can.
    public var reason: String {
        switch self {
        case .cannotOpen(_, let reason), .cannotRead(_, let reason), .cannotWrite(_, let reason): return reason
        case .notARegularFile: return "not a regular file"
        case .notFound: return "no such file or directory"
        case .notADirectory: return "not a directory"
        case .changedWhileRead: return "file changed while it was read"
        }
    }
}
