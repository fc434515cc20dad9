// The suite's one retry loop: how a request that may succeed on a second try is tried again. S3's requests
// (S3Client, with their own reading of S3's answers) and every other HTTP call (STS, container and instance
// metadata, the SSO portal, a Quilt catalog, through `HTTPClient.perform(_:retry:)`) go through `run`.
import QuiltSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Up to `maxAttempts` tries in all, with exponential backoff and full jitter between them: a pause drawn from
/// 0…200 ms after the first try, 0…400 ms after the second, doubling up to 0…5 s.
public struct RetryPolicy: Sendable {
    /// Tries in all, the first included (at least 1).
    public var maxAttempts: Int
    /// Waits between tries (seconds); a test may pass one that records instead of sleeping.
    private let pause: @Sendable (Double) -> Void

    /// The suite's own default, between botocore's modes (quilt(1), ENVIRONMENT: `QUILT_S3_MAX_ATTEMPTS`).
    public static let defaultMaxAttempts = 4

    public init(maxAttempts: Int = RetryPolicy.defaultMaxAttempts,
                pause: @escaping @Sendable (Double) -> Void = { usleep(UInt32($0 * 1_000_000)) }) {
        self.maxAttempts = max(1, maxAttempts)
        self.pause = pause
    }

    /// What one try came to.
    public enum Outcome<Result> {
        /// Finished: `run` returns it.
        case done(Result)
        /// Failed in a way another try may not: tried again while tries are left, else `failure` is thrown.
        case retry(failure: any Error)
        /// Tried again at once, without counting the try or pausing (a request sent to the wrong region, which
        /// the answer named).
        case again
    }

    /// Runs `attempt` (given the number of the try, from 1) until it is done, it throws, or the tries run out.
    public func run<Result>(_ attempt: (_ number: Int) throws -> Outcome<Result>) throws -> Result {
        var number = 1
        while true {
            switch try attempt(number) {
            case .done(let result):
                return result
            case .again:
                continue
            case .retry(let failure):
                guard number < maxAttempts else { throw failure }
                pause(Self.backoff(afterTry: number))
                number += 1
            }
        }
    }

    /// A pause drawn from 0…cap, the cap 100 ms doubled for each try so far, at most 5 s (full jitter: clients
    /// that failed together do not come back together).
    static func backoff(afterTry number: Int) -> Double {
        Double.random(in: 0...min(5.0, 0.1 * Double(1 << min(number, 10))))
    }

    /// Whether an HTTP status says the same request may succeed later: 429 (too many requests) and 5xx but 501
    /// (a server that has no such operation cannot grow one).
    public static func isTransient(status: Int) -> Bool {
        status == 429 || (status >= 500 && status != 501)
    }
}

extension HTTPClient {
    /// `perform` under `retry`: tried again after a transport failure that may pass (a timeout, a refused or
    /// dropped connection) or a transient status (`RetryPolicy.isTransient`). The last answer is returned whatever
    /// its status; the last transport error is thrown. A request that must not run twice (`idempotent: false`,
    /// such as spending a one-time code) is tried again only when it cannot have reached the server: the
    /// connection was never made.
    public func perform(_ request: HTTPRequest, retry: RetryPolicy, idempotent: Bool = true,
                        destination: HTTPResponseDestination = .memory) throws -> HTTPResponse {
        do {
            return try retry.run { _ -> RetryPolicy.Outcome<HTTPResponse> in
                let response: HTTPResponse
                do {
                    response = try perform(request, destination: destination)
                } catch let error as HTTPError {
                    let unsent: Bool
                    if case .cannotConnect = error { unsent = true } else { unsent = false }
                    guard error.isRetryable, idempotent || unsent else { throw error }
                    return .retry(failure: error)
                }
                guard idempotent, RetryPolicy.isTransient(status: response.status) else { return .done(response) }
                return .retry(failure: TransientStatus(response: response))
            }
        } catch let last as TransientStatus {
            return last.response
        }
    }
}

/// A transient answer to a request whose tries ran out: `perform(_:retry:)` returns the answer itself.
private struct TransientStatus: Error {
    let response: HTTPResponse
}
