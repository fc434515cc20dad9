// One HTTP request as the S3 layer hands it to libcurl: method, URL, headers, and where the body comes from.

/// Where a request body comes from.
public enum HTTPBody: Sendable, Equatable {
    /// No body.
    case empty
    /// Bytes already in memory.
    case bytes([UInt8])
    /// `length` bytes of a local file starting at `offset`, read while sending so big files never sit in memory.
    case fileRange(path: String, offset: Int, length: Int)

    /// The number of bytes the body sends.
    public var count: Int {
        switch self {
        case .empty: return 0
        case .bytes(let bytes): return bytes.count
        case .fileRange(_, _, let length): return length
        }
    }
}

/// Where a response body goes.
public enum HTTPResponseDestination: Sendable, Equatable {
    /// Collected in `HTTPResponse.body`.
    case memory
    /// Written to an open file descriptor starting at `offset` (with `pwrite`, so ranged downloads of one file can
    /// run in parallel). Only a successful (2xx) body goes there; an error body is collected in memory.
    case file(descriptor: Int32, offset: Int)
}

/// A request for `HTTPClient`.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The full URL, already percent-encoded.
    public var url: String
    /// Header fields in the order they are sent.
    public var headers: [(name: String, value: String)]
    public var body: HTTPBody

    public init(method: String, url: String, headers: [(name: String, value: String)] = [], body: HTTPBody = .empty) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}
