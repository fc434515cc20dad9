// The registry browser's server: Hummingbird's HTTP/1.1 server on NIO with one responder of our own (so that a
// path is parsed as a logical key, never routed by patterns or mapped to files), every response carrying the same
// security headers, one log line per request, and a clean stop on SIGINT or SIGTERM.
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import UnixSignals
import QuiltSupport
import QuiltRegistry

/// What the browser serves and how it reports.
public struct BrowserConfiguration: Sendable {
    /// The registries shown, in order (each gets a slug, the first segment of its pages' paths).
    public var registries: [Registry]
    public var host: String
    /// 0: any free port (the one taken is in the URL `ready` gets).
    public var port: Int
    /// Its entry reader (object cache, S3 client, settings) and where revision indexes are kept.
    public var context: QuiltContext
    /// One line per request, and notes (stopping).
    public var log: @Sendable (String) -> Void
    /// Called once the server listens, with the URL of its first page.
    public var ready: @Sendable (String) -> Void

    public init(registries: [Registry], host: String, port: Int, context: QuiltContext,
                log: @escaping @Sendable (String) -> Void, ready: @escaping @Sendable (String) -> Void) {
        self.registries = registries
        self.host = host
        self.port = port
        self.context = context
        self.log = log
        self.ready = ready
    }
}

public enum RegistryBrowser {
    /// Serves until SIGINT or SIGTERM, then stops taking connections, lets the requests in flight finish (for at
    /// most a few seconds; a second signal stops at once) and returns. A failure to listen is thrown.
    public static func run(_ configuration: BrowserConfiguration) throws {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        defer { try? pool.syncShutdownGracefully() }
        let browser = try Browser(configuration: configuration, pool: pool)
        let logger = Logger(label: "quilt-serve") { _ in SwiftLogNoOpLogHandler() }
        let app = Application(
            responder: BrowserResponder(browser: browser),
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port),
                                                    serverName: nil, reuseAddress: true),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
                configuration.ready("http://\(host):\(port)/")
            },
            logger: logger)
        let outcome = Locked<Result<Void, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let stopping = StopWatchdog(log: configuration.log)
        Task {
            do {
                try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
                outcome.withLock { $0 = .success(()) }
            } catch {
                outcome.withLock { $0 = .failure(error) }
            }
            done.signal()
        }
        done.wait()
        stopping.cancel()
        switch outcome.value {
        case .failure(let error)?:
            // NIO's IOError reads "bind(descriptor:ptr:bytes:): Address already in use) (errno: 98)": say the system's words.
            let reason = (error as? IOError).map { errnoText($0.errnoCode) } ?? "\(error)"
            throw ServeError.cannotListen(address: "\(configuration.host):\(configuration.port)", reason: reason)
        default: return
        }
    }
}

/// On the first SIGINT or SIGTERM (which the server's own handler turns into a graceful stop), says so and gives
/// the requests in flight five seconds; a second signal, or the end of those seconds, ends the process.
final class StopWatchdog: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    private let queue = DispatchQueue(label: "quilt-serve.signals")

    init(log: @escaping @Sendable (String) -> Void) {
        let signals = Locked(0)
        let queue = self.queue
        sources = [SIGINT, SIGTERM].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                let count = signals.withLock { count -> Int in
                    count += 1
                    return count
                }
                if count == 1 {
                    log("stopping: no new connections; requests in flight have 5 seconds to finish")
                    queue.asyncAfter(deadline: .now() + 5) {
                        log("stopped with requests still in flight")
                        exit(0)
                    }
                } else {
                    log("stopped at once")
                    exit(0)
                }
            }
            source.resume()
            return source
        }
    }

    func cancel() { for source in sources { source.cancel() } }
}

/// The request context: Hummingbird's core storage and the address the request came from.
struct BrowserRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let remote: String

    init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remote = source.channel.remoteAddress?.ipAddress ?? "-"
    }
}

/// Hands every request to the browser.
struct BrowserResponder: HTTPResponder {
    typealias Context = BrowserRequestContext
    let browser: Browser

    func respond(to request: Request, context: BrowserRequestContext) async throws -> Response {
        await browser.respond(to: request, remote: context.remote)
    }
}
