// What goes wrong talking to a Quilt catalog or reading its sign-in files. Messages name URLs and files, never a
// code, a token or a key.
import QuiltSupport

public enum CatalogError: QuiltError, Equatable {
    /// `registryUrl` is not set: no catalog was configured.
    case notConfigured(navigatorURL: String?)
    /// A catalog URL that is not `http(s)://host[…]`.
    case invalidURL(String)
    /// No HTTP answer at all.
    case unreachable(url: String, cause: String)
    /// An HTTP error status where a document was expected.
    case httpStatus(url: String, status: Int)
    /// A 200 answer that is not what the protocol says.
    case badResponse(url: String, detail: String)
    /// The catalog refused the one-time code.
    case codeRejected(loginURL: String, detail: String?)
    /// Nothing to send: the terminal or standard input gave no code.
    case noCode(loginURL: String)
    /// Signed in once, but the tokens or credentials could not be renewed.
    case refreshFailed(detail: String)
    /// Not signed in to this registry (no entry in auth.json).
    case notSignedIn(registryURL: String)
    /// `QUILT_API_KEY` is not an API key (quilt3 requires the `qk_` prefix). The key itself is never shown.
    case invalidAPIKey
    /// The catalog refused the API key of `QUILT_API_KEY` (revoked, expired, or another catalog's).
    case apiKeyRejected(registryURL: String, status: Int)
    /// `auth.json` or `credentials.json` holds something that is not a JSON object.
    case unreadableFile(path: String, reason: String)

    public var kind: FailureKind {
        switch self {
        case .invalidURL, .noCode, .invalidAPIKey: return .usage
        case .unreadableFile: return .badInput
        default: return .operationFailed
        }
    }

    public var message: String {
        switch self {
        case .notConfigured(let navigator):
            return navigator == nil
                ? "no Quilt catalog is configured"
                : "the catalog configuration has no registryUrl (navigator_url is \(quoted(navigator!)))"
        case .invalidURL(let url): return "invalid catalog URL \(quoted(url)): it needs a scheme (http or https) and a host"
        case .unreachable(let url, let cause): return "cannot reach the catalog at \(quoted(url)): \(cause)"
        case .httpStatus(let url, let status): return "the catalog answered HTTP \(status) for \(quoted(url))"
        case .badResponse(let url, let detail): return "unexpected answer from the catalog for \(quoted(url)): \(detail)"
        case .codeRejected(_, let detail):
            return "the catalog did not accept the code" + (detail.map { ": \($0)" } ?? "")
        case .noCode: return "no code was given"
        case .refreshFailed(let detail): return "cannot renew the catalog sign-in: \(detail)"
        case .notSignedIn(let registry): return "not signed in to the catalog \(quoted(registry))"
        case .unreadableFile(let path, let reason): return "cannot read \(quoted(path)): \(reason)"
        case .invalidAPIKey: return "QUILT_API_KEY is not a Quilt API key: it must start with 'qk_'"
        case .apiKeyRejected(let registry, let status):
            return "the catalog \(quoted(registry)) refused the API key in QUILT_API_KEY (HTTP \(status))"
        }
    }

    public var hint: String? {
        switch self {
        case .notConfigured(let navigator):
            return "configure it first: quilt config \(navigator ?? "https://your-catalog.example.com")"
        case .invalidURL: return "give the catalog's address, e.g. quilt config https://your-catalog.example.com"
        case .unreachable: return "check the catalog URL ('quilt config navigator_url') and the network"
        case .codeRejected(let loginURL, _): return "get a new code from \(loginURL) and run 'quilt login' again"
        case .noCode(let loginURL): return "open \(loginURL), then paste the code it shows, or pipe it: quilt login < FILE"
        case .refreshFailed, .notSignedIn: return "run 'quilt login' again"
        case .unreadableFile: return "run 'quilt logout', then 'quilt login'"
        case .invalidAPIKey: return "create an API key in the catalog (or with quilt3.api_keys.create) and set QUILT_API_KEY to it"
        case .apiKeyRejected: return "the key may be revoked or expired: create a new one, or unset QUILT_API_KEY to use other credentials"
        default: return nil
        }
    }
}
