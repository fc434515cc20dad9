// Catalog sign-in without a network: renewal of the catalog's credentials (windows, one renewal under many
// threads, failures) and the sign-in files' format.
import Foundation
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltFormat
@testable import QuiltHTTP
@testable import QuiltAWS
@testable import QuiltCatalog

/// A clock tests move by hand.
final class ManualClock: Sendable {
    private let seconds = Locked<Double>(1_800_000_000)
    var now: Double { seconds.value }
    func advance(_ by: Double) { seconds.withLock { $0 += by } }
}

private func credentials(_ id: String, expiresIn seconds: Double, clock: ManualClock) -> AWSCredentials {
    AWSCredentials(accessKeyId: id, secretAccessKey: "secret-\(id)", sessionToken: "token-\(id)",
                   expiration: Date(timeIntervalSince1970: clock.now + seconds))
}

@Suite struct CatalogCredentialsProviderTests {
    @Test func credentialsFarFromExpiryAreNotRenewed() throws {
        let clock = ManualClock()
        let renewals = Locked(0)
        let provider = CatalogCredentialsProvider(
            initial: credentials("A", expiresIn: 3600, clock: clock), description: "test", now: { clock.now }) {
            renewals.withLock { $0 += 1 }
            return credentials("B", expiresIn: 3600, clock: clock)
        }
        #expect(try provider.credentials()?.accessKeyId == "A")
        clock.advance(3600 - 901)
        #expect(try provider.credentials()?.accessKeyId == "A")
        #expect(renewals.value == 0)
        #expect(provider.source.kind == "catalog")
    }

    @Test func inTheAdvisoryWindowRenewalIsTriedAndAFailureKeepsTheOldCredentials() throws {
        let clock = ManualClock()
        let renewals = Locked(0)
        let fail = Locked(true)
        let provider = CatalogCredentialsProvider(
            initial: credentials("A", expiresIn: 14 * 60, clock: clock), description: "test", now: { clock.now }) {
            renewals.withLock { $0 += 1 }
            if fail.value { throw CatalogError.refreshFailed(detail: "catalog down") }
            return credentials("B", expiresIn: 3600, clock: clock)
        }
        #expect(try provider.credentials()?.accessKeyId == "A")
        #expect(renewals.value == 1)
        // Not retried on every request while the old credentials still serve.
        #expect(try provider.credentials()?.accessKeyId == "A")
        #expect(renewals.value == 1)
        clock.advance(CatalogCredentialsProvider.advisoryRetryDelay + 1)
        fail.withLock { $0 = false }
        #expect(try provider.credentials()?.accessKeyId == "B")
        #expect(renewals.value == 2)
        #expect(try provider.credentials()?.accessKeyId == "B")
        #expect(renewals.value == 2)
    }

    @Test func inTheMandatoryWindowAFailedRenewalIsAnError() throws {
        let clock = ManualClock()
        let provider = CatalogCredentialsProvider(
            initial: credentials("A", expiresIn: 9 * 60, clock: clock), description: "test", now: { clock.now }) {
            throw CatalogError.refreshFailed(detail: "the catalog answered HTTP 401")
        }
        #expect(throws: CatalogError.refreshFailed(detail: "the catalog answered HTTP 401")) { try provider.credentials() }
        #expect(CatalogError.refreshFailed(detail: "x").hint == "run 'quilt login' again")
    }

    @Test func renewedCredentialsThatAreAlreadyExpiredAreRefused() throws {
        let clock = ManualClock()
        let provider = CatalogCredentialsProvider(
            initial: credentials("A", expiresIn: -5, clock: clock), description: "test", now: { clock.now }) {
            credentials("B", expiresIn: -1, clock: clock)
        }
        #expect(throws: CatalogError.self) { try provider.credentials() }
    }

    /// Many transfer threads hit the expiry at once (the middle of a long push): one renewal, under the lock,
    /// and every thread signs with the new credentials.
    @Test func manyThreadsAtExpiryRenewOnce() throws {
        let clock = ManualClock()
        let renewals = Locked(0)
        let provider = CatalogCredentialsProvider(
            initial: credentials("A", expiresIn: 3600, clock: clock), description: "test", now: { clock.now }) {
            renewals.withLock { $0 += 1 }
            Thread.sleep(forTimeInterval: 0.05)
            return credentials("B", expiresIn: 3600, clock: clock)
        }
        #expect(try provider.credentials()?.accessKeyId == "A")
        clock.advance(3600 - 60)
        let seen = Locked<[String]>([])
        try TransferPool.run(count: 64, maxConcurrency: 16) { _ in
            let id = try provider.credentials()?.accessKeyId ?? "none"
            seen.withLock { $0.append(id) }
        }
        #expect(renewals.value == 1)
        #expect(seen.value.count == 64 && seen.value.allSatisfy { $0 == "B" })
    }
}

@Suite struct CatalogFilesTests {
    @Test func filesAreWrittenAsPythonsJsonDumpWithMode0600() throws {
        let dir = TemporaryDirectory()
        let files = CatalogFiles(dataDirectory: dir.path + "/Quilt")
        #expect(try files.loadAuth().isEmpty)
        let tokens = CatalogTokens(refreshToken: "r\u{e9}", accessToken: "a", expiresAt: .integer("1796042357"))
        try files.saveAuth(JSONObject([("http://127.0.0.1:8765", tokens.json)]))
        let bytes = try FileSystem.readFile(files.authPath)
        #expect(String(decoding: bytes, as: UTF8.self)
            == #"{"http://127.0.0.1:8765": {"refresh_token": "r\u00e9", "access_token": "a", "expires_at": 1796042357}}"#)
        var info = stat()
        #expect(stat(files.authPath, &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(CatalogTokens(try files.loadAuth()["http://127.0.0.1:8765"])?.accessToken == "a")

        try FileSystem.writeAtomically(Array("[1]".utf8), to: files.credentialsPath)
        #expect(throws: CatalogError.self) { try files.loadCredentials() }
    }

    @Test func catalogCredentialsBecomeQuilt3sCredentialsFile() throws {
        let answer = try JSONParser.parse(
            #"{"AccessKeyId": "AK", "SecretAccessKey": "SK", "SessionToken": "ST", "Expiration": "2026-11-30T12:39:17+00:00"}"#)
        let stored = try #require(StoredCredentials.fromCatalog(answer))
        #expect(stored.keys == ["access_key", "secret_key", "token", "expiry_time"])
        let aws = try #require(StoredCredentials.credentials(stored))
        #expect(aws.accessKeyId == "AK" && aws.sessionToken == "ST")
        #expect(aws.expiration == Date(timeIntervalSince1970: 1_796_042_357))
        // An expiry that cannot be read counts as past: the credentials are renewed before use.
        let odd = JSONObject([("access_key", .string("AK")), ("secret_key", .string("SK")), ("expiry_time", .string("soon"))])
        #expect(StoredCredentials.credentials(odd)?.expiration == Date(timeIntervalSince1970: 0))
    }
}

@Suite struct CatalogRetryTests {
    /// A stub catalog whose first `failures` answers are 503, then `answer`.
    private func flakyCatalog(failures: Int, answer: String) throws -> TinyHTTPServer {
        let seen = Locked(0)
        return try TinyHTTPServer { _, _, _ in
            let number = seen.withLock { count -> Int in count += 1; return count }
            return number <= failures ? (503, "") : (200, answer)
        }
    }

    @Test func readsAreAskedForAgainAfterAFailure() throws {
        let catalog = try flakyCatalog(failures: 1, answer: #"{"registryUrl": "https://registry.example"}"#)
        defer { catalog.stop() }
        let config = try CatalogSession.fetchConfig(catalogURL: "http://127.0.0.1:\(catalog.port)",
                                                    retry: RetryPolicy(maxAttempts: 4, pause: { _ in }))
        #expect(config["registryUrl"]?.stringValue == "https://registry.example")
        #expect(catalog.requests == ["GET /config.json", "GET /config.json"])
    }

    /// The sign-in form spends its code: sent once, whatever the catalog answered.
    @Test func theSignInFormIsNotSentTwice() throws {
        let catalog = try flakyCatalog(failures: 1, answer: "{}")
        defer { catalog.stop() }
        let dir = TemporaryDirectory()
        let session = CatalogSession(registryURL: "http://127.0.0.1:\(catalog.port)", dataDirectory: dir.path,
                                     retry: RetryPolicy(maxAttempts: 4, pause: { _ in }))
        #expect(throws: CatalogError.httpStatus(url: "http://127.0.0.1:\(catalog.port)/api/token", status: 503)) {
            try session.login(code: "one-time")
        }
        #expect(catalog.requests == ["POST /api/token"])
    }
}

