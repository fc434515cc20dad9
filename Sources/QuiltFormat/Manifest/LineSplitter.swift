// Splitting bytes into lines, the one way: handed blocks as they arrive (`LineSplitter`, for standard input and
// any stream pushed at a reader) or pulling them from a source (`LineReader`, for stored manifests). Both look for
// the separator with memchr and copy only a line that spans two blocks.
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The index of the first `byte` in `bytes` at or after `start`, or nil.
@inline(__always)
func firstIndex(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
    guard start < bytes.count, let base = bytes.baseAddress,
          let found = memchr(base + start, Int32(byte), bytes.count - start) else { return nil }
    return UnsafeRawPointer(found) - base
}

/// Splits a stream that arrives in blocks into lines (without their separators), so the whole stream is never
/// held: each line is handed over as soon as the block that ends it arrives.
public struct LineSplitter {
    public let separator: UInt8
    private var partial: [UInt8] = []
    /// Lines handed over so far (the number of the last one).
    public private(set) var lineNumber = 0

    public init(separator: UInt8 = 0x0A) {
        self.separator = separator
    }

    /// Hands over every line that `block` completes, with its number (from 1). Lines are valid during the call.
    public mutating func feed<E: Error>(_ block: UnsafeRawBufferPointer,
                                        _ body: (_ line: UnsafeRawBufferPointer, _ number: Int) throws(E) -> Void) throws(E) {
        var start = 0
        while let end = firstIndex(of: separator, in: block, from: start) {
            lineNumber += 1
            if partial.isEmpty {
                try body(UnsafeRawBufferPointer(rebasing: block[start..<end]), lineNumber)
            } else {
                partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: block[start..<end]))
                let number = lineNumber
                // (Array's withUnsafeBytes does not carry a typed error: it goes through a Result.)
                try partial.withUnsafeBytes { raw in Result { () throws(E) in try body(raw, number) } }.get()
                partial.removeAll(keepingCapacity: true)
            }
            start = end + 1
        }
        if start < block.count { partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: block[start...])) }
    }

    /// Hands over the last line, if the stream did not end with a separator.
    public mutating func finish<E: Error>(_ body: (_ line: UnsafeRawBufferPointer, _ number: Int) throws(E) -> Void) throws(E) {
        guard !partial.isEmpty else { return }
        lineNumber += 1
        let number = lineNumber
        try partial.withUnsafeBytes { raw in Result { () throws(E) in try body(raw, number) } }.get()
        partial = []
    }

    /// Every line of `bytes`, the last one counted even without a separator.
    public mutating func forEachLine<E: Error>(in bytes: UnsafeRawBufferPointer,
                                               _ body: (_ line: UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
        try feed(bytes) { (line, _) throws(E) in try body(line) }
        try finish { (line, _) throws(E) in try body(line) }
    }
}

/// Splits bytes pulled from a source into lines, holding one buffer (grown only for a line longer than it).
public final class LineReader {
    private let read: (UnsafeMutableRawBufferPointer) throws -> Int
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0, end = 0
    private var atEnd = false
    /// Lines handed out so far (the number of the last one).
    public private(set) var lineNumber = 0
    /// A longer line is refused (`ManifestError.lineTooLong`) rather than held: memory stays bounded whatever the
    /// source holds (a bundle's manifest, which may be a decompression bomb).
    public let maxLineLength: Int

    /// `read` fills the buffer it is given and returns how many bytes it put there, 0 at the end.
    public init(bufferSize: Int = 1 << 20, maxLineLength: Int = .max, read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) {
        self.read = read
        self.maxLineLength = maxLineLength
        buffer = .allocate(byteCount: max(bufferSize, 16), alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// The next line without its newline, valid until the next call; nil at the end. A last line without a
    /// newline counts.
    public func next() throws -> UnsafeRawBufferPointer? {
        var searched = start
        while true {
            let filled = UnsafeRawBufferPointer(rebasing: buffer[0..<end])
            if let newline = firstIndex(of: 0x0A, in: filled, from: searched) {
                let line = UnsafeRawBufferPointer(rebasing: buffer[start..<newline])
                start = newline + 1
                lineNumber += 1
                return line
            }
            searched = end
            if atEnd {
                guard start < end else { return nil }
                let line = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
                start = end
                lineNumber += 1
                return line
            }
            // Move the partial line to the front (growing the buffer if it fills it) and read more.
            let left = end - start
            if start > 0 {
                if left > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: left) }
                searched -= start
                start = 0
                end = left
            }
            if end == buffer.count {
                if end > maxLineLength { throw ManifestError.lineTooLong(line: lineNumber + 1, limit: maxLineLength) }
                let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 16)
                bigger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: end)
                buffer.deallocate()
                buffer = bigger
            }
            let n = try read(UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
            if n == 0 { atEnd = true } else { end += n }
        }
    }
}
