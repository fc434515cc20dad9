// What came back for one HTTP request.

/// A response from `HTTPClient`.
public struct HTTPResponse: Sendable {
    /// The HTTP status code.
    public var status: Int
    /// Header fields with lowercased names, in the order received (of the final response only).
    public var headers: [(name: String, value: String)]
    /// The body, when it was collected in memory (always for non-2xx responses).
    public var body: [UInt8]
    /// Bytes written to the destination file descriptor, for `.file` destinations.
    public var bytesWritten: Int

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8], bytesWritten: Int = 0) {
        self.status = status
        self.headers = headers
        self.body = body
        self.bytesWritten = bytesWritten
    }

    /// The value of the first header called `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        // Callers name headers in lower case already: only a name with an upper-case letter is lowered.
        let lower = name.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) ? name.lowercased() : name
        return headers.first { $0.name == lower }?.value
    }
}
