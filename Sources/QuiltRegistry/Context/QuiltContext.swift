// What every operation needs from its surroundings, read once at the entry point: the environment, quilt3's
// configuration, the settings derived from both, and one S3 client for the whole process (so connections and
// credentials are shared). Nothing below this layer reads the environment itself.
import QuiltSupport
import QuiltFormat
import QuiltStorage
import QuiltAWS
import QuiltCatalog

public struct QuiltContext: Sendable {
    public let environment: [String: String]
    public let config: QuiltConfig
    /// Where `--verbose` sends one line per S3 request; nil when not verbose.
    public let requestLog: (@Sendable (String) -> Void)?
    /// `QUILT_TRANSFER_MAX_CONCURRENCY`, else config.yml's `max_pool_connections`: transfers in flight at once
    /// (default 10, as in quilt3).
    public let transferConcurrency: Int
    /// `QUILT_MANIFEST_MAX_RECORD_SIZE`: the longest manifest line written (default 1,000,000 bytes).
    public let manifestMaxRecordSize: Int
    /// `TMPDIR`, else `/tmp`: where manifests bound for S3 are staged.
    public let temporaryDirectory: String
    private let s3Box = Locked<S3Client?>(nil)

    public init(environment: [String: String], requestLog: (@Sendable (String) -> Void)? = nil) throws {
        self.environment = environment
        self.config = try QuiltConfig(environment: environment)
        self.requestLog = requestLog
        transferConcurrency = environment["QUILT_TRANSFER_MAX_CONCURRENCY"].flatMap { Int($0) }.map { max(1, $0) }
            ?? (try? config.settings())?.maxPoolConnections ?? 10
        manifestMaxRecordSize = environment["QUILT_MANIFEST_MAX_RECORD_SIZE"].flatMap { Int($0) }
            ?? ManifestWriter.defaultMaxRecordSize
        temporaryDirectory = nonEmpty(environment["TMPDIR"]) ?? "/tmp"
    }

    /// The S3 client, created on first use from the environment (credentials, region, endpoint).
    public func s3Client() throws -> S3Client {
        try s3Box.withLock { client in
            if let client { return client }
            // quilt3's precedence: credentials from a catalog sign-in replace the whole AWS chain.
            var configuration = try S3ClientConfiguration.resolve(
                environment: environment, credentials: try catalogCredentials(),
                timeout: try config.settings().requestsTimeout, connections: transferConcurrency)
            configuration.requestLog = requestLog
            let created = S3Client(configuration: configuration)
            client = created
            return created
        }
    }

    /// Data transfers to, from and within S3 with this process's client and concurrency.
    public func transfers() throws -> S3Transfers {
        S3Transfers(client: try s3Client(), concurrency: transferConcurrency)
    }

    /// Where installs and fetches read bytes: local files directly, S3 through a client made only when an S3
    /// object is actually read.
    public var blobSource: any BlobSource { ContextBlobSource(context: self) }

    /// Writes manifests under this context's record-size limit.
    public var manifestWriter: ManifestWriter { ManifestWriter(maxRecordSize: manifestMaxRecordSize) }

    /// The registry named by `text`, else the default local registry (quilt3's `default_local_registry`).
    public func registry(_ text: String?) throws -> Registry {
        try registry(RegistryLocation(text ?? config.defaultLocalRegistry))
    }

    public func registry(_ location: RegistryLocation) throws -> Registry {
        switch location {
        case .local(let path):
            return Registry(storage: LocalStorage(root: path), writer: manifestWriter)
        case .s3(let bucket, let prefix):
            let settings = try config.settings()
            let chosenPartSize = Self.byteSize(environment["QUILT_MULTIPART_PART_SIZE"]) ?? settings.multipartChunksize
            var storage = S3Storage(
                client: try s3Client(), bucket: bucket, prefix: prefix,
                multipartThreshold: Self.byteSize(environment["QUILT_MULTIPART_THRESHOLD"]) ?? settings.multipartThreshold
                    ?? 64 << 20,
                partSize: chosenPartSize ?? 16 << 20, temporaryDirectory: temporaryDirectory)
            storage.partSizeIsFixed = chosenPartSize != nil
            return Registry(storage: storage, writer: manifestWriter)
        }
    }

    /// The local registry (where installs are recorded and `push` finds local revisions).
    public func localRegistry() throws -> Registry {
        try registry(RegistryLocation(config.defaultLocalRegistry))
    }

    /// `1048576`, `64K`, `16M`, `1G` (binary units).
    static func byteSize(_ text: String?) -> Int? {
        guard var text = text?.trimmingWhitespace.uppercased(), !text.isEmpty else { return nil }
        var unit = 1
        if text.hasSuffix("IB") { text.removeLast(2) } else if text.hasSuffix("B") { text.removeLast() }
        switch text.last {
        case "K": unit = 1 << 10
        case "M": unit = 1 << 20
        case "G": unit = 1 << 30
        default: break
        }
        if unit > 1 { text.removeLast() }
        return Int(text).map { $0 * unit }
    }
}

/// S3 as a blob source, with the process's S3 client created only when an S3 object is actually read.
struct ContextBlobSource: BlobSource {
    let context: QuiltContext

    func fetch(_ key: PhysicalKey, size: Int, into writer: AtomicFileWriter) throws -> ObjectHash? {
        guard case .s3 = key else { return try LocalBlobSource().fetch(key, size: size, into: writer) }
        return try S3BlobSource(transfers: context.transfers()).fetch(key, size: size, into: writer)
    }
}
