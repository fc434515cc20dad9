// SSO sign-ins that must be renewed, and the credential sources named in the chain's order.
import Foundation
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltAWS

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
        let error = try #require(throws: S3Error.self) { try DefaultCredentialsChain(environment: environment(profile: "dev")).resolve() }
        #expect(error.message.hasPrefix("cannot get AWS credentials from the SSO portal: "))
        #expect(!error.message.contains("tok"))
    }

    @Test func thePortalIsAskedAgainAfterAFailure() throws {
        cache("corp", expires: "2099-01-01T00:00:00Z")
        let seen = Locked(0)
        let portal = try TinyHTTPServer { _, path, headers in
            guard path.hasPrefix("/federation/credentials?account_id=111122223333&role_name=Reader"),
                  headers["x-amz-sso_bearer_token"] == "tok" else { return (404, "") }
            seen.withLock { $0 += 1 }
            return seen.value == 1 ? (500, "") : (200, """
                {"roleCredentials": {"accessKeyId": "ASIASSO", "secretAccessKey": "S", "sessionToken": "T",
                 "expiration": 4070908800000}}
                """)
        }
        defer { portal.stop() }
        var environment = environment(profile: "dev")
        environment["AWS_ENDPOINT_URL_SSO"] = "http://127.0.0.1:\(portal.port)"
        let credentials = try #require(try DefaultCredentialsChain(environment: environment).resolve())
        #expect(credentials.accessKeyId == "ASIASSO" && credentials.sessionToken == "T")
        #expect(credentials.expiration == Date(timeIntervalSince1970: 4_070_908_800))
        #expect(portal.requests.count == 2)
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
