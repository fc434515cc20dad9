// The catalog's HTTP calls: small JSON documents over QuiltHTTP, tried again as S3's requests are, with transport
// failures turned into catalog errors that name the URL and the cause (never a request body, which may hold a code
// or a token).
import QuiltSupport
import QuiltFormat
import QuiltHTTP

struct CatalogHTTP: Sendable {
    let client: HTTPClient
    let retry: RetryPolicy

    /// `timeout`: seconds for a whole request (config.yml's `requests_timeout`; default 60).
    init(timeout: Double?, retry: RetryPolicy) {
        let limit = timeout ?? 60
        client = HTTPClient(configuration: .init(connectTimeout: min(10, limit), requestTimeout: limit,
                                                 stallTimeout: nil, maxIdleHandles: 2))
        self.retry = retry
    }

    static let userAgent = "quilt-swift"

    /// GET a JSON document; returns the status and the body parsed as JSON (nil when it is not JSON).
    func get(_ url: String, bearer: String? = nil) throws -> (status: Int, json: JSONValue?) {
        var headers: [(name: String, value: String)] = [("Accept", "application/json"), ("User-Agent", Self.userAgent)]
        if let bearer { headers.append(("Authorization", "Bearer " + bearer)) }
        return try send(HTTPRequest(method: "GET", url: url, headers: headers), idempotent: true)
    }

    /// POST a form (`application/x-www-form-urlencoded`, encoded as Python's `urlencode`). Tried again only when
    /// the catalog cannot have seen it: the form spends a one-time code or a refresh token.
    func postForm(_ url: String, _ fields: [(String, String)]) throws -> (status: Int, json: JSONValue?) {
        let body = fields.map { PercentEncoding.encodePlus($0.0) + "=" + PercentEncoding.encodePlus($0.1) }
            .joined(separator: "&")
        return try send(HTTPRequest(method: "POST", url: url, headers: [
            ("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json"),
            ("User-Agent", Self.userAgent),
        ], body: .bytes(Array(body.utf8))), idempotent: false)
    }

    private func send(_ request: HTTPRequest, idempotent: Bool) throws -> (status: Int, json: JSONValue?) {
        let response: HTTPResponse
        do {
            response = try client.perform(request, retry: retry, idempotent: idempotent)
        } catch let error as HTTPError {
            throw CatalogError.unreachable(url: request.url, cause: Self.cause(error))
        }
        return (response.status, try? JSONParser.parse(response.body))
    }

    /// The transport failure without the URL (the catalog error names it once).
    static func cause(_ error: HTTPError) -> String {
        switch error {
        case .timedOut(_, let detail): return "timed out (\(detail))"
        case .cannotConnect(_, let detail), .tls(_, let detail), .transport(_, let detail): return detail
        case .localFile(_, let detail), .destination(let detail), .unavailable(let detail): return detail
        }
    }
}
