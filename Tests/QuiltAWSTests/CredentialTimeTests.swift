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
}
