// Remote-tracking records: what a push, install or pull last saw of a name in a registry.
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltRegistry

@Suite struct RemoteTrackingTests {
    @Test func aRecordIsOneFilePerRegistryAndNameHoldingTheHash() throws {
        let dir = TemporaryDirectory()
        let tracking = RemoteTracking(dataDirectory: dir.path)
        let hash = String(repeating: "ab", count: 32)
        #expect(tracking.revision(registry: "s3://team-bucket", name: "ns/p") == nil)
        try tracking.record(registry: "s3://team-bucket", name: "ns/p", topHash: hash)
        let path = tracking.path(registry: "s3://team-bucket", name: "ns/p")
        #expect(path == dir.path + "/remotes/s3%3A%2F%2Fteam-bucket/ns/p")
        #expect(try FileSystem.readFile(path) == Array((hash + "\n").utf8))
        #expect(tracking.revision(registry: "s3://team-bucket", name: "ns/p") == hash)
        // Registries and names are kept apart: a prefix is part of the registry's name, not of the package's.
        #expect(tracking.revision(registry: "s3://team-bucket/ns", name: "ns/p") == nil)
        #expect(tracking.revision(registry: "s3://team-bucket", name: "ns/q") == nil)
    }

    @Test func anUnreadableRecordIsNoRecord() throws {
        let dir = TemporaryDirectory()
        let tracking = RemoteTracking(dataDirectory: dir.path)
        let path = tracking.path(registry: "s3://b-b-b", name: "ns/p")
        try FileSystem.makeDirectories(FileSystem.parent(of: path))
        try FileSystem.writeAtomically(Array("not a hash\n".utf8), to: path)
        #expect(tracking.revision(registry: "s3://b-b-b", name: "ns/p") == nil)
        #expect(throws: (any Error).self) { try tracking.record(registry: "s3://b-b-b", name: "bad", topHash: "x") }
    }
}
