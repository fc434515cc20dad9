// SigV4 against the example vectors AWS publishes in the S3 and IAM documentation.
import Testing
@testable import QuiltSupport
@testable import QuiltHTTP
@testable import QuiltStorage
@testable import QuiltAWS

@Suite struct SigV4Tests {
    let credentials = AWSCredentials(
        accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    let timestamp = SigV4Signer.Timestamp(amzDate: "20130524T000000Z")
    let signer = SigV4Signer(region: "us-east-1")

    private func signature(_ authorization: String) -> String {
        String(authorization.split(separator: "=").last ?? "")
    }

    @Test func getObjectExample() {
        // "Example: GET Object" in the S3 SigV4 header-authentication documentation.
        let headers: [(name: String, value: String)] = [
            ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
            ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash), ("x-amz-date", "20130524T000000Z"),
        ]
        let (canonical, signed) = signer.canonicalRequest(
            method: "GET", path: "/test.txt", query: [], headers: headers, payloadHash: SigV4Signer.emptyPayloadHash)
        #expect(signed == "host;range;x-amz-content-sha256;x-amz-date")
        #expect(
            canonical == """
                GET
                /test.txt

                host:examplebucket.s3.amazonaws.com
                range:bytes=0-9
                x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                x-amz-date:20130524T000000Z

                host;range;x-amz-content-sha256;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """)
        #expect(
            signer.stringToSign(canonicalRequest: canonical, timestamp: timestamp) == """
                AWS4-HMAC-SHA256
                20130524T000000Z
                20130524/us-east-1/s3/aws4_request
                7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
                """)
        let authorization = signer.authorizationHeader(
            method: "GET", path: "/test.txt", query: [], headers: headers, payloadHash: SigV4Signer.emptyPayloadHash,
            credentials: credentials, timestamp: timestamp)
        #expect(
            authorization
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func putObjectExample() {
        // "Example: PUT Object": a `$` in the key is encoded, and the payload is hashed.
        let payloadHash = S3Crypto.hex(S3Crypto.sha256("Welcome to Amazon S3."))
        #expect(payloadHash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let headers: [(name: String, value: String)] = [
            ("Host", "examplebucket.s3.amazonaws.com"), ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("x-amz-date", "20130524T000000Z"), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", payloadHash),
        ]
        let path = "/" + PercentEncoding.encode("test$file.text", keepSlash: true)
        #expect(path == "/test%24file.text")
        let authorization = signer.authorizationHeader(
            method: "PUT", path: path, query: [], headers: headers, payloadHash: payloadHash, credentials: credentials,
            timestamp: timestamp)
        #expect(authorization.contains("SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"))
        #expect(signature(authorization) == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test func getBucketLifecycleExample() {
        // "Example: GET Bucket Lifecycle": a query parameter with no value signs as `lifecycle=`.
        let headers: [(name: String, value: String)] = [
            ("Host", "examplebucket.s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"),
            ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash),
        ]
        let authorization = signer.authorizationHeader(
            method: "GET", path: "/", query: [("lifecycle", "")], headers: headers,
            payloadHash: SigV4Signer.emptyPayloadHash, credentials: credentials, timestamp: timestamp)
        #expect(signature(authorization) == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test func listObjectsExample() {
        // "Example: Get Bucket (List Objects)": query parameters are sorted by name.
        let headers: [(name: String, value: String)] = [
            ("Host", "examplebucket.s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"),
            ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash),
        ]
        let (canonical, _) = signer.canonicalRequest(
            method: "GET", path: "/", query: [("prefix", "J"), ("max-keys", "2")], headers: headers,
            payloadHash: SigV4Signer.emptyPayloadHash)
        #expect(canonical.split(separator: "\n", omittingEmptySubsequences: false)[2] == "max-keys=2&prefix=J")
        let authorization = signer.authorizationHeader(
            method: "GET", path: "/", query: [("prefix", "J"), ("max-keys", "2")], headers: headers,
            payloadHash: SigV4Signer.emptyPayloadHash, credentials: credentials, timestamp: timestamp)
        #expect(signature(authorization) == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test func signingKeyExample() {
        // The derived-key example of the general SigV4 documentation (IAM, 2015-08-30).
        let key = SigV4Signer(region: "us-east-1", service: "iam")
            .signingKey(secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", date: "20150830")
        #expect(S3Crypto.hex(key) == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9")
    }

    @Test func signAddsSessionTokenAndDate() {
        var headers: [(name: String, value: String)] = [("host", "b.s3.us-east-1.amazonaws.com")]
        let temporary = AWSCredentials(accessKeyId: "AKID", secretAccessKey: "SEKRIT", sessionToken: "TOKEN")
        signer.sign(
            method: "GET", path: "/k", query: [], headers: &headers, payloadHash: SigV4Signer.emptyPayloadHash,
            credentials: temporary, timestamp: timestamp)
        let names = headers.map(\.name)
        #expect(names == ["host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "Authorization"])
        let authorization = headers.last?.value ?? ""
        #expect(authorization.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"))
        #expect(!temporary.description.contains("SEKRIT") && !temporary.description.contains("TOKEN"))
    }

    @Test func headerValuesAreTrimmedAndCollapsed() {
        #expect(SigV4Signer.normalizeHeaderValue("  a   b  c ") == "a b c")
    }

    @Test func uriEncoding() {
        #expect(PercentEncoding.encode("a b/c+d%é~_.-", keepSlash: true) == "a%20b/c%2Bd%25%C3%A9~_.-")
        #expect(PercentEncoding.encode("a/b") == "a%2Fb")
        #expect(PercentEncoding.decode("a%20b%2Bc+d", plusIsSpace: true) == "a b+c d")
        #expect(PercentEncoding.decode("100%", plusIsSpace: false) == "100%")
    }

    @Test func base64RoundTrip() {
        for length in 0..<8 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + 200) }
            #expect(S3Crypto.base64Decode(S3Crypto.base64(bytes)) == bytes)
        }
        #expect(S3Crypto.base64(Array("Hello, World!".utf8)) == "SGVsbG8sIFdvcmxkIQ==")
        #expect(S3Crypto.base64Decode("not base64!") == nil)
    }
}
