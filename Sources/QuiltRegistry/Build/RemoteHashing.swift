// S3 objects' hashes for a build: from S3's own SHA-256 checksums where they determine the sha2-256-chunked value
// (no byte read), else read with ranged GETs, as quilt3 always does; and the tally of which it was.
import QuiltSupport
import QuiltFormat
import QuiltStorage
import QuiltAWS

/// How the hashes of S3 objects were found, for `--json` and `--verbose`: from S3's checksums, or by reading.
public struct S3HashStats: Sendable, Equatable {
    /// Objects whose hash S3's SHA-256 checksums gave, no byte read.
    public var fromChecksums = 0
    /// Objects read to be hashed.
    public var read = 0
    /// Bytes downloaded to hash them.
    public var bytesDownloaded = 0

    public init() {}

    public var objects: Int { fromChecksums + read }

    public static func + (a: S3HashStats, b: S3HashStats) -> S3HashStats {
        var sum = a
        sum.fromChecksums += b.fromChecksums
        sum.read += b.read
        sum.bytesDownloaded += b.bytesDownloaded
        return sum
    }
}

extension EntryHasher {
    struct RemoteObject: Sendable {
        var location: String
        var source: S3ObjectReference
        /// -1 until known.
        var size: Int
        var hash: ObjectHash?
    }

    /// Sizes and hashes of S3 objects. Checksum lookups and small objects run many at a time; an object read in
    /// several ranges is read alone, its ranges in parallel, so the threads in flight stay bounded.
    static func hashRemote(_ objects: [RemoteObject], remote: S3Transfers,
                           useS3Checksums: Bool) throws -> ([RemoteObject], S3HashStats) {
        let done = Locked(objects)
        let stats = Locked(S3HashStats())
        // One failed lookup (a store without GetObjectAttributes, or no permission for it) stops the others.
        let lookups = Locked(useS3Checksums)
        let readOne: @Sendable (Int) throws -> Void = { n in
            var object = done.withLock { $0[n] }
            object.hash = try remote.hashObject(object.source, size: object.size)
            stats.withLock {
                $0.read += 1
                $0.bytesDownloaded += object.size
            }
            done.withLock { $0[n] = object }
        }
        try TransferPool.run(count: objects.count, maxConcurrency: remote.concurrency) { n in
            var object = objects[n]
            if object.size < 0 {
                guard let head = try remote.client.headObject(bucket: object.source.bucket, key: object.source.key,
                                                              versionId: object.source.versionId) else {
                    throw StorageError.notFound(location: object.location)
                }
                object.size = head.size
            }
            if object.hash == nil, lookups.value {
                switch remote.hashFromChecksums(object.source, size: object.size) {
                case .hash(let hash):
                    object.hash = hash
                    stats.withLock { $0.fromChecksums += 1 }
                case .undetermined: break
                case .unavailable: lookups.withLock { $0 = false }
                }
            }
            done.withLock { $0[n] = object }
            if object.hash == nil && object.size < S3Transfers.multipartThreshold { try readOne(n) }
        }
        for n in objects.indices where done.withLock({ $0[n].hash == nil }) { try readOne(n) }
        return (done.value, stats.value)
    }
}
