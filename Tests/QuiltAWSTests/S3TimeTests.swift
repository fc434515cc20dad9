// The times of S3 listings, read by hand, agree with Foundation's ISO 8601 reader.
import Foundation
import Testing
@testable import QuiltAWS

@Suite struct S3TimeTests {
    @Test func s3FormAgreesWithFoundation() throws {
        for text in ["1970-01-01T00:00:00.000Z", "2024-02-29T23:59:59.999Z", "2000-03-01T00:00:00Z",
                     "2023-12-31T12:34:56.5Z", "1999-12-31T23:59:59.000Z", "2104-07-09T01:02:03.004Z"] {
            let ours = try #require(S3Time.parseUTC(Array(text.utf8)), "\(text)")
            let theirs = try #require(CredentialTime.parse(text)).timeIntervalSince1970
            #expect(abs(ours - theirs) < 0.001, "\(text): \(ours) vs \(theirs)")
        }
    }

    @Test func otherFormsGoToTheGeneralReader() {
        #expect(S3Time.parseUTC(Array("2024-05-01T12:34:56+02:00".utf8)) == nil)
        #expect(S3Time.parse("2024-05-01T12:34:56+02:00") == 1_714_559_696)
        #expect(S3Time.parse("yesterday") == nil)
        #expect(S3Time.parseUTC(Array("2024-13-01T00:00:00Z".utf8)) == nil)
    }
}
