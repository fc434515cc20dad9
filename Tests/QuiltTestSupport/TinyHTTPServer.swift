// A stub HTTP server on 127.0.0.1 for tests of the clients that talk to metadata services, STS, SSO portals and
// catalogs: it answers each request with what the test says, and records what it saw.
import Foundation
import QuiltSupport

/// A one-thread HTTP/1.0-style server on 127.0.0.1 that answers each request with `respond(method, path, headers)`
/// and records what it saw. Enough for the metadata protocols; closes each connection after one answer. A status of
/// 0 closes the connection without answering (a server that drops the request).
public final class TinyHTTPServer: @unchecked Sendable {
    // Unchecked: `seen` is only touched under `lock`; the socket is owned by the serving thread after start.
    public let port: Int
    private let socketFD: Int32
    private let lock = NSLock()
    private var seen: [String] = []
    /// Signalled when the serving thread has returned: only then may the socket number be given back, or the
    /// thread could accept on a descriptor another test has reused (and answer its requests).
    private let finished = DispatchSemaphore(value: 0)

    public init(respond: @escaping @Sendable (String, String, [String: String]) -> (Int, String)) throws {
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
                if status == 0 {
                    close(client)
                    continue
                }
                let response = "HTTP/1.1 \(status) X\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
                _ = Array(response.utf8).withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                close(client)
            }
        }
    }

    public var requests: [String] {
        lock.lock()
        defer { lock.unlock() }
        return seen
    }

    /// Ends the serving thread (its `accept` fails) and frees the socket.
    public func stop() {
        shutdown(socketFD, Int32(SHUT_RDWR))
        finished.wait()
        close(socketFD)
    }
}
