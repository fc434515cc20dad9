// Object hashes as quilt3 knows them: sha2-256-chunked (the default), SHA256 (legacy) and CRC64NVME.
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import QuiltSupport
import Dispatch

/// The hash types quilt3 8.0.0 accepts.
public enum HashType: String, Sendable, CaseIterable {
    case sha2256Chunked = "sha2-256-chunked"
    case sha256 = "SHA256"
    case crc64nvme = "CRC64NVME"
}

/// The `hash` of a manifest entry.
public struct ObjectHash: Sendable, Equatable {
    /// The type string as written (`sha2-256-chunked`, `SHA256`, `CRC64NVME`).
    public var type: String
    public var value: String
    /// Whether the stored dict had `value` before `type`: a loaded manifest keeps its order.
    public var valueFirst: Bool

    public init(type: String, value: String, valueFirst: Bool = false) {
        self.type = type
        self.value = value
        self.valueFirst = valueFirst
    }

    public init(_ type: HashType, value: String) {
        self.init(type: type.rawValue, value: value)
    }

    public var hashType: HashType? { HashType(rawValue: type) }

    /// A type read from bytes as a String: the usual one is the one shared String (its 16 bytes would make a
    /// String of its own be allocated for every line read).
    public static func typeString(_ bytes: UnsafeRawBufferPointer) -> String {
        let usual: StaticString = "sha2-256-chunked"
        if bytes.count == usual.utf8CodeUnitCount, memcmp(bytes.baseAddress!, usual.utf8Start, bytes.count) == 0 {
            return HashType.sha2256Chunked.rawValue
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public var json: JSONValue {
        valueFirst
            ? .object(JSONObject([("value", .string(value)), ("type", .string(type))]))
            : .object(JSONObject([("type", .string(type)), ("value", .string(value))]))
    }

    public static func == (lhs: ObjectHash, rhs: ObjectHash) -> Bool {
        lhs.type == rhs.type && lhs.value == rhs.value
    }
}

/// Errors of hashing.
public enum HashError: QuiltError {
    case unsupportedType(String)

    public var kind: FailureKind { .badInput }
    public var message: String {
        switch self {
        case .unsupportedType(let type): return "unsupported hash type \(quoted(type))"
        }
    }
}

/// The sha2-256-chunked recipe: SHA-256 of the concatenated SHA-256 digests of fixed-size parts.
public enum ChunkedHash {
    public static let minimumChunkSize = 8 * 1024 * 1024
    public static let maximumChunks = 10_000

    /// 8 MiB, doubled while the file would have more than 10,000 parts. It is also the multipart upload part size,
    /// so that S3's composite checksum equals the chunked hash.
    public static func chunkSize(forSize size: Int) -> Int {
        var chunk = minimumChunkSize
        // (Divided up without `size + chunk - 1`, which overflows for a size near 2^63 from a hostile header.)
        while parts(size, chunk) > maximumChunks { chunk *= 2 }
        return chunk
    }

    /// Number of parts of a file of `size` bytes (0 for an empty file).
    public static func partCount(forSize size: Int) -> Int {
        parts(size, chunkSize(forSize: size))
    }

    /// `size` divided by `chunk`, rounded up.
    static func parts(_ size: Int, _ chunk: Int) -> Int {
        size / chunk + (size % chunk == 0 ? 0 : 1)
    }

    /// Combines the parts' digests into the hash value. No parts (an empty file) gives SHA-256 of nothing.
    public static func combine(partDigests: [[UInt8]]) -> String {
        let outer = SHA256Hasher()
        for digest in partDigests { outer.update(digest) }
        return Base64.encode(outer.finalize())
    }
}

/// Computes hashes of data that arrives in order, for hashing while streaming (reading, uploading).
public final class StreamingHasher {
    public let type: HashType
    private let expectedSize: Int
    private let chunkSize: Int
    private var inChunk = 0
    private var total = 0
    private let part = SHA256Hasher()
    private var partDigests: [[UInt8]] = []
    private var crc = CRC64NVME()

    /// `expectedSize` must be the final size for sha2-256-chunked, whose part size depends on it.
    public init(type: HashType, expectedSize: Int) {
        self.type = type
        self.expectedSize = expectedSize
        self.chunkSize = ChunkedHash.chunkSize(forSize: expectedSize)
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        total += bytes.count
        switch type {
        case .sha256:
            part.update(bytes)
        case .crc64nvme:
            crc.update(bytes)
        case .sha2256Chunked:
            var offset = 0
            while offset < bytes.count {
                let take = min(chunkSize - inChunk, bytes.count - offset)
                part.update(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + take]))
                inChunk += take
                offset += take
                if inChunk == chunkSize {
                    partDigests.append(part.finalize())
                    inChunk = 0
                }
            }
        }
    }

    /// Bytes seen so far.
    public var byteCount: Int { total }

    public func finalize() -> ObjectHash {
        switch type {
        case .sha256:
            return ObjectHash(.sha256, value: Hex.encode(part.finalize()))
        case .crc64nvme:
            return ObjectHash(.crc64nvme, value: crc.base64)
        case .sha2256Chunked:
            if inChunk > 0 {
                partDigests.append(part.finalize())
                inChunk = 0
            }
            return ObjectHash(.sha2256Chunked, value: ChunkedHash.combine(partDigests: partDigests))
        }
    }
}

/// Hashes local files: large reads, and the parts of a big file hashed on all cores.
public enum FileHasher {
    /// Read size: large reads keep system calls few, and stay well inside the CPU caches' reach of SHA-256.
    static let readSize = 4 * 1024 * 1024
    /// Reads of a big file's parts: 1 MiB, so the buffer a thread copies into and SHA-256 then reads stays in that
    /// core's L2 cache (15% less CPU than 4 MiB reads here). Not mmap: a file truncated under a mapping is SIGBUS.
    package static let partReadSize = 1024 * 1024

    /// Hashes the file at `path`; returns its hash and the number of bytes hashed, both from one read of one
    /// version of the file (read again if it changed meanwhile, see `InputFile.readStably`).
    public static func hash(path: String, type: HashType = .sha2256Chunked) throws -> (ObjectHash, Int) {
        try InputFile.readStably(path) { file in (try hashUnchanged(file: file, type: type), file.size) }
    }

    /// Hashes `file`'s `size` bytes, then checks that the file did not change meanwhile (`changedWhileRead`). With
    /// `keepChunkDigests`, a sha2-256-chunked file of more than one chunk hands the chunk digests its hash is made
    /// of to it, once the file is known unchanged (the object cache keeps them for a later verified read).
    public static func hashUnchanged(file: InputFile, type: HashType,
                                     keepChunkDigests: ((ObjectHash, [[UInt8]]) -> Void)? = nil) throws(FileSystemError) -> ObjectHash {
        if let keepChunkDigests, type == .sha2256Chunked, file.size > ChunkedHash.minimumChunkSize {
            let digests = try chunkDigests(file: file)
            try file.checkUnchanged()
            let hash = ObjectHash(.sha2256Chunked, value: ChunkedHash.combine(partDigests: digests))
            keepChunkDigests(hash, digests)
            return hash
        }
        let hash = try hash(file: file, type: type)
        try file.checkUnchanged()
        return hash
    }

    public static func hash(file: InputFile, type: HashType) throws(FileSystemError) -> ObjectHash {
        if type == .sha2256Chunked && file.size > ChunkedHash.minimumChunkSize {
            return try parallelChunkedHash(file: file)
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: min(readSize, max(file.size, 1)), alignment: 64)
        defer { buffer.deallocate() }
        if type == .sha2256Chunked && file.size <= buffer.count {
            return try singlePartChunkedHash(file: file, buffer: buffer)
        }
        let hasher = StreamingHasher(type: type, expectedSize: file.size)
        var offset = 0
        while offset < file.size {
            let n = try file.read(into: buffer, at: offset)
            if n == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            offset += n
        }
        guard offset == file.size else { throw .changedWhileRead(path: file.path) }
        return hasher.finalize()
    }

    /// A file that fits in `buffer` is at most one part: two one-shot digests, with none of a streaming
    /// hasher's allocations (small files are hashed by the ten thousand).
    static func singlePartChunkedHash(file: InputFile, buffer: UnsafeMutableRawBufferPointer) throws(FileSystemError) -> ObjectHash {
        var offset = 0
        while offset < file.size {
            let n = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<file.size]), at: offset)
            if n == 0 { break }
            offset += n
        }
        guard offset == file.size else { throw .changedWhileRead(path: file.path) }
        let data = UnsafeRawBufferPointer(rebasing: buffer[0..<offset])
        // No parts (an empty file) is SHA-256 of nothing; one part is SHA-256 of that part's digest.
        let digest = offset == 0 ? SHA256Hasher.digest(data) : SHA256Hasher.digest(SHA256Hasher.digest(data))
        return ObjectHash(.sha2256Chunked, value: Base64.encode(digest))
    }

    /// The parts of a big file are independent, so they are hashed concurrently, each thread reading its own part.
    static func parallelChunkedHash(file: InputFile) throws(FileSystemError) -> ObjectHash {
        ObjectHash(.sha2256Chunked, value: ChunkedHash.combine(partDigests: try chunkDigests(file: file)))
    }

    /// The SHA-256 digest of each sha2-256-chunked part of `file`'s `size` bytes (none for an empty file), hashed
    /// on all cores, each thread reading its own part; `ChunkedHash.combine` of them is the file's hash. For
    /// readers that check an object a chunk at a time (`EntryReader`).
    /// Read buffers come from a pool, so there are never more than there are threads: a buffer allocated and
    /// freed per part made glibc raise its mmap threshold and keep the freed buffers resident in per-thread arenas
    /// (peak RSS grew with the file). One iteration per part keeps Dispatch's load balancing.
    public static func chunkDigests(file: InputFile) throws(FileSystemError) -> [[UInt8]] {
        let size = file.size
        let chunk = ChunkedHash.chunkSize(forSize: size)
        let parts = ChunkedHash.parts(size, chunk)
        guard parts > 0 else { return [] }
        let digests = UnsafeMutableBufferPointer<[UInt8]>.allocate(capacity: parts)
        digests.initialize(repeating: [])
        // The elements are arrays: deinitialized before the memory goes, or each part's digest would leak.
        defer {
            _ = digests.deinitialize()
            digests.deallocate()
        }
        let failures = FailureBox()
        let digestsAddress = UnsafeSendable(digests)
        let buffers = BufferPool(byteCount: min(partReadSize, chunk))
        DispatchQueue.concurrentPerform(iterations: parts) { index in
            if failures.first != nil { return }
            let start = index * chunk
            let length = min(chunk, size - start)
            let hasher = SHA256Hasher()
            let buffer = buffers.take()
            defer { buffers.give(buffer) }
            var offset = 0
            do throws(FileSystemError) {
                while offset < length {
                    let want = min(buffer.count, length - offset)
                    let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want])
                    try file.readFully(into: slice, at: start + offset)
                    hasher.update(UnsafeRawBufferPointer(slice))
                    offset += want
                }
                digestsAddress.value[index] = hasher.finalize()
            } catch {
                failures.record(error)
            }
        }
        if let failure = failures.first { throw failure }
        return Array(digests)
    }
}

/// Buffers of one size shared by the threads of a parallel loop: take one, give it back.
package final class BufferPool: Sendable {
    private let free = Locked<[UnsafeSendable<UnsafeMutableRawBufferPointer>]>([])
    private let byteCount: Int

    package init(byteCount: Int) { self.byteCount = byteCount }

    package func take() -> UnsafeMutableRawBufferPointer {
        free.withLock { $0.popLast()?.value } ?? .allocate(byteCount: byteCount, alignment: 64)
    }

    package func give(_ buffer: UnsafeMutableRawBufferPointer) {
        free.withLock { $0.append(UnsafeSendable(buffer)) }
    }

    deinit {
        for buffer in free.value { buffer.value.deallocate() }
    }
}
