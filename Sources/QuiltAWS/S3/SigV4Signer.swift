// AWS Signature Version 4 for S3 requests: canonical request, string to sign, signing key, Authorization header.
import QuiltSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Signs requests with AWS Signature Version 4 (header form).
public struct SigV4Signer: Sendable {
    /// The payload hash sent when a body is streamed without hashing it first.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// SHA-256 of no bytes.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public var region: String
    public var service: String

    public init(region: String, service: String = "s3") {
        self.region = region
        self.service = service
    }

    /// The timestamp forms SigV4 uses.
    public struct Timestamp: Sendable, Equatable {
        /// `YYYYMMDDTHHMMSSZ`.
        public var amzDate: String
        /// `YYYYMMDD`.
        public var date: String { String(amzDate.prefix(8)) }

        public init(amzDate: String) {
            self.amzDate = amzDate
        }

        /// The current UTC time. The text of the last second asked for is kept: a burst of requests signs
        /// hundreds in the same second.
        public static func now() -> Timestamp {
            let seconds = time(nil)
            if let kept = last.withLock({ $0?.seconds == seconds ? $0?.stamp : nil }) { return kept }
            let stamp = at(seconds)
            last.withLock { $0 = (seconds, stamp) }
            return stamp
        }

        private static let last = Locked<(seconds: time_t, stamp: Timestamp)?>(nil)

        static func at(_ time: time_t) -> Timestamp {
            var seconds = time
            var parts = tm()
            gmtime_r(&seconds, &parts)
            func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
            let stamp = "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T"
                + "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
            return Timestamp(amzDate: stamp)
        }
    }

    /// Adds `x-amz-date`, `x-amz-content-sha256`, `x-amz-security-token` (when the credentials have one) and
    /// `Authorization` to `headers`. `path` is the already-encoded URL path; `query` holds raw (unencoded) pairs.
    /// `headers` must contain `host`.
    public func sign(
        method: String, path: String, query: [(name: String, value: String)], headers: inout [(name: String, value: String)],
        payloadHash: String, credentials: AWSCredentials, timestamp: Timestamp = .now()
    ) {
        headers.append((name: "x-amz-date", value: timestamp.amzDate))
        headers.append((name: "x-amz-content-sha256", value: payloadHash))
        if let token = credentials.sessionToken { headers.append((name: "x-amz-security-token", value: token)) }
        let authorization = authorizationHeader(
            method: method, path: path, query: query, headers: headers, payloadHash: payloadHash,
            credentials: credentials, timestamp: timestamp)
        headers.append((name: "Authorization", value: authorization))
    }

    /// The `Authorization` value for a request whose headers are complete (every header given is signed).
    public func authorizationHeader(
        method: String, path: String, query: [(name: String, value: String)], headers: [(name: String, value: String)],
        payloadHash: String, credentials: AWSCredentials, timestamp: Timestamp
    ) -> String {
        let (canonical, signedHeaders) = canonicalRequestBytes(
            method: method, path: path, query: query, headers: headers, payloadHash: payloadHash)
        let toSign = stringToSignBytes(canonicalRequest: canonical, timestamp: timestamp)
        let key = signingKey(secretAccessKey: credentials.secretAccessKey, date: timestamp.date)
        let signature = S3Crypto.hex(S3Crypto.hmacSHA256(key: key, message: toSign))
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope(date: timestamp.date)),"
            + "SignedHeaders=\(signedHeaders),Signature=\(signature)"
    }

    /// The canonical request and the `;`-joined list of signed header names.
    public func canonicalRequest(
        method: String, path: String, query: [(name: String, value: String)], headers: [(name: String, value: String)],
        payloadHash: String
    ) -> (request: String, signedHeaders: String) {
        let (bytes, signedHeaders) = canonicalRequestBytes(
            method: method, path: path, query: query, headers: headers, payloadHash: payloadHash)
        return (String(decoding: bytes, as: UTF8.self), signedHeaders)
    }

    /// The canonical request as the bytes that are hashed, built in one buffer: every request is signed, and made
    /// of Strings joined, a dictionary of merged headers and Unicode-aware sorting it was a twentieth of a
    /// small-file install's CPU.
    func canonicalRequestBytes(
        method: String, path: String, query: [(name: String, value: String)], headers: [(name: String, value: String)],
        payloadHash: String
    ) -> (request: [UInt8], signedHeaders: String) {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        out.append(contentsOf: method.utf8)
        out.append(0x0A)
        if path.isEmpty { out.append(UInt8(ascii: "/")) } else { out.append(contentsOf: path.utf8) }
        out.append(0x0A)
        // Encoded names and values are ASCII, so byte order is the order SigV4 wants.
        if !query.isEmpty {
            let encoded = query.map { (Array(PercentEncoding.encode($0.name).utf8), Array(PercentEncoding.encode($0.value).utf8)) }
            let sorted = encoded.sorted { left, right in
                left.0 == right.0 ? left.1.lexicographicallyPrecedes(right.1) : left.0.lexicographicallyPrecedes(right.0)
            }
            for (i, pair) in sorted.enumerated() {
                if i > 0 { out.append(UInt8(ascii: "&")) }
                out.append(contentsOf: pair.0)
                out.append(UInt8(ascii: "="))
                out.append(contentsOf: pair.1)
            }
        }
        out.append(0x0A)
        // Header names are merged case-insensitively; repeated headers join their values with commas, in the order
        // given (the sort is by name, then by position).
        let lowered = headers.enumerated().map { (offset, header) in
            (name: Self.asciiLowercased(header.name), value: Self.normalizeHeaderValue(header.value), position: offset)
        }
        let sorted = lowered.sorted { left, right in
            left.name == right.name ? left.position < right.position : left.name.lexicographicallyPrecedes(right.name)
        }
        var signed: [UInt8] = []
        var previous: [UInt8]? = nil
        for header in sorted {
            if header.name == previous {
                out[out.count - 1] = UInt8(ascii: ",")
            } else {
                if previous != nil { signed.append(UInt8(ascii: ";")) }
                signed.append(contentsOf: header.name)
                out.append(contentsOf: header.name)
                out.append(UInt8(ascii: ":"))
                previous = header.name
            }
            out.append(contentsOf: header.value.utf8)
            out.append(0x0A)
        }
        out.append(0x0A)
        out.append(contentsOf: signed)
        out.append(0x0A)
        out.append(contentsOf: payloadHash.utf8)
        return (out, String(decoding: signed, as: UTF8.self))
    }

    /// A header name's bytes, ASCII letters lowered (names are ASCII tokens; other bytes are left as they are).
    private static func asciiLowercased(_ name: String) -> [UInt8] {
        name.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
    }

    /// `AWS4-HMAC-SHA256`, the timestamp, the scope and the hash of the canonical request.
    public func stringToSign(canonicalRequest: String, timestamp: Timestamp) -> String {
        String(decoding: stringToSignBytes(canonicalRequest: Array(canonicalRequest.utf8), timestamp: timestamp), as: UTF8.self)
    }

    func stringToSignBytes(canonicalRequest: [UInt8], timestamp: Timestamp) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160)
        out.append(contentsOf: "AWS4-HMAC-SHA256\n".utf8)
        out.append(contentsOf: timestamp.amzDate.utf8)
        out.append(0x0A)
        out.append(contentsOf: scope(date: timestamp.date).utf8)
        out.append(0x0A)
        out.append(contentsOf: S3Crypto.hex(S3Crypto.sha256(canonicalRequest)).utf8)
        return out
    }

    /// The key derived from the secret for one day, region and service: derived once and kept (four HMACs a
    /// request were a tenth of the client's CPU in an install of small files).
    public func signingKey(secretAccessKey: String, date: String) -> [UInt8] {
        let id = SigningKeyID(secret: secretAccessKey, date: date, region: region, service: service)
        if let known = Self.derivedKeys.withLock({ $0[id] }) { return known }
        let key = deriveSigningKey(secretAccessKey: secretAccessKey, date: date)
        Self.derivedKeys.withLock { keys in
            if keys.count >= 16 { keys.removeAll() }  // a few credentials and days at most; never grows
            keys[id] = key
        }
        return key
    }

    private struct SigningKeyID: Hashable {
        var secret, date, region, service: String
    }

    private static let derivedKeys = Locked<[SigningKeyID: [UInt8]]>([:])

    private func deriveSigningKey(secretAccessKey: String, date: String) -> [UInt8] {
        let dateKey = S3Crypto.hmacSHA256(key: Array("AWS4\(secretAccessKey)".utf8), message: Array(date.utf8))
        let regionKey = S3Crypto.hmacSHA256(key: dateKey, message: Array(region.utf8))
        let serviceKey = S3Crypto.hmacSHA256(key: regionKey, message: Array(service.utf8))
        return S3Crypto.hmacSHA256(key: serviceKey, message: Array("aws4_request".utf8))
    }

    private func scope(date: String) -> String {
        "\(date)/\(region)/\(service)/aws4_request"
    }

    /// Trims the value and collapses runs of spaces into one, as SigV4 requires.
    static func normalizeHeaderValue(_ value: String) -> String {
        if value.utf8.allSatisfy({ $0 >= 0x21 && $0 < 0x7F }) { return value }  // nothing to trim or fold
        var out = ""
        var pendingSpace = false
        for character in value.trimmingSpaces {
            if character == " " || character == "\t" {
                pendingSpace = true
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(character)
            }
        }
        return out
    }
}
