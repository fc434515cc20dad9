// A catalog's words about a refused code never carry the code (issue 26): it may quote what it was sent.
import Testing
@testable import QuiltCatalog

@Suite struct CatalogSecretTests {
    @Test func theCodeSentIsTakenOutOfWhatTheCatalogSays() {
        let code = "MY-ONE-TIME-CODE-123"
        #expect(CatalogSession.withoutSecret("invalid code MY-ONE-TIME-CODE-123", secret: code) == "invalid code <code>")
        #expect(CatalogSession.withoutSecret("INVALID CODE my-one-time-code-123!", secret: code) == "INVALID CODE <code>!")
        #expect(CatalogSession.withoutSecret("bad refresh_token=MY-ONE-TIME-CODE-123 and MY-ONE-TIME-CODE-123", secret: code)
                == "bad refresh_token=<code> and <code>")
        // A piece of it (cut, or otherwise changed) hides what the catalog said altogether.
        let partial = CatalogSession.withoutSecret("code ONE-TIME-CODE was wrong", secret: code)
        #expect(!partial.contains("ONE-TIME"))
        // Words that quote nothing of it stay as they are.
        #expect(CatalogSession.withoutSecret("Invalid code", secret: code) == "Invalid code")
        #expect(CatalogSession.withoutSecret("{\"detail\": \"expired\"}", secret: "stub-code-9f8e7d") == "{\"detail\": \"expired\"}")
    }
}
