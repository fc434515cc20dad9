// Errors of registries: revisions, pointers, manifests.
import QuiltSupport
import QuiltFormat

public enum RegistryError: QuiltError {
    case invalidRevision(String, reason: String)
    /// The name part of a revision is not a valid package name.
    case invalidPackageName(String)
    case invalidRegistry(String, reason: String)
    /// No pointer names the package in the registry at this URL.
    case noSuchPackage(String, registry: String)
    case noSuchRevision(String)
    case noSuchManifest(String)
    case ambiguousPrefix(String, matches: Int)
    /// `latest` is not what the caller expected: a compare-and-swap lost.
    case refConflict(name: String, expected: String, actual: String)
    /// The remote `latest` is a revision this push does not descend from, nor the one this machine last
    /// published or read there (`expected`, nil when it knows none).
    case pushConflict(name: String, remoteLatest: String, registry: String, expected: String?)
    case corruptManifest(topHash: String, actual: String)
    case corruptPointer(String)
    /// A local registry whose directory cannot be read (its permissions).
    case unreadableRegistry(String, reason: String)

    public var kind: FailureKind {
        switch self {
        case .invalidRevision, .invalidRegistry: return .usage
        case .invalidPackageName: return .badInput
        case .refConflict, .pushConflict: return .conflict
        case .corruptManifest, .corruptPointer: return .operationFailed
        default: return .operationFailed
        }
    }

    public var message: String {
        switch self {
        case .invalidRevision(let text, let reason): return "invalid revision \(quoted(text)): \(reason)"
        case .invalidRegistry(let text, let reason): return "invalid registry \(quoted(text)): \(reason)"
        case .invalidPackageName(let name): return ManifestError.invalidPackageName(name).message
        case .noSuchPackage(let name, let registry): return "no such package \(quoted(name)) in \(quoted(registry))"
        case .noSuchRevision(let text): return "unknown revision \(quoted(text))"
        case .noSuchManifest(let hash): return "no manifest for top hash \(quoted(hash))"
        case .ambiguousPrefix(let prefix, let matches): return "ambiguous hash prefix \(quoted(prefix)) (\(matches) matches)"
        case .refConflict(let name, let expected, let actual):
            return "latest of \(quoted(name)) is \(actual), not \(expected)"
        case .pushConflict(let name, let remote, let registry, let expected):
            return "the latest of \(quoted(name)) in \(registry) is \(remote.prefix(12)), not "
                + (expected.map { "\($0.prefix(12)), the revision this machine last saw" } ?? "a revision this machine has seen")
        case .corruptManifest(let hash, let actual):
            return "manifest does not hash to its name \(quoted(hash)) (it hashes to \(actual))"
        case .corruptPointer(let location): return "pointer does not hold a top hash \(quoted(location))"
        case .unreadableRegistry(let url, let reason): return "cannot read registry \(quoted(url)): \(reason)"
        }
    }

    public var hint: String? {
        switch self {
        case .ambiguousPrefix: return "give more hex digits of the hash"
        case .refConflict: return "someone else moved it; look at 'quilt log' and retry"
        case .pushConflict(let name, _, let registry, _):
            return "someone else published it since: read it first ('quilt install \(name) --registry \(registry)'), "
                + "or build on it with --from \(name); --force overwrites it"
        case .unreadableRegistry: return "a registry must be readable and writable: check the permissions of its directory"
        default: return nil
        }
    }
}
