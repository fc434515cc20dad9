// SHA-256, HMAC-SHA256, hex and base64 for request signing and checksums: names the S3 code reads well with,
// over the one implementation of each in Hashing/.
import QuiltSupport

/// Hashing helpers for SigV4 and S3 checksums.
public enum S3Crypto {
    /// SHA-256 of `bytes`.
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] { SHA256Hasher.digest(bytes) }

    /// SHA-256 of a string's UTF-8 bytes.
    public static func sha256(_ text: String) -> [UInt8] { sha256(Array(text.utf8)) }

    /// SHA-256 of `length` bytes of a file from `offset`, read in 1 MiB pieces.
    public static func sha256(path: String, offset: Int, length: Int) throws -> [UInt8] {
        let file = try InputFile(path: path)
        let hasher = SHA256Hasher()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var done = 0
        while done < length {
            let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(buffer.count, length - done)])
            try file.readFully(into: piece, at: offset + done)
            hasher.update(UnsafeRawBufferPointer(piece))
            done += piece.count
        }
        return hasher.finalize()
    }

    /// HMAC-SHA256 of `message` under `key`.
    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] { QuiltSupport.hmacSHA256(key: key, message: message) }

    /// Lowercase hexadecimal.
    public static func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }

    /// Standard base64 with `=` padding.
    public static func base64(_ bytes: [UInt8]) -> String { Base64.encode(bytes) }

    /// Decodes standard base64 (padding optional); nil for anything else.
    public static func base64Decode(_ text: String) -> [UInt8]? { Base64.decode(text) }
}
