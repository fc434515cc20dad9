// Where an entry's bytes come from when it is installed or fetched: local files here, S3 in S3BlobSource.
import QuiltSupport
import QuiltFormat

/// Where an entry's bytes come from: local files here; S3 plugs in as another source.
public protocol BlobSource: Sendable {
    /// Writes the object's bytes into `writer`'s temporary file. Returns the object's hash of `size` bytes when
    /// it was computed on the way (streaming sources), or nil to have the caller hash the written file. An object
    /// found to be of another size is `TransferError.sizeChanged`, with the size found.
    func fetch(_ key: PhysicalKey, size: Int, into writer: AtomicFileWriter) throws -> ObjectHash?

    /// The whole object in memory, for a source that reads small objects so (S3: one GET of 1 to
    /// `S3Transfers.inMemoryLimit` bytes); nil to have it fetched into a file instead. An object found to be of
    /// another size is `TransferError.sizeChanged`.
    func fetchBytes(_ key: PhysicalKey, size: Int) throws -> [UInt8]?
}

extension BlobSource {
    public func fetchBytes(_ key: PhysicalKey, size: Int) throws -> [UInt8]? { nil }
}

/// Local files, hashed while copied.
public struct LocalBlobSource: BlobSource {
    public var hashType: HashType = .sha2256Chunked

    public init(hashType: HashType = .sha2256Chunked) { self.hashType = hashType }

    public func fetch(_ key: PhysicalKey, size: Int, into writer: AtomicFileWriter) throws -> ObjectHash? {
        guard case .local(let path) = key else { throw BuildError.unsupportedPhysicalKey(key.url) }
        let file = try InputFile(path: path)
        guard file.size == size else { throw TransferError.sizeChanged(location: path, expected: size, actual: file.size) }
        let hasher = StreamingHasher(type: hashType, expectedSize: size)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 22, alignment: 64)
        defer { buffer.deallocate() }
        var offset = 0
        while true {
            let n = try file.read(into: buffer, at: offset)
            if n == 0 { break }
            let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            hasher.update(bytes)
            try writer.write(bytes)
            offset += n
        }
        return offset == size ? hasher.finalize() : nil
    }
}
