// Transport failures of the HTTP layer: the request got no HTTP response at all.
import QuiltSupport

/// Why a request got no HTTP response.
public enum HTTPError: QuiltError, Equatable {
    /// The connect or request timeout expired.
    case timedOut(url: String, detail: String)
    /// The host could not be resolved or did not accept the connection.
    case cannotConnect(url: String, detail: String)
    /// TLS failed (certificate not trusted, handshake); never retried, never bypassed.
    case tls(url: String, detail: String)
    /// The local body file could not be read.
    case localFile(path: String, detail: String)
    /// The response body could not be written to its destination file descriptor.
    case destination(detail: String)
    /// Any other transport error (connection reset, malformed response, …).
    case transport(url: String, detail: String)
    /// libcurl could not be loaded or initialised (it is loaded at the first request): no request can be made,
    /// so none is tried again.
    case unavailable(detail: String)

    public var kind: FailureKind { .operationFailed }

    public var message: String {
        switch self {
        case .timedOut(let url, let detail): return "timed out talking to \(quoted(url)): \(detail)"
        case .cannotConnect(let url, let detail): return "cannot connect to \(quoted(url)): \(detail)"
        case .tls(let url, let detail): return "TLS failed for \(quoted(url)): \(detail)"
        case .localFile(let path, let detail): return "cannot transfer local file \(quoted(path)): \(detail)"
        case .destination(let detail): return "cannot write the downloaded data: \(detail)"
        case .transport(let url, let detail): return "transfer failed for \(quoted(url)): \(detail)"
        case .unavailable(let detail): return "cannot make HTTP requests: \(detail)"
        }
    }

    /// Whether sending the same request again may succeed.
    public var isRetryable: Bool {
        switch self {
        case .timedOut, .cannotConnect, .transport: return true
        case .tls, .localFile, .destination, .unavailable: return false
        }
    }
}
