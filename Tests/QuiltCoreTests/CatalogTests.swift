// Catalog sign-in without a network: renewal of the catalog's credentials (windows, one renewal under many
// threads, failures), the sign-in files' format, expiry times, SSO sign-ins that must be renewed, credential
// sources, config.yml as PyYAML types and writes it, and the settings keys.
import Foundation
import Testing
@testable import QuiltSupport
@testable import QuiltFormat
@testable import QuiltAWS
@testable import QuiltStorage
@testable import QuiltCatalog
@testable import QuiltRegistry

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

    @Test func expiryTimesInTheFormsCredentialSourcesWrite() {
        let t = Date(timeIntervalSince1970: 1_796_042_357)
        for text in ["2026-11-30T12:39:17+00:00", "2026-11-30T12:39:17Z", "2026-11-30T12:39:17UTC",
                     "2026-11-30T12:39:17", "2026-11-30 12:39:17+00:00", "2026-11-30T13:39:17+01:00"] {
            #expect(CredentialTime.parse(text) == t, "\(text)")
        }
        #expect(CredentialTime.parse("2026-11-30T12:39:17.250Z") == t.addingTimeInterval(0.25))
        #expect(CredentialTime.parse("yesterday") == nil)
    }
}

@Suite struct SSOAndSourceTests {
    let dir = TemporaryDirectory()

    private func environment(profile: String) -> [String: String] {
        ["HOME": dir.path, "AWS_PROFILE": profile, "AWS_CONFIG_FILE": dir.path + "/config",
         "AWS_SHARED_CREDENTIALS_FILE": dir.path + "/credentials", "AWS_EC2_METADATA_DISABLED": "true",
         // Nothing may be contacted: a port nobody listens on.
         "AWS_ENDPOINT_URL_SSO": "http://127.0.0.1:1"]
    }

    private func cache(_ key: String, expires: String) {
        dir.file(".aws/sso/cache/" + sha1Hex(Array(key.utf8)) + ".json",
                 #"{"accessToken": "tok", "expiresAt": "\#(expires)", "region": "us-east-1"}"#)
    }

    init() {
        dir.file("config", """
            [profile dev]
            sso_session = corp
            sso_account_id = 111122223333
            sso_role_name = Reader

            [sso-session corp]
            sso_start_url = https://corp.awsapps.com/start
            sso_region = eu-west-1

            [profile legacy]
            sso_start_url = https://old.awsapps.com/start
            sso_region = us-east-1
            sso_account_id = 111122223333
            sso_role_name = Reader
            """)
        dir.file("credentials", "")
    }

    @Test func cacheNamesAreSHA1Hex() {
        // botocore's SSOTokenLoader names the file by hashlib.sha1(session name or start URL).hexdigest().
        #expect(sha1Hex(Array("abc".utf8)) == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    @Test func aMissingOrExpiredSignInAsksForAWSSSOLogin() throws {
        let chain = DefaultCredentialsChain(environment: environment(profile: "dev"))
        #expect(chain.source == .sso(profile: "dev"))
        #expect(throws: S3Error.ssoLoginRequired(profile: "dev", reason: "no cached sign-in")) { try chain.resolve() }
        cache("corp", expires: "2001-01-01T00:00:00Z")
        #expect(throws: S3Error.ssoLoginRequired(profile: "dev", reason: "the sign-in has expired")) { try chain.resolve() }
        #expect(S3Error.ssoLoginRequired(profile: "dev", reason: "").hint == "run 'aws sso login --profile dev'")
        // The legacy form is cached under its start URL.
        cache("https://old.awsapps.com/start", expires: "2001-01-01T00:00:00UTC")
        #expect(throws: S3Error.ssoLoginRequired(profile: "legacy", reason: "the sign-in has expired")) {
            try DefaultCredentialsChain(environment: environment(profile: "legacy")).resolve()
        }
    }

    @Test func aValidSignInGoesToThePortal() throws {
        cache("corp", expires: "2099-01-01T00:00:00Z")
        // Port 1 refuses: the error names the portal, proving the cached token was found and used.
        #expect(throws: S3Error.self) { try DefaultCredentialsChain(environment: environment(profile: "dev")).resolve() }
        do { _ = try DefaultCredentialsChain(environment: environment(profile: "dev")).resolve() } catch let error as S3Error {
            #expect(error.message.hasPrefix("cannot get AWS credentials from the SSO portal: "))
            #expect(!error.message.contains("tok"))
        }
    }

    @Test func sourcesAreNamedInTheChainsOrder() {
        let base = ["HOME": dir.path, "AWS_CONFIG_FILE": dir.path + "/none", "AWS_SHARED_CREDENTIALS_FILE": dir.path + "/none"]
        #expect(DefaultCredentialsChain(environment: base.merging(["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"]) { $1 }).source
            == .environment)
        #expect(DefaultCredentialsChain(environment: base).source == .instanceMetadata)
        #expect(DefaultCredentialsChain(environment: base.merging(["AWS_EC2_METADATA_DISABLED": "true"]) { $1 }).source == .none)
        #expect(DefaultCredentialsChain(environment: base.merging(["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/x"]) { $1 }).source
            == .container)
    }
}

@Suite struct PyYAMLConfigTests {
    @Test func plainScalarsAreTypedAsPyYAMLTypesThem() throws {
        let parsed = try QuiltConfig.parse("""
            a: yes
            b: Off
            c: 0o17
            d: 017
            e: 1:20
            f: 1e3
            g: 1.5
            h: 2001-12-14
            i: '2001-12-14'
            j: ~
            k: 0x1F
            l: [1, two]
            m: {n: null}
            o: 123456789012345678901234567890
            """, path: "c")
        let values = Dictionary(uniqueKeysWithValues: parsed)
        #expect(values["a"] == .bool(true) && values["b"] == .bool(false))
        #expect(values["c"] == .string("0o17") && values["d"] == .int(15) && values["e"] == .int(80))
        #expect(values["f"] == .string("1e3") && values["g"] == .double(1.5))
        #expect(values["h"] == .plain("2001-12-14") && values["i"] == .string("2001-12-14"))
        #expect(values["j"] == .null && values["k"] == .int(31))
        #expect(values["l"] == .list([.int(1), .string("two")]) && values["m"] == .mapping(["n": .null]))
        #expect(values["o"]?.json == .integer("123456789012345678901234567890"))
        #expect(try QuiltConfig.parse("", path: "c").isEmpty)
        #expect(throws: ConfigError.self) { try QuiltConfig.parse("- a list\n", path: "c") }
        #expect(throws: ConfigError.self) { try QuiltConfig.parse("a: [unclosed\n", path: "c") }
    }

    @Test func writingIsYamlDump() throws {
        let text = try PyYAML.dump([
            "b": .string("yes"), "a": .string("plain text"), "c": .null, "d": .bool(true), "e": .double(1e20),
            "f": .string("é"), "g": .string(""), "h": .list([.string("x"), .int(1)]), "i": .mapping(["z": .int(1), "y": .null]),
            "j": .string("2001-12-14"), "k": .double(.infinity), "l": .string("1.5"),
        ])
        #expect(text == """
            a: plain text
            b: 'yes'
            c: null
            d: true
            e: 1.0e+20
            f: "\\xE9"
            g: ''
            h:
            - x
            - 1
            i:
              y: null
              z: 1
            j: '2001-12-14'
            k: .inf
            l: '1.5'

            """)
    }
}

@Suite struct ConfigSettingsTests {
    @Test func settingsAreCheckedAndNormalised() throws {
        #expect(try QuiltConfig.checkedSetting("multipart_chunksize", .string("16M")) == .int(16 << 20))
        #expect(try QuiltConfig.checkedSetting("multipart_threshold", .int(5 << 20)) == .int(5 << 20))
        #expect(throws: ConfigError.self) { try QuiltConfig.checkedSetting("multipart_chunksize", .int((5 << 20) - 1)) }
        #expect(throws: ConfigError.self) { try QuiltConfig.checkedSetting("multipart_threshold", .string("6G")) }
        #expect(try QuiltConfig.checkedSetting("requests_timeout", .string("2.5")) == .double(2.5))
        #expect(try QuiltConfig.checkedSetting("requests_timeout", .int(30)) == .int(30))
        #expect(throws: ConfigError.self) { try QuiltConfig.checkedSetting("requests_timeout", .int(0)) }
        #expect(throws: ConfigError.self) { try QuiltConfig.checkedSetting("max_pool_connections", .int(0)) }
    }

    @Test func theContextHonoursTheSettingsAndTheEnvironmentWins() throws {
        let dir = TemporaryDirectory()
        dir.file("data/Quilt/config.yml",
                 "max_pool_connections: 3\nmultipart_threshold: 6291456\nmultipart_chunksize: 5242880\nrequests_timeout: 7\n")
        let env = ["HOME": dir.path, "XDG_DATA_HOME": dir.path + "/data", "AWS_ACCESS_KEY_ID": "a",
                   "AWS_SECRET_ACCESS_KEY": "b", "AWS_REGION": "us-east-1"]
        let context = try QuiltContext(environment: env)
        #expect(context.transferConcurrency == 3)
        let storage = try #require(try context.registry("s3://bucket").storage as? S3Storage)
        #expect(storage.multipartThreshold == 6 << 20 && storage.partSize == 5 << 20 && storage.partSizeIsFixed)
        #expect(try context.s3Client().configuration.http.connectTimeout == 7)

        let overridden = try QuiltContext(environment: env.merging([
            "QUILT_TRANSFER_MAX_CONCURRENCY": "8", "QUILT_MULTIPART_THRESHOLD": "64M", "QUILT_S3_CONNECT_TIMEOUT": "2",
        ]) { $1 })
        #expect(overridden.transferConcurrency == 8)
        let other = try #require(try overridden.registry("s3://bucket").storage as? S3Storage)
        #expect(other.multipartThreshold == 64 << 20)
        #expect(try overridden.s3Client().configuration.http.connectTimeout == 2)

        let plain = try QuiltContext(environment: ["HOME": dir.path, "XDG_DATA_HOME": dir.path + "/empty"])
        let defaults = try #require(try plain.registry("s3://bucket").storage as? S3Storage)
        #expect(!defaults.partSizeIsFixed && plain.transferConcurrency == 10)
    }

    /// A part size the user chose that would need more than 10,000 parts is an error naming the setting (checked
    /// before anything is sent; the file is sparse).
    @Test func aFixedPartSizeNeedingOver10000PartsIsAnError() throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/big"
        let fd = open(path, O_CREAT | O_WRONLY, 0o644)
        #expect(ftruncate(fd, off_t(10_001 * (5 << 20))) == 0)
        close(fd)
        let client = S3Client(configuration: S3ClientConfiguration(
            endpoint: try S3Endpoint(url: "http://127.0.0.1:1"), region: "us-east-1", credentials: StaticCredentialsProvider(nil)))
        var storage = S3Storage(client: client, bucket: "b", partSize: 5 << 20)
        storage.partSizeIsFixed = true
        #expect(throws: S3Error.tooManyParts(location: "s3://b/k", size: 10_001 * (5 << 20), partSize: 5 << 20)) {
            try storage.put("k", contentsOfFile: path, condition: .always)
        }
        #expect(S3Error.tooManyParts(location: "", size: 10_001 * (5 << 20), partSize: 5 << 20).hint?
            .contains("multipart_chunksize") == true)
    }
}
