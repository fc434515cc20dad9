// STS as both of its callers reach it (AssumeRole for a profile's role, GetCallerIdentity for whoami): one signed
// form request, tried again like S3's, its refusals named by STS's error code. Served by a stub on 127.0.0.1.
import Foundation
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltHTTP
@testable import QuiltAWS

/// A stub STS whose first `failures` answers are `failure` (0 drops the connection), then `answer`.
private func stubSTS(failures: Int, failure: Int = 503, answer: (Int, String)) throws -> TinyHTTPServer {
    let seen = Locked(0)
    return try TinyHTTPServer { method, path, _ in
        guard method == "POST", path == "/" else { return (404, "") }
        let number = seen.withLock { count -> Int in count += 1; return count }
        return number <= failures ? (failure, "") : answer
    }
}

@Suite struct STSTests {
    let dir = TemporaryDirectory()

    /// A profile that assumes a role with the keys of another, STS at `port`.
    private func roleEnvironment(port: Int) -> [String: String] {
        dir.file("config", """
            [profile src]
            aws_access_key_id = AKIDSOURCE
            aws_secret_access_key = SOURCESECRET
            [profile role]
            role_arn = arn:aws:iam::123456789012:role/r
            source_profile = src
            role_session_name = quilt-test
            """)
        return ["HOME": dir.path, "AWS_CONFIG_FILE": dir.path + "/config", "AWS_SHARED_CREDENTIALS_FILE": dir.path + "/none",
                "AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "role", "AWS_REGION": "eu-west-1",
                "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:\(port)/"]
    }

    static let assumed = """
        <AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>\
        <AccessKeyId>ASIAROLE</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken>\
        <Expiration>2099-01-01T00:00:00.500Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>
        """

    @Test(arguments: [503, 0])
    func anAssumedRoleIsAskedForAgainAfterAFailure(failure: Int) throws {
        let server = try stubSTS(failures: 1, failure: failure, answer: (200, Self.assumed))
        defer { server.stop() }
        let credentials = try #require(try DefaultCredentialsChain(environment: roleEnvironment(port: server.port)).credentials())
        #expect(credentials.accessKeyId == "ASIAROLE" && credentials.sessionToken == "T")
        // The one ISO 8601 reader: fractional seconds and all.
        #expect(credentials.expiration == Date(timeIntervalSince1970: 4_070_908_800.5))
        #expect(server.requests == ["POST /", "POST /"])
    }

    @Test func aRefusedRoleNamesSTSsCodeAndIsNotAskedAgain() throws {
        let refusal = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code></Error></ErrorResponse>"
        let server = try stubSTS(failures: 0, answer: (403, refusal))
        defer { server.stop() }
        #expect(throws: S3Error.credentialsUnavailable(source: "STS AssumeRole of arn:aws:iam::123456789012:role/r",
                                                       detail: "AccessDenied")) {
            try DefaultCredentialsChain(environment: roleEnvironment(port: server.port)).credentials()
        }
        #expect(server.requests.count == 1)
    }

    @Test func callerIdentityIsAskedForAgainAfterAFailureAndARefusalIsNamed() throws {
        let identity = """
            <GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/u</Arn>\
            <UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>
            """
        let server = try stubSTS(failures: 1, answer: (200, identity))
        defer { server.stop() }
        let keys = AWSCredentials(accessKeyId: "AKID", secretAccessKey: "SECRET")
        let environment = ["HOME": dir.path, "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:\(server.port)"]
        let pauses = Locked(0)
        let retry = RetryPolicy(maxAttempts: 3, pause: { _ in pauses.withLock { $0 += 1 } })
        let found = try CallerIdentity.fetch(credentials: keys, region: "us-east-1", environment: environment, retry: retry)
        #expect(found == CallerIdentity(account: "123456789012", arn: "arn:aws:iam::123456789012:user/u", userId: "AIDA"))
        #expect(server.requests.count == 2 && pauses.value == 1)

        // Some implementations nest the error twice (ErrorResponse/Errors/Error).
        let refused = try stubSTS(failures: 0, answer: (403, "<ErrorResponse><Errors><Error><Code>InvalidClientTokenId</Code></Error></Errors></ErrorResponse>"))
        defer { refused.stop() }
        #expect(throws: S3Error.identityUnknown(detail: "STS refused the credentials: InvalidClientTokenId")) {
            try CallerIdentity.fetch(credentials: keys, region: "us-east-1",
                                     environment: ["HOME": dir.path, "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:\(refused.port)"],
                                     retry: retry)
        }
        #expect(refused.requests.count == 1)
    }
}
