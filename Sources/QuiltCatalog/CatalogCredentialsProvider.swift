// The AWS credentials a Quilt catalog issued (credentials.json), renewed before they expire. The S3 client asks
// for credentials on every request, so a long push renews them mid-way, once, under a lock.
import QuiltSupport
import QuiltHTTP
import QuiltAWS
import Foundation
import QuiltFormat

public final class CatalogCredentialsProvider: AWSCredentialsProvider {
    /// botocore's windows, which quilt3 inherits: with less than 15 minutes left one caller tries to renew and
    /// keeps the old credentials if that fails; with less than 10 minutes left renewal must succeed.
    public static let advisoryWindow: Double = 15 * 60
    public static let mandatoryWindow: Double = 10 * 60
    /// After a failed advisory renewal, requests go on with the old credentials for this long before trying again.
    static let advisoryRetryDelay: Double = 30

    private struct State {
        var credentials: AWSCredentials
        var lastAdvisoryFailure: Double?
    }

    private let state: Locked<State>
    private let renew: @Sendable () throws -> AWSCredentials
    private let now: @Sendable () -> Double
    public let source: AWSCredentialSource

    /// `renew` fetches fresh credentials (and stores them); it runs under the lock, so callers that need
    /// credentials meanwhile wait for it rather than renewing too.
    public init(initial: AWSCredentials, description: String, now: @escaping @Sendable () -> Double = WallClock.now,
                renew: @escaping @Sendable () throws -> AWSCredentials) {
        state = Locked(State(credentials: initial))
        self.renew = renew
        self.now = now
        source = .other(kind: "catalog", description: description)
    }

    /// The provider for the credentials stored in `dataDirectory`, renewed through `registryURL`; nil when
    /// credentials.json is missing or empty (`{}`, as `quilt logout` leaves it), i.e. when quilt3 would use the
    /// default AWS chain. `catalogName` names the catalog in `quilt whoami`.
    public static func stored(dataDirectory: String, registryURL: String?, catalogName: String?, timeout: Double? = nil,
                              retry: RetryPolicy = RetryPolicy()) throws -> CatalogCredentialsProvider?
    {
        let files = CatalogFiles(dataDirectory: dataDirectory)
        let object = try files.loadCredentials()
        guard !object.isEmpty else { return nil }
        guard let initial = StoredCredentials.credentials(object) else {
            throw CatalogError.unreadableFile(path: files.credentialsPath, reason: "expected access_key and secret_key")
        }
        let name = catalogName ?? registryURL ?? "(no registryUrl configured)"
        return CatalogCredentialsProvider(initial: initial, description: "the Quilt catalog \(name) (quilt login)") {
            guard let registryURL else {
                throw CatalogError.refreshFailed(detail: "config.yml has no registryUrl to renew the credentials at")
            }
            return try CatalogSession(registryURL: registryURL, dataDirectory: dataDirectory, timeout: timeout, retry: retry)
                .refreshCredentials()
        }
    }

    /// The provider for an API key (`QUILT_API_KEY`): credentials from `registryURL` with the key as the bearer
    /// token, fetched on first use and renewed the same way; in memory only (quilt3 keeps the key in memory too).
    /// An API key replaces a `quilt login` sign-in, as in quilt3 ("While set, the API key overrides any
    /// interactive session"), and so the AWS chain.
    public static func apiKey(_ key: String, registryURL: String, dataDirectory: String, catalogName: String?,
                              timeout: Double? = nil)
        throws -> CatalogCredentialsProvider
    {
        guard key.hasPrefix("qk_") else { throw CatalogError.invalidAPIKey }
        // Expired from the start: the first request fetches them, and a failure there is its error.
        let none = AWSCredentials(accessKeyId: "", secretAccessKey: "", sessionToken: nil, expiration: Date(timeIntervalSince1970: 0))
        // (The session's files are not touched: `credentials(apiKey:)` stores nothing.)
        let session = CatalogSession(registryURL: registryURL, dataDirectory: dataDirectory, timeout: timeout)
        return CatalogCredentialsProvider(initial: none,
                                          description: "the Quilt catalog \(catalogName ?? registryURL) (QUILT_API_KEY)") {
            try session.credentials(apiKey: key)
        }
    }

    public func credentials() throws -> AWSCredentials? {
        try state.withLock { state in
            let current = state.credentials
            let remaining = current.expiration.map { $0.timeIntervalSince1970 - now() } ?? .infinity
            guard remaining < Self.advisoryWindow else { return current }
            let mandatory = remaining < Self.mandatoryWindow
            if !mandatory, let failed = state.lastAdvisoryFailure, now() - failed < Self.advisoryRetryDelay { return current }
            do {
                let fresh = try renew()
                if let expiration = fresh.expiration, expiration.timeIntervalSince1970 <= now() {
                    throw CatalogError.refreshFailed(detail: "the catalog issued credentials that have already expired")
                }
                state = State(credentials: fresh)
                return fresh
            } catch {
                guard !mandatory else { throw error }
                state.lastAdvisoryFailure = now()
                return current
            }
        }
    }
}
