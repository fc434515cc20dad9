// Container and EC2 instance-metadata credentials, served by a tiny local HTTP server.
import Foundation
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltHTTP
@testable import QuiltStorage
@testable import QuiltAWS

@Suite struct MetadataCredentialsTests {
    static let document = #"{"AccessKeyId":"ASIAMETA","SecretAccessKey":"S","Token":"TOK","Expiration":"2099-01-01T00:00:00Z"}"#

    @Test func containerCredentialsWithAuthorizationToken() throws {
        let server = try TinyHTTPServer { method, path, headers in
            guard method == "GET", path == "/creds", headers["authorization"] == "secret-token" else { return (401, "") }
            return (200, Self.document)
        }
        defer { server.stop() }
        let environment = [
            "HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:\(server.port)/creds",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "secret-token",
        ]
        let credentials = try #require(try DefaultCredentialsChain(environment: environment).credentials())
        #expect(credentials.accessKeyId == "ASIAMETA" && credentials.sessionToken == "TOK")
        #expect(credentials.expiration != nil)
    }

    @Test func instanceMetadataV2TokenThenRoleThenCredentials() throws {
        let server = try TinyHTTPServer { method, path, headers in
            switch (method, path) {
            case ("PUT", "/latest/api/token"):
                return headers["x-aws-ec2-metadata-token-ttl-seconds"] != nil ? (200, "IMDSTOKEN") : (400, "")
            case ("GET", "/latest/meta-data/iam/security-credentials/"):
                return headers["x-aws-ec2-metadata-token"] == "IMDSTOKEN" ? (200, "my-role\n") : (401, "")
            case ("GET", "/latest/meta-data/iam/security-credentials/my-role"):
                return headers["x-aws-ec2-metadata-token"] == "IMDSTOKEN" ? (200, Self.document) : (401, "")
            default: return (404, "")
            }
        }
        defer { server.stop() }
        let environment = ["HOME": "/nonexistent", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(server.port)/"]
        let chain = DefaultCredentialsChain(environment: environment)
        #expect(try chain.credentials()?.accessKeyId == "ASIAMETA")
        #expect(
            server.requests == [
                "PUT /latest/api/token", "GET /latest/meta-data/iam/security-credentials/",
                "GET /latest/meta-data/iam/security-credentials/my-role",
            ])
        // Cached: no second round of requests while the credentials are far from expiring.
        _ = try chain.credentials()
        #expect(server.requests.count == 3)
    }

    @Test func expiringCredentialsAreRefreshed() throws {
        let soon = ISO8601DateFormatter().string(from: Date().addingTimeInterval(60))
        let server = try TinyHTTPServer { _, _, _ in
            (200, #"{"AccessKeyId":"A","SecretAccessKey":"S","Token":"T","Expiration":"\#(soon)"}"#)
        }
        defer { server.stop() }
        let environment = [
            "HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:\(server.port)/creds",
        ]
        let chain = DefaultCredentialsChain(environment: environment, refreshMargin: 300)
        _ = try chain.credentials()
        _ = try chain.credentials()
        // Within the refresh margin every use fetches again.
        #expect(server.requests.count == 2)
    }

    @Test func containerCredentialsAreAskedForAgainAfterAFailure() throws {
        let seen = Locked(0)
        let server = try TinyHTTPServer { _, _, _ in
            seen.withLock { $0 += 1 }
            return seen.value == 1 ? (503, "") : (200, Self.document)
        }
        defer { server.stop() }
        let environment = [
            "HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:\(server.port)/creds",
        ]
        #expect(try DefaultCredentialsChain(environment: environment).credentials()?.accessKeyId == "ASIAMETA")
        #expect(server.requests == ["GET /creds", "GET /creds"])
    }

    /// Off EC2 every try of the metadata service waits out its connect timeout: tried once, as botocore does,
    /// unless AWS_METADATA_SERVICE_NUM_ATTEMPTS asks for more.
    @Test func instanceMetadataIsTriedAsOftenAsTheSettingsSay() throws {
        let dropped = Locked(0)
        let server = try TinyHTTPServer { method, path, _ in
            switch (method, path) {
            case ("PUT", "/latest/api/token"):
                dropped.withLock { $0 += 1 }
                return dropped.value <= 2 ? (0, "") : (200, "IMDSTOKEN")
            case ("GET", "/latest/meta-data/iam/security-credentials/"): return (200, "my-role\n")
            case ("GET", "/latest/meta-data/iam/security-credentials/my-role"): return (200, Self.document)
            default: return (404, "")
            }
        }
        defer { server.stop() }
        let environment = ["HOME": "/nonexistent", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(server.port)"]
        #expect(try DefaultCredentialsChain(environment: environment).credentials() == nil)
        #expect(server.requests == ["PUT /latest/api/token"])
        var twice = environment
        twice["AWS_METADATA_SERVICE_NUM_ATTEMPTS"] = "2"
        #expect(try DefaultCredentialsChain(environment: twice).credentials()?.accessKeyId == "ASIAMETA")
        #expect(server.requests.count == 5)
        #expect(throws: SettingError(name: "AWS_METADATA_SERVICE_NUM_ATTEMPTS", value: "many", reason: "not a whole number")) {
            try S3ClientConfiguration.resolve(environment: ["HOME": "/nonexistent", "AWS_METADATA_SERVICE_NUM_ATTEMPTS": "many"])
        }
        #expect(try S3Tuning(environment: [:]).metadataAttempts(profile: ["metadata_service_num_attempts": "3"]) == 3)
        #expect(try S3Tuning(environment: [:]).metadataAttempts(profile: [:]) == 1)
    }
}
