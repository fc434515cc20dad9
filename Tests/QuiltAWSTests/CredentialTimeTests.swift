// Expiry times as the credential sources write them.
import Foundation
import Testing
@testable import QuiltAWS

@Suite struct CredentialTimeTests {
    @Test func expiryTimesInTheFormsCredentialSourcesWrite() {
        let t = Date(timeIntervalSince1970: 1_796_042_357)
        for text in ["2026-11-30T12:39:17+00:00", "2026-11-30T12:39:17Z", "2026-11-30T12:39:17UTC",
                     "2026-11-30T12:39:17", "2026-11-30 12:39:17+00:00", "2026-11-30T13:39:17+01:00"] {
            #expect(CredentialTime.parse(text) == t, "\(text)")
        }
        #expect(CredentialTime.parse("2026-11-30T12:39:17.250Z") == t.addingTimeInterval(0.25))
        #expect(CredentialTime.parse("yesterday") == nil)
    }

    /// The credential sources' documents are read with the same parser of times as the SSO cache and the catalog.
    @Test func credentialDocumentsTakeEveryFormOfExpiry() throws {
        let t = Date(timeIntervalSince1970: 1_893_553_445)
        for (text, expected) in [("2030-01-02T03:04:05Z", t), ("2030-01-02T03:04:05+00:00", t), ("2030-01-02T04:04:05+01:00", t),
                                 ("2030-01-02T03:04:05.250Z", t.addingTimeInterval(0.25)), ("2030-01-02 03:04:05UTC", t)] {
            let document = Array(#"{"AccessKeyId": "A", "SecretAccessKey": "S", "Expiration": "\#(text)"}"#.utf8)
            #expect(try DefaultCredentialsChain.parseCredentialsDocument(document, source: "test").expiration == expected, "\(text)")
        }
        // Unreadable: no expiry rather than a wrong one; a document that is not a JSON object is refused.
        let odd = Array(#"{"AccessKeyId": "A", "SecretAccessKey": "S", "Expiration": "soon", "Token": null}"#.utf8)
        let credentials = try DefaultCredentialsChain.parseCredentialsDocument(odd, source: "test")
        #expect(credentials.expiration == nil && credentials.sessionToken == nil)
        for bad in ["[1]", "{\"AccessKeyId\": 1, \"SecretAccessKey\": \"S\"}", "not json"] {
            #expect(throws: S3Error.credentialsUnavailable(source: "test", detail: "unexpected response")) {
                try DefaultCredentialsChain.parseCredentialsDocument(Array(bad.utf8), source: "test")
            }
        }
    }

    /// The times of S3 listings, read by hand, agree with Foundation's ISO 8601 reader.
    @Test func s3FormAgreesWithFoundation() throws {
        for text in ["1970-01-01T00:00:00.000Z", "2024-02-29T23:59:59.999Z", "2000-03-01T00:00:00Z",
                     "2023-12-31T12:34:56.5Z", "1999-12-31T23:59:59.000Z", "2104-07-09T01:02:03.004Z"] {
            let ours = try #require(CredentialTime.parseUTC(Array(text.utf8)), "\(text)")
            let theirs = try #require(CredentialTime.parse(text)).timeIntervalSince1970
            #expect(abs(ours - theirs) < 0.001, "\(text): \(ours) vs \(theirs)")
            #expect(CredentialTime.seconds(text) == ours)
        }
    }

    @Test func otherFormsGoToTheGeneralReader() {
        #expect(CredentialTime.parseUTC(Array("2024-05-01T12:34:56+02:00".utf8)) == nil)
        #expect(CredentialTime.seconds("2024-05-01T12:34:56+02:00") == 1_714_559_696)
        #expect(CredentialTime.seconds("yesterday") == nil)
        #expect(CredentialTime.parseUTC(Array("2024-13-01T00:00:00Z".utf8)) == nil)
        #expect(CredentialTime.parseUTC(Array("2024-01-01T00:00:00.Z".utf8)) == nil)
    }
}
