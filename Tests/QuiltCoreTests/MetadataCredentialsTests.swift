// Container and EC2 instance-metadata credentials, served by a tiny local HTTP server.
import Foundation
import Testing
@testable import QuiltSupport
@testable import QuiltFormat
@testable import QuiltHTTP
@testable import QuiltStorage
@testable import QuiltAWS
@testable import QuiltRegistry

/// A one-thread HTTP/1.0-style server on 127.0.0.1 that answers each request with `respond(method, path, headers)`
/// and records what it saw. Enough for the metadata protocols; closes each connection after one answer.
final class TinyHTTPServer: @unchecked Sendable {
    // Unchecked: `seen` is only touched under `lock`; the socket is owned by the serving thread after start.
    let port: Int
    private let socketFD: Int32
    private let lock = NSLock()
    private var seen: [String] = []
    /// Signalled when the serving thread has returned: only then may the socket number be given back, or the
    /// thread could accept on a descriptor another test has reused (and answer its requests).
    private let finished = DispatchSemaphore(value: 0)

    init(respond: @escaping @Sendable (String, String, [String: String]) -> (Int, String)) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(fd, pointer, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw FileSystemError.cannotOpen(path: "127.0.0.1", reason: "cannot listen")
        }
        socketFD = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in
            defer { finished.signal() }
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                var buffer = [UInt8](repeating: 0, count: 65536)
                let count = read(client, &buffer, buffer.count)
                let text = String(decoding: buffer.prefix(max(0, count)), as: UTF8.self)
                let lines = text.components(separatedBy: "\r\n")
                let requestLine = (lines.first ?? "").split(separator: " ")
                var headers: [String: String] = [:]
                for line in lines.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                let method = requestLine.count > 0 ? String(requestLine[0]) : ""
                let path = requestLine.count > 1 ? String(requestLine[1]) : ""
                lock.lock()
                seen.append("\(method) \(path)")
                lock.unlock()
                let (status, body) = respond(method, path, headers)
                let response = "HTTP/1.1 \(status) X\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
                _ = Array(response.utf8).withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                close(client)
            }
        }
    }

    var requests: [String] {
        lock.lock()
        defer { lock.unlock() }
        return seen
    }

    /// Ends the serving thread (its `accept` fails) and frees the socket.
    func stop() {
        shutdown(socketFD, Int32(SHUT_RDWR))
        finished.wait()
        close(socketFD)
    }
}

@Suite struct MetadataCredentialsTests {
    static let document = #"{"AccessKeyId":"ASIAMETA","SecretAccessKey":"S","Token":"TOK","Expiration":"2099-01-01T00:00:00Z"}"#

    @Test func containerCredentialsWithAuthorizationToken() throws {
        let server = try TinyHTTPServer { method, path, headers in
            guard method == "GET", path == "/creds", headers["authorization"] == "secret-token" else { return (401, "") }
            return (200, Self.document)
        }
        defer { server.stop() }
        let environment = [
            "HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:\(server.port)/creds",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "secret-token",
        ]
        let credentials = try #require(try DefaultCredentialsChain(environment: environment).credentials())
        #expect(credentials.accessKeyId == "ASIAMETA" && credentials.sessionToken == "TOK")
        #expect(credentials.expiration != nil)
    }

    @Test func instanceMetadataV2TokenThenRoleThenCredentials() throws {
        let server = try TinyHTTPServer { method, path, headers in
            switch (method, path) {
            case ("PUT", "/latest/api/token"):
                return headers["x-aws-ec2-metadata-token-ttl-seconds"] != nil ? (200, "IMDSTOKEN") : (400, "")
            case ("GET", "/latest/meta-data/iam/security-credentials/"):
                return headers["x-aws-ec2-metadata-token"] == "IMDSTOKEN" ? (200, "my-role\n") : (401, "")
            case ("GET", "/latest/meta-data/iam/security-credentials/my-role"):
                return headers["x-aws-ec2-metadata-token"] == "IMDSTOKEN" ? (200, Self.document) : (401, "")
            default: return (404, "")
            }
        }
        defer { server.stop() }
        let environment = ["HOME": "/nonexistent", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(server.port)/"]
        let chain = DefaultCredentialsChain(environment: environment)
        #expect(try chain.credentials()?.accessKeyId == "ASIAMETA")
        #expect(
            server.requests == [
                "PUT /latest/api/token", "GET /latest/meta-data/iam/security-credentials/",
                "GET /latest/meta-data/iam/security-credentials/my-role",
            ])
        // Cached: no second round of requests while the credentials are far from expiring.
        _ = try chain.credentials()
        #expect(server.requests.count == 3)
    }

    @Test func expiringCredentialsAreRefreshed() throws {
        let soon = ISO8601DateFormatter().string(from: Date().addingTimeInterval(60))
        let server = try TinyHTTPServer { _, _, _ in
            (200, #"{"AccessKeyId":"A","SecretAccessKey":"S","Token":"T","Expiration":"\#(soon)"}"#)
        }
        defer { server.stop() }
        let environment = [
            "HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:\(server.port)/creds",
        ]
        let chain = DefaultCredentialsChain(environment: environment, refreshMargin: 300)
        _ = try chain.credentials()
        _ = try chain.credentials()
        // Within the refresh margin every use fetches again.
        #expect(server.requests.count == 2)
    }
}
