// The per-transfer state libcurl's callbacks read and write: the body being sent, the response being received.
import QuiltSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Lives for one `curl_easy_perform`; curl gets an unretained pointer to it as callback context.
final class CurlTransferState {
    // Request body source.
    private let bodyBytes: [UInt8]
    private let bodyFile: InputFile?
    private let bodyOffset: Int
    let bodyLength: Int
    private var bodyPosition = 0
    var bodyError: String?

    // Response.
    private let destinationFD: Int32
    private let destinationOffset: Int
    var status = 0
    var headers: [(name: String, value: String)] = []
    var body: [UInt8] = []
    var bytesWritten = 0
    var destinationError: String?

    init(bodyBytes: [UInt8], bodyFile: InputFile?, bodyOffset: Int, bodyLength: Int, destinationFD: Int32, destinationOffset: Int) {
        self.bodyBytes = bodyBytes
        self.bodyFile = bodyFile
        self.bodyOffset = bodyOffset
        self.bodyLength = bodyLength
        self.destinationFD = destinationFD
        self.destinationOffset = destinationOffset
    }

    /// Fills curl's upload buffer; returns the byte count, 0 at the end, or nil to abort.
    func read(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int? {
        let wanted = min(capacity, bodyLength - bodyPosition)
        if wanted <= 0 { return 0 }
        guard let bodyFile else {
            bodyBytes.withUnsafeBufferPointer { source in
                guard let base = source.baseAddress else { return }
                UnsafeMutableRawPointer(buffer).copyMemory(from: base + bodyPosition, byteCount: wanted)
            }
            bodyPosition += wanted
            return wanted
        }
        let got: Int
        do {
            got = try bodyFile.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: wanted), at: bodyOffset + bodyPosition)
        } catch {
            bodyError = error.reason
            return nil
        }
        if got == 0 {
            // The file is shorter than announced: it changed while being sent.
            bodyError = "file shrank while being read"
            return nil
        }
        bodyPosition += got
        return got
    }

    /// Rewinds the body (curl resends a request whose reused connection turned out dead).
    func seek(to offset: Int) -> Bool {
        guard offset >= 0 && offset <= bodyLength else { return false }
        bodyPosition = offset
        return true
    }

    /// Takes one header line; a status line starts a new response (after `100 Continue` or an interim reply).
    ///
    /// Read as bytes (the name and value are split and trimmed before any String is made): done with Strings and
    /// Characters it was a tenth of a small-file install's CPU time, with a dozen headers an answer.
    func receiveHeader(_ line: UnsafeBufferPointer<UInt8>) {
        var end = line.count
        while end > 0 && (line[end - 1] == 0x0A || line[end - 1] == 0x0D) { end -= 1 }
        let bytes = UnsafeBufferPointer(rebasing: line[0..<end])
        if bytes.starts(with: "HTTP/".utf8) {
            status = Self.statusCode(of: bytes)
            headers.removeAll(keepingCapacity: true)
            headers.reserveCapacity(16)
            return
        }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return }
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        var nameStart = 0, nameEnd = colon
        while nameStart < nameEnd && isSpace(bytes[nameStart]) { nameStart += 1 }
        while nameEnd > nameStart && isSpace(bytes[nameEnd - 1]) { nameEnd -= 1 }
        var valueStart = colon + 1, valueEnd = bytes.count
        while valueStart < valueEnd && isSpace(bytes[valueStart]) { valueStart += 1 }
        while valueEnd > valueStart && isSpace(bytes[valueEnd - 1]) { valueEnd -= 1 }
        // Header names are ASCII tokens: lowered byte by byte.
        let name = String(unsafeUninitializedCapacity: nameEnd - nameStart, initializingUTF8With: { out in
            for i in nameStart..<nameEnd {
                let byte = bytes[i]
                out[i - nameStart] = byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte
            }
            return nameEnd - nameStart
        })
        let value = String(decoding: UnsafeBufferPointer(rebasing: bytes[valueStart..<valueEnd]), as: UTF8.self)
        headers.append((name: name, value: value))
        // A body kept in memory is given its announced size at once, not grown by doubling as it arrives.
        if destinationFD < 0, name == "content-length", let length = Int(value), length > 0, length <= Self.reserveLimit {
            body.reserveCapacity(length)
        }
    }

    /// The most a `Content-Length` makes the in-memory body reserve before its bytes arrive.
    static let reserveLimit = 16 << 20

    /// The code of a status line (`HTTP/1.1 200 OK`, `HTTP/2 404`): the digits after the first spaces, up to the
    /// next space or the end; 0 if there are none (the split into Strings it replaced was half of this callback).
    static func statusCode(of line: UnsafeBufferPointer<UInt8>) -> Int {
        guard let space = line.firstIndex(of: UInt8(ascii: " ")) else { return 0 }
        var code = 0
        var digits = 0
        for byte in line[(space + 1)...] {
            if byte == UInt8(ascii: " ") { if digits == 0 { continue } else { break } }
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"), digits < 9 else { return 0 }
            code = code * 10 + Int(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return digits > 0 ? code : 0
    }

    /// Takes a piece of the response body; returns false to make curl stop with a write error.
    func receiveBody(_ data: UnsafeBufferPointer<UInt8>) -> Bool {
        guard destinationFD >= 0 && (200..<300).contains(status) else {
            body.append(contentsOf: data)
            return true
        }
        guard let base = data.baseAddress else { return true }
        var done = 0
        while done < data.count {
            let wrote = pwrite(destinationFD, base + done, data.count - done, off_t(destinationOffset + bytesWritten))
            if wrote < 0 && errno == EINTR { continue }
            if wrote <= 0 {
                destinationError = wrote < 0 ? String(cString: strerror(errno)) : "short write"
                return false
            }
            done += wrote
            bytesWritten += wrote
        }
        return true
    }
}
