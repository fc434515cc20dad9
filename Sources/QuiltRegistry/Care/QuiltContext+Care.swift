// quilt fsck and quilt gc as one call each, with this process's S3 client, concurrency and data directory.
import QuiltSupport

extension QuiltContext {
    /// Where fsck keeps its checkpoints: `<data dir>/fsck/`, one directory per registry.
    public var checkpointRoot: String { config.paths.dataDirectory + "/fsck" }

    /// A check of `registry` (quilt fsck): objects looked up `transferConcurrency` at a time, S3's checksums used
    /// as a build uses them.
    public func registryCheck(_ registry: Registry, options: CheckOptions) throws -> RegistryCheck {
        try RegistryCheck(registry: registry, options: options, remote: { [self] in try transfers() },
                          useS3Checksums: useS3Checksums, concurrency: transferConcurrency, checkpointRoot: checkpointRoot)
    }
}
