// Hashing entries: local files on all cores (big files' parts in parallel), S3 objects from their checksums or
// their bytes (RemoteHashing.swift).
import QuiltSupport
import QuiltFormat
import QuiltStorage
import QuiltAWS
import Dispatch


/// Hashes entries' local files: small files spread over all cores, big files' parts hashed in parallel.
public enum EntryHasher {
    /// Computes every missing hash (and size): local files on all cores; S3 objects through `remote`, from S3's
    /// own SHA-256 checksums where they determine the value (`useS3Checksums`), else by reading them.
    /// With `localFiles` false, local files are left as they are (a push hashes them as it uploads them).
    @discardableResult
    public static func hashMissing(_ entries: inout [ManifestEntry], type: HashType = .sha2256Chunked,
                                   remote: S3Transfers? = nil, useS3Checksums: Bool = true, localFiles: Bool = true,
                                   chunkDigestsTo cache: ObjectCache? = nil,
                                   progress: ProgressHandler? = nil) throws -> S3HashStats {
        let pending = entries.indices.filter { entries[$0].hash == nil || entries[$0].size < 0 }
        guard !pending.isEmpty else { return S3HashStats() }
        var localIndices: [Int] = [], paths: [String] = [], remoteIndices: [Int] = []
        for i in pending {
            switch try PhysicalKey(url: entries[i].physicalKey) {
            case .local(let path):
                guard localFiles else { continue }
                localIndices.append(i)
                paths.append(path)
            case .s3:
                guard remote != nil else { throw BuildError.unsupportedPhysicalKey(entries[i].physicalKey) }
                remoteIndices.append(i)
            }
        }
        let results = try hashFiles(paths, type: type, chunkDigestsTo: cache, progress: progress)
        for (n, i) in localIndices.enumerated() {
            entries[i].hash = results[n].hash
            entries[i].size = results[n].size
        }
        guard let remote, !remoteIndices.isEmpty else { return S3HashStats() }
        let objects = try remoteIndices.map { i -> RemoteObject in
            guard case .s3(let bucket, let key, let versionId) = try PhysicalKey(url: entries[i].physicalKey) else {
                throw BuildError.unsupportedPhysicalKey(entries[i].physicalKey)
            }
            return RemoteObject(location: entries[i].physicalKey, source: S3ObjectReference(bucket: bucket, key: key, versionId: versionId),
                                size: entries[i].size, hash: entries[i].hash)
        }
        let (hashed, stats) = try hashRemote(objects, remote: remote, useS3Checksums: useS3Checksums)
        for (n, i) in remoteIndices.enumerated() {
            entries[i].size = hashed[n].size
            entries[i].hash = hashed[n].hash
        }
        return stats
    }

    /// Hashes `paths` (in parallel) and returns hash and size of each, in order, and the identity of the file
    /// that was read (which proves those bytes: the read ended with `checkUnchanged`).
    ///
    /// With `chunkDigestsTo`, the chunk digests of every sha2-256-chunked file of more than one chunk, which the
    /// hash is made of anyway, are kept there (`keepChunkDigests`): the first `quilt cat` of such an object then
    /// checks each chunk as it streams, one read of the object instead of two.
    public static func hashFiles(_ paths: [String], type: HashType = .sha2256Chunked, chunkDigestsTo cache: ObjectCache? = nil,
                                 progress: ProgressHandler? = nil) throws -> [(hash: ObjectHash, size: Int, identity: FileIdentity)] {
        let count = paths.count
        let results = UnsafeMutableBufferPointer<(hash: ObjectHash, size: Int, identity: FileIdentity)?>.allocate(capacity: count)
        results.initialize(repeating: nil)
        // The elements hold Strings: deinitialized before the memory goes, or every hash would leak.
        defer {
            _ = results.deinitialize()
            results.deallocate()
        }
        let shared = UnsafeSendable(results)
        let failure = Locked<BuildError?>(nil)
        let done = Locked<(files: Int, bytes: Int)>((0, 0))
        // Big files already use every core for their parts: they are put aside when opened and hashed one at a
        // time afterwards, the rest in parallel. Deciding at open time (fstat) saves a stat per file.
        let big = Locked<[Int]>([])
        let work: @Sendable (Int, Bool) -> Void = { i, bigPass in
            if failure.value != nil { return }
            do {
                // Hash and size come from one read of one version of the file: the size the walk saw is not used.
                let read = try InputFile.readStably(paths[i]) { file -> (hash: ObjectHash, size: Int, identity: FileIdentity)? in
                    if !bigPass && file.size > ChunkedHash.minimumChunkSize { return nil }
                    let keep = cache.map { cache in { (hash: ObjectHash, digests: [[UInt8]]) in cache.keepChunkDigests(digests, for: hash) } }
                    return (try FileHasher.hashUnchanged(file: file, type: type, keepChunkDigests: keep), file.size, file.identity)
                }
                guard let (hash, size, identity) = read else {
                    big.withLock { $0.append(i) }
                    return
                }
                shared.value[i] = (hash, size, identity)
                if let progress {
                    let snapshot = done.withLock { state -> (Int, Int) in
                        state.files += 1
                        state.bytes += size
                        return (state.files, state.bytes)
                    }
                    progress(Progress(filesDone: snapshot.0, filesTotal: count, bytesDone: snapshot.1, bytesTotal: 0))
                }
            } catch {
                failure.withLock { if $0 == nil { $0 = .unreadable(path: paths[i], reason: Self.reason(error)) } }
            }
        }
        DispatchQueue.concurrentPerform(iterations: count) { work($0, false) }
        for i in big.value.sorted() { work(i, true) }
        if let error = failure.value { throw error }
        return (0..<count).map { results[$0]! }
    }

    static func reason(_ error: any Error) -> String {
        switch error {
        case FileSystemError.notFound: return "no such file"
        case FileSystemError.notARegularFile: return "not a regular file"
        case FileSystemError.changedWhileRead: return "file changed while it was read"
        case FileSystemError.cannotOpen(_, let reason), FileSystemError.cannotRead(_, let reason): return reason
        case let error as QuiltError: return error.message
        default: return String(describing: error)
        }
    }
}
