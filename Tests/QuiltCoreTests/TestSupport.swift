// Helpers for tests that need files: a fresh temporary directory per test.
import Foundation
@testable import QuiltSupport
@testable import QuiltFormat
@testable import QuiltHTTP
@testable import QuiltStorage
@testable import QuiltAWS
@testable import QuiltRegistry

/// A temporary directory, removed when the value goes away.
final class TemporaryDirectory {
    let path: String

    init() {
        let base = FileManager.default.temporaryDirectory.path
        path = base + "/quilt-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `text` at `relative`, creating directories.
    @discardableResult
    func file(_ relative: String, _ text: String = "") -> String {
        let full = path + "/" + relative
        try! FileSystem.writeAtomically(Array(text.utf8), to: full)
        return full
    }
}
