// One listing of a destination prefix, so uploads of many small files need not each ask with a HEAD.
import QuiltAWS

/// What a destination prefix already holds (key → size), listed once so that uploads of many small files need
/// not each ask with a HEAD whether identical content is already there.
public struct ExistingObjects: Sendable {
    let sizes: [String: Int]

    init(sizes: [String: Int]) { self.sizes = sizes }

    /// The listing of `prefix`, or nil when it cannot be had (a policy that grants writes but not
    /// `s3:ListBucket`): uploads then ask per file, as quilt3 does.
    public static func list(client: S3Client, bucket: String, prefix: String) -> ExistingObjects? {
        guard !prefix.isEmpty, let objects = try? client.listAllObjects(bucket: bucket, prefix: prefix) else { return nil }
        var sizes: [String: Int] = [:]
        for object in objects { sizes[object.key] = object.size }
        return ExistingObjects(sizes: sizes)
    }

    /// Whether an object of this size may be at `key` (worth a HEAD to compare checksums).
    func mayHold(_ key: String, size: Int) -> Bool { sizes[key] == size }
}
