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
    /// Where decisions are traced (`QUILT_TRACE`); nil when not tracing.
    public let trace: TraceHandler?
    /// `QUILT_TRANSFER_MAX_CONCURRENCY`, else config.yml's `max_pool_connections`: transfers in flight at once
    /// (default 10, as in quilt3).
    public let transferConcurrency: Int
    /// `QUILT_MANIFEST_MAX_RECORD_SIZE`: the longest manifest line written (default 1,000,000 bytes).
    public let manifestMaxRecordSize: Int
    /// `QUILT_MULTIPART_THRESHOLD`, `QUILT_MULTIPART_PART_SIZE`, else config.yml's `multipart_threshold` and
    /// `multipart_chunksize`: how registry metadata goes to S3 (defaults 64M and 16M; S3 takes parts of 5M to 5G).
    public let multipartThreshold: Int
    public let multipartPartSize: Int
    /// Whether the part size was chosen (environment or config.yml) rather than defaulted.
    public let multipartPartSizeIsChosen: Bool
    /// `QUILT_S3_*` timeouts and attempts, checked here so that a bad value is refused before any work.
    public let s3Tuning: S3Tuning
    /// The content-addressed object cache installs and fetches use; nil when `QUILT_DISABLE_CACHE` is `true`
    /// (quilt3's variable, compared as quilt3 does, without regard to case).
    public let objectCache: ObjectCache?
    /// `cache_max_size` from config.yml, checked here with the other settings.
    public let cacheMaxSize: Int?
    /// `TMPDIR`, else `/tmp`: where manifests bound for S3 are staged and big manifests' sorted runs go.
    public let temporaryDirectory: String
    /// `QUILT_MANIFEST_MEMORY_BUDGET` (bytes, or with K, M or G): the memory a manifest's entries may take while
    /// it is written or sorted before sorted runs go to disk (default 512 MiB).
    public let manifestMemoryBudget: Int
    /// `QUILT_S3_CHECKSUMS`: `use` (the default) takes an S3 object's hash from S3's own SHA-256 checksums where
    /// they determine it; `ignore` reads every byte, as quilt3 does.
    public let useS3Checksums: Bool
    private let s3Box = Locked<S3Client?>(nil)

    public init(environment: [String: String], requestLog: (@Sendable (String) -> Void)? = nil,
                trace: TraceHandler? = nil) throws {
        self.environment = environment
        // Every setting is read, and refused if it cannot be used, before the configuration file or any registry
        // is touched: a typo must not take effect as the default halfway through a push.
        let settings = Settings(environment)
        // nil when unset, so that config.yml's setting (read next) applies.
        func ifSet<T>(_ name: String, _ read: () throws -> T) rethrows -> T? {
            nonEmpty(environment[name]) == nil ? nil : try read()
        }
        let concurrency = try ifSet("QUILT_TRANSFER_MAX_CONCURRENCY") {
            try settings.integer("QUILT_TRANSFER_MAX_CONCURRENCY", default: 10, in: 1...Int.max)
        }
        manifestMaxRecordSize = try settings.integer("QUILT_MANIFEST_MAX_RECORD_SIZE",
                                                     default: ManifestWriter.defaultMaxRecordSize, in: 1...Int.max)
        manifestMemoryBudget = try settings.byteSize("QUILT_MANIFEST_MEMORY_BUDGET", default: EntrySpool.defaultMemoryBudget,
                                                     in: EntrySpool.minimumMemoryBudget...(1 << 40))
        let threshold = try ifSet("QUILT_MULTIPART_THRESHOLD") {
            try settings.byteSize("QUILT_MULTIPART_THRESHOLD", default: 64 << 20, in: (5 << 20)...(5 << 30))
        }
        let partSize = try ifSet("QUILT_MULTIPART_PART_SIZE") {
            try settings.byteSize("QUILT_MULTIPART_PART_SIZE", default: 16 << 20, in: (5 << 20)...(5 << 30))
        }
        s3Tuning = try S3Tuning(environment: environment)
        useS3Checksums = try settings.choice("QUILT_S3_CHECKSUMS", default: "use", among: ["use", "ignore"]) == "use"
        self.config = try QuiltConfig(environment: environment)
        // A setting of config.yml that is out of range is reported where it is used (registry, s3Client), so
        // that `quilt config` itself can still repair it.
        let fileSettings = try? config.settings()
        transferConcurrency = concurrency ?? fileSettings?.maxPoolConnections ?? 10
        multipartThreshold = threshold ?? fileSettings?.multipartThreshold ?? 64 << 20
        multipartPartSize = partSize ?? fileSettings?.multipartChunksize ?? 16 << 20
        multipartPartSizeIsChosen = partSize != nil || fileSettings?.multipartChunksize != nil
        self.requestLog = requestLog
        self.trace = trace
        cacheMaxSize = try config.cacheMaxSize
        objectCache = environment["QUILT_DISABLE_CACHE"]?.lowercased() == "true" ? nil : ObjectCache(paths: config.paths)
        temporaryDirectory = nonEmpty(environment["TMPDIR"]) ?? "/tmp"
    }

    /// The S3 client, created on first use from the environment (credentials, region, endpoint).
    public func s3Client() throws -> S3Client {
        try s3Box.withLock { client in
            if let client { return client }
            // quilt3's precedence: credentials from a catalog sign-in replace the whole AWS chain.
            var configuration = try S3ClientConfiguration.resolve(
                environment: environment, tuning: s3Tuning, credentials: try catalogCredentials(),
                timeout: try config.settings().requestsTimeout, connections: transferConcurrency)
            configuration.requestLog = requestLog
            let created = S3Client(configuration: configuration)
            client = created
            return created
        }
    }

    /// Data transfers to, from and within S3 with this process's client and concurrency.
    public func transfers() throws -> S3Transfers {
        S3Transfers(client: try s3Client(), concurrency: transferConcurrency, trace: trace)
    }

    /// Where installs and fetches read bytes: local files directly, S3 through a client made only when an S3
    /// object is actually read.
    public var blobSource: any BlobSource { ContextBlobSource(context: self) }

    /// A spool for a manifest's entries, within this context's memory budget, spilling to `temporaryDirectory`.
    public func entrySpool(duplicates: EntrySpool.Duplicates = .refuse) -> EntrySpool {
        EntrySpool(memoryBudget: manifestMemoryBudget, temporaryDirectory: temporaryDirectory,
                   maxRecordSize: manifestMaxRecordSize, duplicates: duplicates)
    }

    /// Writes manifests under this context's record-size limit.
    public var manifestWriter: ManifestWriter { ManifestWriter(maxRecordSize: manifestMaxRecordSize) }

    /// The registry named by `text`, else the default local registry (quilt3's `default_local_registry`).
    public func registry(_ text: String?) throws -> Registry {
        let registry = try registry(RegistryLocation(text ?? config.defaultLocalRegistry))
        trace?("registry \(registry.url) (\(text == nil ? "default_local_registry" : "--registry"))")
        return registry
    }

    public func registry(_ location: RegistryLocation) throws -> Registry {
        switch location {
        case .local(let path):
            return Registry(storage: LocalStorage(root: path), writer: manifestWriter,
                            manifestMemoryBudget: manifestMemoryBudget, temporaryDirectory: temporaryDirectory)
        case .s3(let bucket, let prefix):
            _ = try config.settings()
            var storage = S3Storage(
                client: try s3Client(), bucket: bucket, prefix: prefix,
                multipartThreshold: multipartThreshold, partSize: multipartPartSize,
                temporaryDirectory: temporaryDirectory)
            storage.partSizeIsFixed = multipartPartSizeIsChosen
            return Registry(storage: storage, writer: manifestWriter,
                            manifestMemoryBudget: manifestMemoryBudget, temporaryDirectory: temporaryDirectory)
        }
    }

    /// The local registry (where installs are recorded and `push` finds local revisions).
    public func localRegistry() throws -> Registry {
        try registry(RegistryLocation(config.defaultLocalRegistry))
    }
}

/// S3 as a blob source, with the process's S3 client created only when an S3 object is actually read.
struct ContextBlobSource: BlobSource {
    let context: QuiltContext

    func fetch(_ key: PhysicalKey, size: Int, into writer: AtomicFileWriter) throws -> ObjectHash? {
        guard case .s3 = key else { return try LocalBlobSource().fetch(key, size: size, into: writer) }
        return try S3BlobSource(transfers: context.transfers()).fetch(key, size: size, into: writer)
    }

    func fetchBytes(_ key: PhysicalKey, size: Int) throws -> [UInt8]? {
        guard case .s3 = key else { return nil }
        return try S3BlobSource(transfers: context.transfers()).fetchBytes(key, size: size)
    }
}
