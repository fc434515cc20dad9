// Helpers for tests that need files: a fresh temporary directory per test.
import Foundation
import QuiltSupport

/// A temporary directory, removed when the value goes away.
public final class TemporaryDirectory {
    public let path: String

    public init() {
        let base = FileManager.default.temporaryDirectory.path
        path = base + "/quilt-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `text` at `relative`, creating directories.
    @discardableResult
    public func file(_ relative: String, _ text: String = "") -> String {
        let full = path + "/" + relative
        try! FileSystem.writeAtomically(Array(text.utf8), to: full)
        return full
    }
}
