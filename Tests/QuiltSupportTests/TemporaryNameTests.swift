// Temporary names of atomic writes fit NAME_MAX whatever the final name (issue 26): a file of 244 to 255 bytes
// can be written, as quilt3 installs it.
import Testing
import QuiltTestSupport
@testable import QuiltSupport

@Suite struct TemporaryNameTests {
    @Test func aTemporaryNameFitsWhateverTheFinalName() throws {
        let dir = TemporaryDirectory()
        for name in ["a", String(repeating: "n", count: 243), String(repeating: "n", count: 244), String(repeating: "x", count: 255),
                     String(repeating: "é", count: 127), String(repeating: "👍", count: 63)] {
            let prefix = AtomicFileWriter.temporaryPrefix(for: name)
            #expect(prefix.utf8.count + 6 <= 255, "\(prefix.utf8.count)")
            #expect(prefix.hasPrefix(".") && prefix.hasSuffix(".tmp-"))
            let writer = try AtomicFileWriter(destination: dir.path + "/" + name)
            try writer.write(Array("x".utf8))
            try writer.commit()
            #expect(FileSystem.kind(ofPath: dir.path + "/" + name) == .regular(size: 1))
        }
        // Two long names sharing their first 226 bytes get different temporary names.
        let shared = String(repeating: "s", count: 240)
        #expect(AtomicFileWriter.temporaryPrefix(for: shared + "1") != AtomicFileWriter.temporaryPrefix(for: shared + "2"))
    }
}
