// gzip streams over zlib: a writer whose compression level can change between pieces of one stream (so data that
// is already compressed goes through as stored blocks), and a reader that tells a cut-short stream from a damaged one.
internal import CZlib
internal import CZlibShims

/// What can go wrong reading or writing an archive. The caller knows which member was being read and says so.
public enum ArchiveError: Error, Sendable, Equatable {
    /// The compressed stream ended before its end marker (a file cut short).
    case truncated
    /// zlib refused the data (a damaged stream, a wrong CRC or length at the end), with its reason.
    case corrupt(String)
    /// Bytes after the end of the gzip stream or of the tar archive.
    case trailingData
    /// A tar header whose checksum or fields are wrong.
    case badHeader(String)
    /// zlib could not start (out of memory) or failed in a way data cannot cause.
    case zlib(String)
}

/// Compresses into one gzip stream, handing each compressed block to `sink`.
public final class GzipWriter {
    private let stream: UnsafeMutablePointer<z_stream>
    private let output: UnsafeMutableRawBufferPointer
    private let sink: (UnsafeRawBufferPointer) throws -> Void
    public private(set) var level: Int
    /// Uncompressed bytes written, and compressed bytes handed to the sink.
    public private(set) var bytesIn = 0
    public private(set) var bytesOut = 0
    private var finished = false

    /// `level` 0 (stored) to 9. The gzip header carries no name and no time, so the same input gives the same bytes.
    public init(level: Int, sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws(ArchiveError) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        output = .allocate(byteCount: 256 * 1024, alignment: 16)
        self.sink = sink
        self.level = level
        let status = quilt_deflate_init_gzip(stream, Int32(level))
        guard status == Z_OK else {
            stream.deallocate()
            output.deallocate()
            throw .zlib("deflateInit2 failed (\(status))")
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
        output.deallocate()
    }

    /// Compresses what follows at `level`. What came before is finished with the old level first (a block
    /// boundary), as zlib requires when the method changes; an unchanged level costs nothing.
    public func setLevel(_ newLevel: Int) throws {
        guard newLevel != level else { return }
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        while true {
            try run(Z_BLOCK)
            let status = deflateParams(stream, Int32(newLevel), Z_DEFAULT_STRATEGY)
            if status == Z_OK { break }
            // Not enough room to finish the old block in one go: drain and ask again.
            guard status == Z_BUF_ERROR else { throw ArchiveError.zlib("deflateParams failed (\(status))") }
        }
        level = newLevel
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !bytes.isEmpty, let base = bytes.baseAddress else { return }
        bytesIn += bytes.count
        // zlib reads through a non-const pointer but does not write through it.
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(bytes.count)
        try run(Z_NO_FLUSH)
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Ends the stream (the CRC-32 and length trailer).
    public func finish() throws {
        guard !finished else { return }
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        try run(Z_FINISH)
        finished = true
    }

    /// Deflates until the input is consumed (and, for a flush, until the flush is complete), emitting output.
    private func run(_ flush: Int32) throws {
        while true {
            stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(output.count)
            let status = deflate(stream, flush)
            guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                throw ArchiveError.zlib("deflate failed (\(status))")
            }
            let produced = output.count - Int(stream.pointee.avail_out)
            if produced > 0 {
                bytesOut += produced
                try sink(UnsafeRawBufferPointer(rebasing: output[0..<produced]))
            }
            if flush == Z_FINISH {
                if status == Z_STREAM_END { return }
                continue
            }
            // Output space left over means zlib has taken all it can for now.
            if stream.pointee.avail_out != 0 && stream.pointee.avail_in == 0 { return }
        }
    }
}

/// Decompresses one gzip stream pulled from `source` (which returns 0 at its end).
public final class GzipReader {
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableRawBufferPointer
    private let source: (UnsafeMutableRawBufferPointer) throws -> Int
    private var sourceEnded = false
    private var streamEnded = false
    /// Compressed bytes taken from the source so far.
    public private(set) var compressedBytesRead = 0

    public init(source: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) throws(ArchiveError) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        input = .allocate(byteCount: 256 * 1024, alignment: 16)
        self.source = source
        let status = quilt_inflate_init_gzip(stream)
        guard status == Z_OK else {
            stream.deallocate()
            input.deallocate()
            throw .zlib("inflateInit2 failed (\(status))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
    }

    /// Up to `buffer.count` decompressed bytes; 0 only at the end of the stream, whose trailer zlib has checked.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !streamEnded, !buffer.isEmpty else { return 0 }
        stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(buffer.count)
        while true {
            if stream.pointee.avail_in == 0 && !sourceEnded { try fill() }
            let status = inflate(stream, Z_NO_FLUSH)
            let produced = buffer.count - Int(stream.pointee.avail_out)
            switch status {
            case Z_STREAM_END:
                streamEnded = true
                return produced
            case Z_OK, Z_BUF_ERROR:
                if produced == buffer.count { return produced }
                if stream.pointee.avail_in == 0 && sourceEnded {
                    if produced > 0 { return produced }
                    throw ArchiveError.truncated
                }
            case Z_DATA_ERROR:
                throw ArchiveError.corrupt(stream.pointee.msg.map { String(cString: $0) } ?? "invalid compressed data")
            default:
                throw ArchiveError.zlib("inflate failed (\(status))")
            }
        }
    }

    /// After the end of the stream: fails if the source holds anything more.
    public func checkNothingFollows() throws {
        if stream.pointee.avail_in > 0 { throw ArchiveError.trailingData }
        if !sourceEnded {
            try fill()
            if stream.pointee.avail_in > 0 { throw ArchiveError.trailingData }
        }
    }

    private func fill() throws {
        let n = try source(input)
        if n == 0 {
            sourceEnded = true
            return
        }
        compressedBytesRead += n
        stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = uInt(n)
    }
}
