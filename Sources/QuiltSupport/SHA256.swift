// SHA-256 through OpenSSL's EVP interface (which uses the CPU's SHA extensions where present).
internal import COpenSSL

/// SHA-256 fetched from OpenSSL's default provider once. `EVP_sha256()` makes OpenSSL 3 fetch the
/// implementation again on every `EVP_DigestInit_ex`, which cost more than hashing a 4 KiB file.
nonisolated(unsafe) private let sha256Implementation: OpaquePointer = {
    guard let md = EVP_MD_fetch(nil, "SHA256", nil) else { fatalError("OpenSSL has no SHA-256") }
    return md
}()

/// A running SHA-256; owns its OpenSSL context while it lives.
///
/// Contexts are kept for reuse when a hasher goes: making one (`EVP_MD_CTX_new` and the provider's state) and
/// freeing it cost more than hashing the 4 KiB of a small object, and an install of small files makes several
/// hashers an object (its chunk, its hash, the request's signature).
public final class SHA256Hasher {
    private let context: OpaquePointer

    /// Contexts ready to start a digest, at most a few per thread that hashed at once.
    private static let spareContexts = Locked<[OpaquePointer]>([])

    public init() {
        if let spare = Self.spareContexts.withLock({ $0.popLast() }) {
            context = spare
            return
        }
        guard let context = EVP_MD_CTX_new() else { fatalError("out of memory creating a SHA-256 context") }
        self.context = context
        EVP_DigestInit_ex(context, sha256Implementation, nil)
    }

    deinit {
        // Started afresh before it is handed on (the same digest again: no fetch, no allocation).
        EVP_DigestInit_ex(context, sha256Implementation, nil)
        let kept = Self.spareContexts.withLock { spare -> Bool in
            guard spare.count < 64 else { return false }
            spare.append(context)
            return true
        }
        if !kept { EVP_MD_CTX_free(context) }
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count > 0 { EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) }
    }

    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The 32-byte digest; the hasher is reset for reuse.
    public func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 32
        digest.withUnsafeMutableBufferPointer { _ = EVP_DigestFinal_ex(context, $0.baseAddress, &length) }
        EVP_DigestInit_ex(context, sha256Implementation, nil)
        return digest
    }

    /// The digest's first 8 bytes as a big-endian integer, with nothing allocated (a shard's slot of each of
    /// millions of keys); the hasher is reset for reuse.
    public func finalizePrefix64() -> UInt64 {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { digest in
            var length: UInt32 = 64
            _ = EVP_DigestFinal_ex(context, digest.baseAddress, &length)
            EVP_DigestInit_ex(context, sha256Implementation, nil)
            var value: UInt64 = 0
            for byte in digest[0..<8] { value = value << 8 | UInt64(byte) }
            return value
        }
    }

    /// SHA-256 of `bytes` in one call, on a context kept from an earlier hasher (`EVP_Digest` makes and frees
    /// one each time).
    public static func digest(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        let hasher = SHA256Hasher()
        hasher.update(bytes)
        return hasher.finalize()
    }

    public static func digest(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { digest($0) }
    }
}

/// HMAC-SHA256 (RFC 2104), for AWS signatures: every S3 request signs once. Written over the SHA-256 fetched
/// once rather than through OpenSSL's `HMAC()`, which in OpenSSL 3 fetches the HMAC and SHA-256 implementations
/// again and builds a MAC context on each call: 4.6% of a cold install's user time for 2,000 small objects
/// (`perf record -e cpu-clock:u`), where two hashes of a block and a digest are a fraction of that.
public func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
    let blockSize = 64
    var block = key.count > blockSize ? SHA256Hasher.digest(key) : key
    block += [UInt8](repeating: 0, count: blockSize - block.count)
    let hasher = SHA256Hasher()
    hasher.update(block.map { $0 ^ 0x36 })
    hasher.update(message)
    let inner = hasher.finalize()
    hasher.update(block.map { $0 ^ 0x5C })
    hasher.update(inner)
    return hasher.finalize()
}

/// SHA-1 of `bytes` as lowercase hex. Not for security: the AWS CLI names its SSO token cache files by it.
public func sha1Hex(_ bytes: [UInt8]) -> String {
    var digest = [UInt8](repeating: 0, count: 20)
    var length: UInt32 = 20
    bytes.withUnsafeBytes { b in
        digest.withUnsafeMutableBufferPointer {
            _ = EVP_Digest(b.baseAddress, b.count, $0.baseAddress, &length, EVP_sha1(), nil)
        }
    }
    return Hex.encode(digest)
}
