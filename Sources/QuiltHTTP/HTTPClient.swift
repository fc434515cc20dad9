// HTTP over libcurl for the S3 layer: a pool of reusable easy handles, used from many threads at once.
import QuiltSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A thread-safe HTTP client. Each `perform` runs synchronously on the calling thread with an easy handle taken
/// from a pool, so connections (and TLS sessions) are reused by later requests.
///
/// Concurrency model: callers run transfers on a bounded set of threads (see `TransferPool`), each blocking in
/// `curl_easy_perform`. Compared with one curl multi handle driven by an event loop this keeps uploads streaming
/// straight from `pread` with natural back-pressure, needs no extra thread or callbacks crossing threads, and
/// the number of threads (10 by default, like quilt3) is small enough that a blocked thread costs nothing.
public final class HTTPClient: Sendable {
    /// Timeouts, in seconds.
    public struct Configuration: Sendable, Equatable {
        /// Limit for establishing a connection (TCP and TLS).
        public var connectTimeout: Double
        /// Limit for a whole request; nil for none (big transfers rely on `stallTimeout`).
        public var requestTimeout: Double?
        /// Abort a transfer that moved no data for this long; nil for never.
        public var stallTimeout: Double?
        /// How many idle handles (each with its open connections) to keep.
        public var maxIdleHandles: Int
        /// A PEM file of trusted CA certificates instead of the system's (`AWS_CA_BUNDLE`). Verification stays on.
        public var caBundlePath: String?

        public init(
            connectTimeout: Double = 10, requestTimeout: Double? = nil, stallTimeout: Double? = 60, maxIdleHandles: Int = 16,
            caBundlePath: String? = nil
        ) {
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
            self.stallTimeout = stallTimeout
            self.maxIdleHandles = maxIdleHandles
            self.caBundlePath = caBundlePath
        }
    }

    public let configuration: Configuration
    private let idle = Locked<[CurlEasy]>([])

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// A duration as a whole number for curl: settings are checked before they get here, but a value no
    /// integer holds (or NaN) becomes the largest timer rather than a trap.
    static func whole(_ value: Double) -> Int {
        guard value.isFinite else { return value.isNaN ? 0 : Int(1e15) }
        return Int(min(max(value, 0), 1e15))
    }

    /// Sends `request` and waits for the whole response. Throws `HTTPError` when no HTTP response arrived; any
    /// HTTP status, including errors, is returned.
    public func perform(_ request: HTTPRequest, destination: HTTPResponseDestination = .memory) throws -> HTTPResponse {
        let easy: CurlEasy
        if let pooled = idle.withLock({ $0.popLast() }) {
            easy = pooled
        } else {
            easy = try CurlEasy()
        }
        let timeouts = CurlTimeouts(
            connectMilliseconds: Self.whole(configuration.connectTimeout * 1000),
            requestMilliseconds: configuration.requestTimeout.map { max(1, Self.whole($0 * 1000)) } ?? 0,
            stallSeconds: configuration.stallTimeout.map { max(1, Self.whole($0.rounded(.up))) } ?? 0,
            caBundlePath: configuration.caBundlePath)
        defer {
            // A handle whose request failed is still reusable: curl closes broken connections itself.
            let limit = configuration.maxIdleHandles
            idle.withLock { if $0.count < limit { $0.append(easy) } }
        }
        return try easy.perform(request, destination: destination, timeouts: timeouts)
    }
}
