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
    var out = "'"
    for scalar in subject.unicodeScalars {
        switch scalar {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\0": out += "\\0"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\x" + String(scalar.value, radix: 16)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "'"
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
}
