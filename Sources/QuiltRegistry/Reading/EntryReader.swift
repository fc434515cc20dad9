// Reading one entry's bytes, every byte checked against the entry's hash before it is handed out: the core of
// `quilt cat`, and what the browser's previews and downloads (`quilt serve`) and the file system's lazy reads
// (`quilt mount`) stand on.
//
// A sha2-256-chunked object is checked a chunk at a time, so it streams: each chunk is hashed and compared with
// that chunk's digest before any of its bytes go out. The digests come from the first of: a record the object
// cache keeps for objects read whole before (ChunkDigestRecords.swift); S3's part checksums (GetObjectAttributes),
// where they are the chunked layout's; or the object itself, hashed whole on all cores first (a local file), or
// downloaded whole into the cache or a spool first (S3 with no usable checksums). Whatever their source, they are
// used only once they combine to the manifest's value. Chunks are then read (again) for output and each is checked
// against its digest, so a file that changed between the two reads is caught at the first chunk that differs;
// except a local file hashed under a read lease (ReadLease.swift): while the lease holds, the file is as it was
// hashed, so its chunks are handed out unhashed, and one read with no record costs one hash, not two.
// Other hash types (SHA256, CRC64NVME) cannot be checked in parts: the object is copied whole into a spool (memory,
// or a nameless file in TMPDIR past 8 MiB; the cache entry for an S3 object the cache takes) while it is hashed,
// and is handed out from there once it matched.
import Foundation
import QuiltSupport
import QuiltFormat
import QuiltAWS

/// Opens entries for verified reading. Cheap to make and to copy; holds no open file itself.
public struct EntryReader: Sendable {
    /// Read first for S3 objects, filled by whole reads of them as installs fill it; where chunk-digest records are
    /// kept. nil: none.
    public let cache: ObjectCache?
    /// Whether S3's part checksums may give a chunked object's chunk digests (`QUILT_S3_CHECKSUMS`).
    public let useS3Checksums: Bool
    /// Where objects that must be checked whole before any byte goes out are spooled past 8 MiB.
    public let temporaryDirectory: String
    /// Chunks of a local file hashed at once (default: every core).
    public let hashConcurrency: Int
    private let transfers: @Sendable () throws -> S3Transfers

    /// `transfers` is called only when an S3 object is read (so a local read never makes an S3 client).
    public init(cache: ObjectCache?, transfers: @escaping @Sendable () throws -> S3Transfers, useS3Checksums: Bool = true,
                temporaryDirectory: String = "/tmp", hashConcurrency: Int = Cores.online) {
        self.cache = cache
        self.transfers = transfers
        self.useS3Checksums = useS3Checksums
        self.temporaryDirectory = temporaryDirectory
        self.hashConcurrency = max(1, hashConcurrency)
    }

    /// Opens `entry` for reading: a `file://` key's file is opened now (and must be the entry's size); an S3
    /// key is read from the cache if it holds the object, else from S3. Nothing is checked yet.
    public func open(_ entry: ManifestEntry) throws -> EntryHandle {
        guard let hash = entry.hash else { throw ManifestError.missingHash(logicalKey: entry.logicalKey) }
        guard let type = hash.hashType else { throw HashError.unsupportedType(hash.type) }
        var origins: [EntryHandle.Origin] = []
        switch try PhysicalKey(url: entry.physicalKey) {
        case .local(let path):
            let file = try InputFile(path: path)
            guard file.size == entry.size else {
                throw ReadError.sizeMismatch(logicalKey: entry.logicalKey, expected: entry.size, actual: file.size)
            }
            origins.append(.local(file, cached: false))
        case .s3(let bucket, let key, let versionId):
            if let cached = cache?.open(hash, size: entry.size) { origins.append(.local(cached, cached: true)) }
            origins.append(.s3(S3ObjectReference(bucket: bucket, key: key, versionId: versionId)))
        }
        return EntryHandle(entry: entry, hash: hash, type: type, origins: origins, reader: self)
    }

    func s3() throws -> S3Transfers { try transfers() }
}

extension QuiltContext {
    /// The entry reader of this process: its object cache, S3 client and settings.
    public var entryReader: EntryReader {
        let context = self
        return EntryReader(cache: objectCache, transfers: { try context.transfers() }, useS3Checksums: useS3Checksums,
                           temporaryDirectory: temporaryDirectory)
    }
}

/// One entry open for reading. `read` may be called any number of times, for any ranges, from any thread: what the
/// first read learns (chunk digests, a verified spool) serves the later ones.
public final class EntryHandle: @unchecked Sendable {
    // Unchecked: `plan` is only touched under `lock`; the rest is immutable, or Locked.
    public let entry: ManifestEntry
    public var logicalKey: String { entry.logicalKey }
    public var size: Int { entry.size }

    /// Where bytes can come from, best first.
    enum Origin: Sendable {
        /// A local file: the entry's own (`file://`), the cache's copy (`cached`), or a spool of ours.
        case local(any PositionalFile, cached: Bool)
        case s3(S3ObjectReference)

        var isCached: Bool {
            if case .local(_, cached: true) = self { return true }
            return false
        }
    }

    /// What reading needs, settled by the first read.
    struct Plan: Sendable {
        var origins: [Origin]
        /// Each chunk's digest (sha2-256-chunked objects of more than one chunk).
        var digests: [[UInt8]]?
        /// The verified copy (other hash types).
        var spool: Spool?
        /// The local file `digests` were computed from, under a read lease taken before: while the lease holds,
        /// its chunks are those digests' bytes.
        var leased: InputFile?
    }

    private let hash: ObjectHash
    private let type: HashType
    private let reader: EntryReader
    private let chunkSize: Int
    private let chunkCount: Int
    private let lock = NSLock()
    private let origins: [Origin]
    private var plan: Plan?
    /// The cache's copy was found damaged (and removed): the chunks still to read come from S3.
    private let cacheFailed = Locked(false)
    /// The cache's partial entry of this object, made by the first read of part of it from S3 and shared by the
    /// later ones (the chunks they verified add up to the whole); .some(nil): the cache has none to give.
    private let partialEntry = Locked<PartialObject??>(nil)

    /// Spool in memory up to this size; past it, a nameless file in TMPDIR.
    static let memorySpoolLimit = 8 << 20
    /// Block size of whole-object copies of other hash types (the ranged GETs of `S3Transfers.download`).
    static let spoolBlock = S3Transfers.multipartThreshold

    init(entry: ManifestEntry, hash: ObjectHash, type: HashType, origins: [Origin], reader: EntryReader) {
        self.entry = entry
        self.hash = hash
        self.type = type
        self.origins = origins
        self.reader = reader
        chunkSize = ChunkedHash.chunkSize(forSize: entry.size)
        chunkCount = ChunkedHash.partCount(forSize: entry.size)
    }

    /// Hands the bytes of `range` (default: all of the entry) to `body` in order, in blocks, each block only once
    /// it has been checked. `body` is called one block at a time, on the calling thread; an error it throws
    /// ends the read and is rethrown as it is. A mismatch is `ReadError.hashMismatch` (or `.sizeMismatch`), thrown
    /// after the blocks before the damaged chunk were handed out and before any byte of it.
    public func read(_ range: Range<Int>? = nil, into body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let range = range ?? 0..<size
        guard range.lowerBound >= 0, range.upperBound <= size else {
            throw ReadError.rangeOutsideEntry(logicalKey: logicalKey, range: range, size: size)
        }
        // No byte to hand out needs no check, except of an empty entry, whose hash says what it is.
        if range.isEmpty && size > 0 { return }
        let plan = try prepared()
        if let spool = plan.spool {
            try spool.emit(range, body)
        } else if !range.isEmpty {
            try streamChunks(range, plan, body)
        }
    }

    /// The size of the chunks `readChunk` reads (the object's chunk size; the whole entry for one of one chunk).
    public var chunkLength: Int { chunkSize }

    /// Chunk `index` (of `chunkLength` bytes, the last one shorter), verified, read into `buffer`, which must be its
    /// size: for readers that keep chunks of their own (a mount's block cache), with no copy in between for a local
    /// file or the cache's copy. Throws as `read` does, with nothing of a damaged chunk left trusted in `buffer`.
    public func readChunk(_ index: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        let start = index * chunkSize
        guard index >= 0, index < max(chunkCount, 1), buffer.count == min(size, start + chunkSize) - start else {
            throw ReadError.rangeOutsideEntry(logicalKey: logicalKey, range: start..<start + buffer.count, size: size)
        }
        let bytes = start..<start + buffer.count
        let plan = try prepared()
        var filled = 0
        func copy(_ piece: UnsafeRawBufferPointer) {
            UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<filled + piece.count]).copyMemory(from: piece)
            filled += piece.count
        }
        // The verified spool of another hash type, or an object of one chunk (whose whole read from S3 fills the
        // cache): the ordinary read.
        if plan.spool != nil || chunkCount <= 1 { return try read(bytes, into: copy) }
        let remote = try remoteTransfers(plan)
        let partial = remote != nil ? partialObject() : nil
        // The pool goes unused: every local read goes into `buffer`.
        let block = try verifiedChunk(index, plan, remote, BufferPool(byteCount: 0), partial, into: buffer)
        if !block.isStored(in: buffer) { block.withBytes(copy) }
    }

    /// The bytes of `range` (default: all), verified, in memory: for small entries and previews.
    public func bytes(_ range: Range<Int>? = nil) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity((range ?? 0..<size).count)
        try read(range) { out.append(contentsOf: $0) }
        return out
    }

    // MARK: Settling what reading needs

    private func prepared() throws -> Plan {
        lock.lock()
        defer { lock.unlock() }
        if let plan { return plan }
        var plan = Plan(origins: origins)
        switch type {
        case .sha2256Chunked:
            if size == 0 {
                guard ChunkedHash.combine(partDigests: []) == hash.value else { throw wholeMismatch }
            } else if chunkCount > 1 {
                try resolveDigests(&plan)
            }
        case .sha256, .crc64nvme:
            try spoolVerified(&plan)
        }
        self.plan = plan
        return plan
    }

    private var wholeMismatch: ReadError {
        .hashMismatch(logicalKey: logicalKey, chunk: nil, chunks: chunkCount, bytes: nil)
    }

    /// The chunks' digests: the cache's record, else from the first origin that gives digests combining to the
    /// entry's hash (a cache copy that does not is removed, and the next origin tried).
    private func resolveDigests(_ plan: inout Plan) throws {
        if let recorded = reader.cache?.chunkDigests(for: hash, size: size) {
            plan.digests = recorded
            return
        }
        while let origin = plan.origins.first {
            switch origin {
            case .local(let file, let cached):
                let digests: [[UInt8]]
                // Taken before the file is first read, so that it covers every byte hashed.
                let leased = (file as? InputFile).flatMap { $0.takeReadLease() ? $0 : nil }
                do {
                    digests = try Self.chunkDigests(of: file, size: size)
                } catch {
                    if cached { dropCache(&plan); continue }
                    throw localFailure(error)
                }
                guard ChunkedHash.combine(partDigests: digests) == hash.value else {
                    if cached { dropCache(&plan); continue }
                    throw wholeMismatch
                }
                plan.digests = digests
                plan.leased = leased
            case .s3(let source):
                let transfers = try reader.s3()
                if reader.useS3Checksums, case .digests(let digests) = transfers.partDigestsFromChecksums(source, size: size) {
                    // S3's checksums are the object's: ones that combine to another value say the object is not this.
                    guard ChunkedHash.combine(partDigests: digests) == hash.value else { throw wholeMismatch }
                    plan.digests = digests
                } else {
                    // Nothing tells the chunks apart: the object is downloaded whole (into the cache when it is on),
                    // checked, and read from there.
                    let whole = try download(source, transfers, blockSize: chunkSize, digests: true, hashing: nil)
                    guard ChunkedHash.combine(partDigests: whole.digests) == hash.value else { throw wholeMismatch }
                    plan.origins = [.local(try whole.writer.finish(keep: true).file!, cached: false)]
                    plan.digests = whole.digests
                }
            }
            reader.cache?.keepChunkDigests(plan.digests!, for: hash)
            return
        }
    }

    /// For other hash types: the whole object copied into a spool while hashed, and kept once it matched.
    private func spoolVerified(_ plan: inout Plan) throws {
        while let origin = plan.origins.first {
            let copied: Download
            switch origin {
            case .local(let file, let cached):
                do {
                    copied = try copy(file)
                } catch {
                    if cached { dropCache(&plan); continue }
                    throw localFailure(error)
                }
            case .s3(let source):
                copied = try download(source, try reader.s3(), blockSize: Self.spoolBlock, digests: false, hashing: type)
            }
            guard copied.hash?.value == hash.value else {
                if origin.isCached { dropCache(&plan); continue }
                throw wholeMismatch
            }
            plan.spool = try copied.writer.finish(keep: true)
            return
        }
    }

    /// The cache's copy is not the object: removed, and the next origin is read instead.
    private func dropCache(_ plan: inout Plan) {
        reader.cache?.remove(hash)
        plan.origins.removeAll { $0.isCached }
    }

    /// A local file that could not be read as far as the entry's size changed under the reader.
    private func localFailure(_ error: any Error) -> any Error {
        if case FileSystemError.changedWhileRead = error { return ReadError.changedWhileRead(logicalKey: logicalKey) }
        return error
    }

    static func chunkDigests(of file: any PositionalFile, size: Int) throws -> [[UInt8]] {
        if let input = file as? InputFile { return try FileHasher.chunkDigests(file: input) }
        // A spool: read in order (only S3 downloads spool chunked objects, and they know their digests already).
        let chunk = ChunkedHash.chunkSize(forSize: size)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buffer.deallocate() }
        return try stride(from: 0, to: size, by: chunk).map { start in
            let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(chunk, size - start)])
            try file.readFully(into: slice, at: start)
            return SHA256Hasher.digest(UnsafeRawBufferPointer(slice))
        }
    }

    // MARK: Streaming chunks

    /// Reads the chunks `range` touches, several at once, and hands each to `body` in order, on this thread, once
    /// it matched its digest. Local reads are hashed on every core while this thread writes; S3 reads are ranged
    /// GETs, as many at once as transfers may be.
    private func streamChunks(_ range: Range<Int>, _ plan: Plan,
                              _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let first = range.lowerBound / chunkSize, last = (range.upperBound - 1) / chunkSize
        let count = last - first + 1
        let remote = try remoteTransfers(plan)
        let concurrency = min(count, remote?.concurrency ?? reader.hashConcurrency)
        let pool = BufferPool(byteCount: chunkSize)
        // An S3 object read whole goes into the cache as it streams, kept once every chunk has matched.
        var fill = remote != nil && range == 0..<size ? reader.cache?.entryWriter(for: hash).map(SpoolWriter.init(cache:)) : nil
        // Part of one goes into the cache's partial entry a chunk at a time instead.
        let partial = remote != nil && fill == nil && plan.digests != nil ? partialObject() : nil
        let pipeline = OrderedPipeline(count: count, threads: concurrency, window: concurrency + 1) { n in
            try self.verifiedChunk(first + n, plan, remote, pool, partial)
        }
        defer { pipeline.stop() }
        var index = first
        while let block = try pipeline.next() {
            let start = index * chunkSize
            let lower = max(range.lowerBound, start) - start, upper = min(range.upperBound, start + block.count) - start
            try block.withBytes { bytes in
                // The cache can make a read faster, never make it fail.
                if fill != nil, (try? fill!.append(bytes)) == nil { fill = nil }
                try body(UnsafeRawBufferPointer(rebasing: bytes[lower..<upper]))
            }
            index += 1
        }
        _ = try? fill?.finish(keep: true)
    }

    /// The S3 client, when chunks are to come from S3 (no local copy to read them from).
    private func remoteTransfers(_ plan: Plan) throws -> S3Transfers? {
        if case .s3 = plan.origins.first { return try reader.s3() }
        return nil
    }

    /// The cache's partial entry of this object (see `partialEntry`).
    private func partialObject() -> PartialObject? {
        partialEntry.withLock { entry in
            if entry == nil { entry = .some(reader.cache?.partialObject(for: hash, size: size)) }
            return entry!
        }
    }

    /// Chunk `index`, read from the first origin that gives it with its digest; a damaged cache copy gives way
    /// to S3 (and is removed), a damaged entry is a mismatch. Before S3, the partial entry is asked for the chunk;
    /// one fetched from S3 is kept there.
    /// With `target`, local reads go straight into it instead of a buffer of `pool`.
    private func verifiedChunk(_ index: Int, _ plan: Plan, _ remote: S3Transfers?, _ pool: BufferPool,
                               _ partial: PartialObject? = nil, into target: UnsafeMutableRawBufferPointer? = nil) throws -> Block {
        let bytes = index * chunkSize..<min(size, (index + 1) * chunkSize)
        func matches(_ block: Block) -> Bool {
            plan.digests.map { block.digest == $0[index] } ?? (ChunkedHash.combine(partDigests: [block.digest]) == hash.value)
        }
        for origin in plan.origins {
            if origin.isCached && cacheFailed.value { continue }
            let block: Block
            do {
                switch origin {
                case .local(let file, _):
                    if let leased = plan.leased, leased === file, leased.holdsReadLease, let digests = plan.digests {
                        // Unchanged since it was hashed if the lease still holds once the chunk is read; if it
                        // broke meanwhile, the chunk is hashed now, as any other.
                        let unhashed = try Block(reading: bytes, of: file, pool: pool, into: target, digest: digests[index])
                        if leased.holdsReadLease { return unhashed }
                        unhashed.hashBytes()
                        block = unhashed
                    } else {
                        block = try Block(reading: bytes, of: file, pool: pool, into: target)
                    }
                case .s3(let source):
                    // A kept chunk that does not match is fetched again, and written over.
                    if let kept = partial?.source(of: index),
                       let found = try? Block(reading: bytes, of: kept, pool: pool, into: target), matches(found) {
                        partial!.verified(index)
                        return found
                    }
                    let transfers = try remote ?? reader.s3()
                    block = Block(try get(source, bytes, transfers))
                }
            } catch {
                if origin.isCached { cacheCopyFailed(); continue }
                throw localFailure(error)
            }
            if matches(block) {
                if case .s3 = origin, let partial { block.withBytes { partial.write(index, $0) } }
                return block
            }
            if origin.isCached { cacheCopyFailed(); continue }
            break
        }
        throw ReadError.hashMismatch(logicalKey: logicalKey, chunk: index, chunks: chunkCount, bytes: bytes)
    }

    private func cacheCopyFailed() {
        let first = cacheFailed.withLock { failed -> Bool in
            defer { failed = true }
            return !failed
        }
        if first { reader.cache?.remove(hash) }
    }

    // MARK: Whole copies

    /// Copies a local file into a spool, hashing it on the way.
    private func copy(_ file: any PositionalFile) throws -> Download {
        let writer = try SpoolWriter(size: size, cache: nil, temporaryDirectory: reader.temporaryDirectory)
        let hasher = StreamingHasher(type: type, expectedSize: size)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: min(Self.spoolBlock, max(size, 1)), alignment: 64)
        defer { buffer.deallocate() }
        var offset = 0
        while offset < size {
            let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(buffer.count, size - offset)])
            try file.readFully(into: slice, at: offset)
            hasher.update(UnsafeRawBufferPointer(slice))
            try writer.append(UnsafeRawBufferPointer(slice))
            offset += slice.count
        }
        return Download(writer: writer, digests: [], hash: hasher.finalize())
    }

    /// An object downloaded whole, not yet checked: its spool, each block's digest (if asked for), its hash (if a
    /// type was given).
    struct Download {
        var writer: SpoolWriter
        var digests: [[UInt8]]
        var hash: ObjectHash?
    }

    /// Downloads an S3 object whole into a spool (the cache entry, uncommitted, when the cache takes it), in ranged
    /// GETs of `blockSize` several at once, appended in order; with `digests`, each block's SHA-256 too; with
    /// `hashing`, the object's hash of that type.
    private func download(_ source: S3ObjectReference, _ transfers: S3Transfers, blockSize: Int, digests wantDigests: Bool,
                          hashing: HashType?) throws -> Download {
        if let cacheWriter = reader.cache?.entryWriter(for: hash) {
            do {
                return try download(source, transfers, into: SpoolWriter(cache: cacheWriter), blockSize: blockSize,
                                    digests: wantDigests, hashing: hashing)
            } catch is SpoolWriter.CacheWriteFailed {
                // A full or read-only cache: spooled elsewhere instead, from the start.
            }
        }
        let writer = try SpoolWriter(size: size, cache: nil, temporaryDirectory: reader.temporaryDirectory)
        return try download(source, transfers, into: writer, blockSize: blockSize, digests: wantDigests, hashing: hashing)
    }

    private func download(_ source: S3ObjectReference, _ transfers: S3Transfers, into writer: SpoolWriter, blockSize: Int,
                          digests wantDigests: Bool, hashing: HashType?) throws -> Download {
        let size = self.size
        let count = (size + blockSize - 1) / blockSize
        let hasher = hashing.map { StreamingHasher(type: $0, expectedSize: size) }
        let pipeline = OrderedPipeline(count: count, threads: transfers.concurrency, window: transfers.concurrency + 1) { index in
            let bytes = index * blockSize..<min(size, (index + 1) * blockSize)
            let body = try self.get(source, bytes, transfers)
            return (body, wantDigests ? SHA256Hasher.digest(body) : [])
        }
        defer { pipeline.stop() }
        var digests: [[UInt8]] = []
        while let (body, digest) = try pipeline.next() {
            try body.withUnsafeBytes { raw in
                hasher?.update(raw)
                try writer.append(raw)
            }
            if wantDigests { digests.append(digest) }
        }
        return Download(writer: writer, digests: digests, hash: hasher?.finalize())
    }

    /// One ranged GET, refused unless the object is the entry's size.
    private func get(_ source: S3ObjectReference, _ bytes: Range<Int>, _ transfers: S3Transfers) throws -> [UInt8] {
        do {
            return try transfers.getRange(source, bytes, size: size).body
        } catch TransferError.sizeChanged(_, _, let actual) {
            throw ReadError.sizeMismatch(logicalKey: logicalKey, expected: size, actual: actual)
        }
    }
}

/// A file read by offset from any thread: an `InputFile` (the entry's, the cache's) or a spool's `ScratchFile`.
protocol PositionalFile: AnyObject, Sendable {
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int
}

extension InputFile: PositionalFile {}
extension ScratchFile: PositionalFile {}
extension SparseFile: PositionalFile {}

extension PositionalFile {
    /// Exactly `buffer.count` bytes at `offset`; a file that ends sooner changed (`changedWhileRead`).
    func readFully(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < buffer.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]), at: offset + done)
            if n == 0 { throw FileSystemError.changedWhileRead(path: (self as? InputFile)?.path ?? "spool") }
            done += n
        }
    }
}

/// One chunk read and hashed, its memory returned to the pool when it goes.
final class Block: @unchecked Sendable {
    // Unchecked: immutable once made; the bytes are read by one turn at a time.
    private let pooled: UnsafeMutableRawBufferPointer?
    private let array: [UInt8]
    private let pool: BufferPool?
    let count: Int
    /// The bytes' SHA-256; for a block read with a known `digest`, that one until `hashBytes`.
    private(set) var digest: [UInt8]

    /// Reads `bytes` of `file` into a buffer of `pool` (or into `target`, the caller's, which the block then only
    /// points at), hashing each piece as it arrives (while it is still in the core's cache, as `FileHasher` does);
    /// with `digest` (bytes known to be unchanged since they were hashed), not hashing them.
    init(reading bytes: Range<Int>, of file: any PositionalFile, pool: BufferPool,
         into target: UnsafeMutableRawBufferPointer? = nil, digest known: [UInt8]? = nil) throws {
        let buffer = target ?? pool.take()
        let hasher = known == nil ? SHA256Hasher() : nil
        var offset = 0
        do {
            while offset < bytes.count {
                let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<min(bytes.count, offset + FileHasher.partReadSize)])
                try file.readFully(into: piece, at: bytes.lowerBound + offset)
                hasher?.update(UnsafeRawBufferPointer(piece))
                offset += piece.count
            }
        } catch {
            if target == nil { pool.give(buffer) }
            throw error
        }
        pooled = buffer
        self.pool = target == nil ? pool : nil
        array = []
        count = bytes.count
        digest = known ?? hasher!.finalize()
    }

    /// Makes `digest` the bytes' own (a block read with a known digest whose promise lapsed).
    func hashBytes() {
        digest = withBytes { SHA256Hasher.digest($0) }
    }

    init(_ body: [UInt8]) {
        pooled = nil
        pool = nil
        array = body
        count = body.count
        digest = SHA256Hasher.digest(body)
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let pooled { return try body(UnsafeRawBufferPointer(rebasing: pooled[0..<count])) }
        return try array.withUnsafeBytes(body)
    }

    /// Whether the bytes are the caller's buffer `target` (read into it).
    func isStored(in target: UnsafeMutableRawBufferPointer) -> Bool {
        pooled.map { $0.baseAddress == target.baseAddress && pool == nil } ?? false
    }

    deinit { if let pooled { pool?.give(pooled) } }
}

/// A verified copy of an object, handed out from memory or a file of ours.
enum Spool: Sendable {
    case memory([UInt8])
    case file(any PositionalFile)

    var file: (any PositionalFile)? {
        if case .file(let file) = self { return file }
        return nil
    }

    func emit(_ range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        switch self {
        case .memory(let bytes):
            try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
        case .file(let file):
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: min(EntryHandle.spoolBlock, max(range.count, 1)), alignment: 64)
            defer { buffer.deallocate() }
            var offset = range.lowerBound
            while offset < range.upperBound {
                let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(buffer.count, range.upperBound - offset)])
                try file.readFully(into: slice, at: offset)
                try body(UnsafeRawBufferPointer(slice))
                offset += slice.count
            }
        }
    }
}

/// Where a whole copy is written: memory (small), the cache entry of the object (committed only once verified), or
/// a nameless file in TMPDIR, gone when closed even if the process is killed.
final class SpoolWriter {
    /// A write to the cache failed: the caller spools elsewhere.
    struct CacheWriteFailed: Error {}

    private var memory: [UInt8]?
    private let cache: AtomicFileWriter?
    private let scratch: ScratchFile?

    init(cache writer: AtomicFileWriter) {
        memory = nil
        cache = writer
        scratch = nil
    }

    init(size: Int, cache: AtomicFileWriter?, temporaryDirectory: String) throws {
        self.cache = cache
        if cache == nil && size > EntryHandle.memorySpoolLimit {
            scratch = try ScratchFile(directory: temporaryDirectory)
            memory = nil
        } else {
            scratch = nil
            memory = cache == nil ? [] : nil
            memory?.reserveCapacity(size)
        }
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        if memory != nil {
            memory!.append(contentsOf: bytes)
        } else if let cache {
            do { try cache.write(bytes) } catch { throw CacheWriteFailed() }
        } else {
            try scratch!.append(bytes)
        }
    }

    /// The copy, to read from; a cache entry is committed with `keep` (a failure to commit keeps it readable).
    func finish(keep: Bool) throws -> Spool {
        if let memory { return .memory(memory) }
        if let scratch { return .file(scratch) }
        let file = try cache!.readBack()
        if keep { try? cache!.commit() }
        return .file(file)
    }
}
