// The browser: a request's route, the revision it names opened (its index built once and kept), and a reply; the
// security headers and the log line every response gets. Pages are in the *Pages.swift files.
import Foundation
import Hummingbird
import Mustache
import NIOCore
import NIOPosix
import QuiltSupport
import QuiltFormat
import QuiltRegistry

/// One registry as the browser shows it: the slug that starts its paths.
struct ServedRegistry: Sendable {
    let slug: String
    let registry: Registry
}

/// A revision of a package, opened: its index, and the place its pages link to (by full top hash, so a link
/// never moves when `latest` does).
struct OpenedRevision: Sendable {
    let served: ServedRegistry
    let name: String
    let topHash: String
    let index: RevisionIndex
    /// What `latest` holds now.
    let latest: String?
    /// The revision as the URL gave it (nil: latest).
    let asked: String?

    var place: Route.Place { Route.Place(slug: served.slug, name: name, revision: topHash) }
    var isLatest: Bool { latest == topHash }
    var uri: QuiltURI { QuiltURI(registry: location, name: name, topHash: topHash) }
    var location: RegistryLocation { served.registry.location }
}

/// What a handler answers.
enum Reply: Sendable {
    /// A page, written by `render` as it is worked out (after `head`).
    case page(status: HTTPResponse.Status, title: String, crumbs: [Crumb], render: @Sendable (Page) throws -> Void)
    /// Bytes known whole.
    case bytes(status: HTTPResponse.Status, headers: HTTPFields, body: [UInt8])
    /// Bytes streamed from a producer already started (its first chunk checked).
    case stream(status: HTTPResponse.Status, headers: HTTPFields, length: Int?, queue: ChunkQueue?)
}

/// One step of the breadcrumbs; the last has no link.
struct Crumb: Sendable {
    var text: String
    var href: String?

    var context: [String: Any] { href.map { ["text": text, "href": $0] } ?? ["text": text] }
}

final class Browser: Sendable {
    let registries: [ServedRegistry]
    let indexes: IndexCache
    let reader: EntryReader
    let templates: MustacheLibrary
    let pool: NIOThreadPool
    let log: @Sendable (String) -> Void

    /// Every response's: scripts, frames, plugins and other origins' resources refused; the stylesheet and images
    /// from this server only; forms submit here only.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    /// Inline bytes of a stored file (an SVG image opened by itself) are sandboxed too.
    static let rawContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; sandbox"

    init(configuration: BrowserConfiguration, pool: NIOThreadPool) throws {
        registries = Self.slugs(configuration.registries)
        indexes = IndexCache(directory: configuration.context.revisionIndexDirectory)
        reader = configuration.context.entryReader
        templates = try Templates.library()
        self.pool = pool
        log = configuration.log
    }

    /// A short name per registry for its paths: an S3 bucket's name, a directory's last component, made unique.
    static func slugs(_ registries: [Registry]) -> [ServedRegistry] {
        var taken: Set<String> = []
        return registries.map { registry in
            var base: String
            switch registry.location {
            case .s3(let bucket, let prefix): base = prefix.isEmpty ? bucket : bucket + "-" + prefix
            case .local(let path): base = FileSystem.baseName(of: path)
            }
            base = String(base.unicodeScalars.map { scalar -> Character in
                scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "-" || scalar == "_" || scalar == ".")
                    ? Character(scalar) : "-"
            })
            while base.hasPrefix("-") || base.hasPrefix(".") { base.removeFirst() }
            if base.isEmpty { base = "registry" }
            var slug = base
            var n = 2
            while taken.contains(slug) {
                slug = "\(base)-\(n)"
                n += 1
            }
            taken.insert(slug)
            return ServedRegistry(slug: slug, registry: registry)
        }
    }

    // MARK: Requests

    func respond(to request: Request, remote: String) async -> Response {
        let started = ContinuousClock.now
        let target = request.head.path ?? "/"
        let isHead = request.method == .head
        var reply: Reply
        if request.method != .get && !isHead {
            reply = errorReply(ServeError.methodNotAllowed(request.method.rawValue))
        } else if let route = Route(target: target) {
            do {
                reply = try await handle(route, request: request, isHead: isHead)
            } catch {
                reply = errorReply(error)
            }
        } else {
            reply = errorReply(ServeError.notFound("no such page"))
        }
        let line = { @Sendable (status: HTTPResponse.Status, bytes: Int, failure: (any Error)?) in
            let elapsed = (ContinuousClock.now - started).components
            let milliseconds = Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15
            var text = "\(remote) \"\(request.method.rawValue) \(target)\" \(status.code) \(bytes) \(String(format: "%.1f", milliseconds))ms"
            if let failure { text += " cut short: " + Self.describe(failure) }
            self.log(text)
        }
        var response = makeResponse(reply, isHead: isHead, log: line)
        if response.status == .methodNotAllowed { response.headers[.allow] = "GET, HEAD" }
        return response
    }

    /// The response for a reply: the security headers on all of them, a HEAD's without its body.
    func makeResponse(_ reply: Reply, isHead: Bool,
                      log: @escaping @Sendable (HTTPResponse.Status, Int, (any Error)?) -> Void) -> Response {
        var headers = HTTPFields()
        headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        headers[.init("Referrer-Policy")!] = "no-referrer"
        headers[.init("X-Frame-Options")!] = "DENY"
        switch reply {
        case .page(let status, let title, let crumbs, let render):
            headers[.contentType] = "text/html; charset=utf-8"
            headers[.cacheControl] = "no-cache"
            if isHead {
                log(status, 0, nil)
                return Response(status: status, headers: headers)
            }
            let queue = ChunkQueue.start { writer in
                let page = Page(writer: writer, templates: self.templates)
                try page.render("head", ["title": title, "crumbs": crumbs.map(\.context)])
                try writer.flush()
                do {
                    try render(page)
                } catch let cancelled as ChunkQueue.Cancelled {
                    throw cancelled
                } catch {
                    try page.failure(error)
                }
                try page.render("foot", [:])
            }
            return Response(status: status, headers: headers,
                            body: queue.responseBody { queue, error in log(status, queue.delivered, error) })
        case .bytes(let status, let extra, let body):
            for field in extra { headers[field.name] = field.value }
            headers[.contentLength] = String(body.count)
            log(status, isHead ? 0 : body.count, nil)
            return Response(status: status, headers: headers, body: isHead ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        case .stream(let status, let extra, let length, let queue):
            for field in extra { headers[field.name] = field.value }
            if let length { headers[.contentLength] = String(length) }
            guard let queue, !isHead else {
                log(status, 0, nil)
                return Response(status: status, headers: headers)
            }
            return Response(status: status, headers: headers,
                            body: queue.responseBody(contentLength: length) { queue, error in log(status, queue.delivered, error) })
        }
    }

    func handle(_ route: Route, request: Request, isHead: Bool) async throws -> Reply {
        switch route {
        case .home: return homePage(only: nil)
        case .style: return .bytes(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"],
                                   body: Array(Style.css.utf8))
        case .registry(let slug):
            guard registries.contains(where: { $0.slug == slug }) else { throw ServeError.notFound("no registry \(quoted(slug)) is served") }
            return homePage(only: slug)
        case .package(let place): return try await packagePage(place)
        case .tree(let place, let path): return try await directoryPage(place, path: path, query: request.uri.query ?? "")
        case .file(let place, let key): return try await filePage(place, key: key)
        case .raw(let place, let key): return try await rawBytes(place, key: key, request: request, isHead: isHead)
        case .download(let place, let key): return try await download(place, key: key, request: request, isHead: isHead)
        case .revisions(let slug, let name): return try await revisionsPage(slug: slug, name: name)
        case .compare(let slug, let name, let from, let to): return try await comparePage(slug: slug, name: name, from: from, to: to)
        }
    }

    // MARK: Opening what a URL names

    func served(_ slug: String) throws -> ServedRegistry {
        guard let served = registries.first(where: { $0.slug == slug }) else {
            throw ServeError.notFound("no registry \(quoted(slug)) is served")
        }
        return served
    }

    /// Runs blocking work (storage reads, an index build) off Swift concurrency's threads.
    func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }

    /// The revision `place` names, opened (blocking).
    func open(_ place: Route.Place) throws -> OpenedRevision {
        let served = try served(place.slug)
        let registry = served.registry
        let topHash: String
        let latest = try registry.latest(place.name)
        switch place.revision {
        case nil, "latest"?:
            guard let latest else {
                if try registry.pointers(place.name).isEmpty { throw ServeError.notFound("no package \(quoted(place.name))") }
                throw ServeError.notFound("\(quoted(place.name)) has no latest revision; see its revisions")
            }
            topHash = latest
        case let text?:
            let spec = text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) && text.utf8.count <= 20 ? ":" + text : "@" + text
            topHash = try registry.resolve(try Revision(place.name + spec, allowBareHash: false))
        }
        let index = try indexes.index(served, topHash: topHash)
        return OpenedRevision(served: served, name: place.name, topHash: topHash, index: index, latest: latest,
                              asked: place.revision)
    }

    /// The node `path` names in `opened`, or 404.
    func node(_ opened: OpenedRevision, _ path: String) throws -> RevisionIndex.Node {
        guard let node = opened.index.lookup(path) else { throw ServeError.notFound("no such path in the package \(quoted(path))") }
        return node
    }

    // MARK: Errors

    func errorReply(_ error: any Error) -> Reply {
        let (status, message, hint) = Self.classify(error)
        return .page(status: status, title: "\(status.code) \(status.reasonPhrase)", crumbs: []) { page in
            var context: [String: Any] = ["status": "\(status.code) \(status.reasonPhrase)", "message": message]
            if let hint { context["hint"] = hint }
            try page.render("error", context)
        }
    }

    /// The status a failure answers with, its message and hint.
    static func classify(_ error: any Error) -> (HTTPResponse.Status, String, String?) {
        switch error {
        case let error as ServeError:
            return (error.status, error.message, error.hint)
        case let error as RegistryError:
            switch error {
            case .noSuchPackage, .noSuchRevision, .noSuchManifest, .ambiguousPrefix, .invalidRevision, .invalidPackageName:
                return (.notFound, error.message, error.hint)
            default:
                return (.internalServerError, error.message, error.hint)
            }
        case let error as ReadError:
            switch error {
            case .noSuchKey, .isADirectory: return (.notFound, error.message, nil)
            case .rangeOutsideEntry: return (.rangeNotSatisfiable, error.message, nil)
            case .hashMismatch, .sizeMismatch, .changedWhileRead:
                return (.badGateway, error.message, "the stored object is not what the manifest says; nothing of it was served")
            case .listingRestarted: return (.internalServerError, error.message, nil)
            }
        case let error as any QuiltError:
            return (.internalServerError, error.message, error.hint)
        default:
            return (.internalServerError, describe(error), nil)
        }
    }

    static func describe(_ error: any Error) -> String {
        (error as? any QuiltError)?.message ?? "\(error)"
    }
}

/// A page being written: templates rendered into the response as they come.
final class Page: @unchecked Sendable {
    // Unchecked: used by its one producer thread.
    let writer: BodyWriter
    let templates: MustacheLibrary

    init(writer: BodyWriter, templates: MustacheLibrary) {
        self.writer = writer
        self.templates = templates
    }

    func render(_ template: String, _ context: [String: Any]) throws {
        guard let text = Templates.render(templates, template, context) else { preconditionFailure("no template \(template)") }
        try writer.write(text)
    }

    /// HTML made here (escaped already).
    func html(_ text: String) throws { try writer.write(text) }

    func flush() throws { try writer.flush() }

    /// A failure part-way through a page, shown where it happened.
    func failure(_ error: any Error) throws {
        let (_, message, hint) = Browser.classify(error)
        try html("<p class=\"error\">" + escapeHTML(message) + "</p>" + (hint.map { "<p class=\"hint\">" + escapeHTML($0) + "</p>" } ?? ""))
    }
}

/// Revision indexes, each opened (or built) once and kept open; one build at a time per revision, the others asking
/// for it waiting.
final class IndexCache: @unchecked Sendable {
    // Unchecked: every field is touched with `condition` locked.
    private let condition = NSCondition()
    private var open: [String: RevisionIndex] = [:]
    private var recent: [String] = []
    private var building: Set<String> = []
    let directory: String
    /// Mappings kept open (they cost address space, not memory).
    static let limit = 256

    init(directory: String) { self.directory = directory }

    func index(_ served: ServedRegistry, topHash: String) throws -> RevisionIndex {
        let key = served.slug + "/" + topHash
        condition.lock()
        while building.contains(key) { condition.wait() }
        if let index = open[key] {
            recent.removeAll { $0 == key }
            recent.append(key)
            condition.unlock()
            return index
        }
        building.insert(key)
        condition.unlock()
        defer {
            condition.lock()
            building.remove(key)
            condition.broadcast()
            condition.unlock()
        }
        let index = try RevisionIndex.open(served.registry, topHash: topHash, directory: directory)
        condition.lock()
        open[key] = index
        recent.append(key)
        if recent.count > Self.limit { open[recent.removeFirst()] = nil }
        condition.unlock()
        return index
    }

    /// The index if it is open already (the package list shows sizes only of revisions opened before, or builds).
    func ifOpen(_ served: ServedRegistry, topHash: String) -> RevisionIndex? {
        condition.lock()
        defer { condition.unlock() }
        return open[served.slug + "/" + topHash]
    }
}

/// The browser's own failures, each with the status it answers.
enum ServeError: QuiltError {
    case notFound(String)
    case methodNotAllowed(String)
    case cannotListen(address: String, reason: String)
    case noInlineView(String)

    var status: HTTPResponse.Status {
        switch self {
        case .notFound, .noInlineView: return .notFound
        case .methodNotAllowed: return .methodNotAllowed
        case .cannotListen: return .internalServerError
        }
    }

    var kind: FailureKind { .operationFailed }

    var message: String {
        switch self {
        case .notFound(let what): return what
        case .methodNotAllowed(let method): return "\(method) is not allowed: the browser only reads (GET and HEAD)"
        case .cannotListen(let address, let reason): return "cannot listen on \(address): \(reason)"
        case .noInlineView(let key): return "\(quoted(key)) has no inline view; download it instead"
        }
    }
}
