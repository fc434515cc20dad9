// quilt3's catalog protocol: the catalog's config.json, the exchange of a one-time code (or a stored refresh
// token) for tokens at `<registryUrl>/api/token`, and AWS credentials from `<registryUrl>/api/auth/get_credentials`.
import QuiltSupport
import QuiltFormat
import QuiltHTTP
import QuiltAWS

public struct CatalogSession: Sendable {
    /// The registry URL exactly as config.yml has it: the key of auth.json, and where the API is.
    public let registryURL: String
    public let files: CatalogFiles
    let http: CatalogHTTP
    let now: @Sendable () -> Double

    /// `timeout`: seconds per request (config.yml's `requests_timeout`; default 60); `retry`: how a request that
    /// may succeed on a second try is tried again (the S3 client's policy).
    public init(registryURL: String, dataDirectory: String, timeout: Double? = nil, retry: RetryPolicy = RetryPolicy(),
                now: @escaping @Sendable () -> Double = WallClock.now) {
        self.registryURL = registryURL
        files = CatalogFiles(dataDirectory: dataDirectory)
        http = CatalogHTTP(timeout: timeout, retry: retry)
        self.now = now
    }

    /// Where the user gets a one-time code.
    public var loginURL: String { registryURL + "/login" }

    /// The catalog's `config.json` (`catalogURL` without a trailing slash).
    public static func fetchConfig(catalogURL: String, timeout: Double? = nil, retry: RetryPolicy = RetryPolicy())
        throws -> JSONObject
    {
        let url = catalogURL + "/config.json"
        let (status, json) = try CatalogHTTP(timeout: timeout, retry: retry).get(url)
        guard status == 200 else { throw CatalogError.httpStatus(url: url, status: status) }
        guard case .object(let object)? = json else { throw CatalogError.badResponse(url: url, detail: "not a JSON object") }
        return object
    }

    /// Signs in with a one-time code as quilt3's `login_with_token` does: exchange it for tokens and store them
    /// under this registry in auth.json (other registries' entries stay), then fetch and store AWS credentials.
    /// Returns the credentials' expiry as the catalog wrote it.
    @discardableResult
    public func login(code: String) throws -> String {
        let tokens: CatalogTokens
        do {
            tokens = try exchange(code)
        } catch CatalogError.httpStatus(_, let status) where status == 400 || status == 401 || status == 403 {
            throw CatalogError.codeRejected(loginURL: loginURL, detail: nil)
        }
        var auth = try files.loadAuth()
        auth[registryURL] = tokens.json
        try files.saveAuth(auth)
        let stored = try fetchCredentials(accessToken: tokens.accessToken)
        return stored["expiry_time"]?.stringValue ?? ""
    }

    /// Renews what expired and stores fresh AWS credentials: the access token first if it expires within a minute
    /// (quilt3's rule; the refresh token rotates), then the credentials. Errors say to sign in again.
    public func refreshCredentials() throws -> AWSCredentials {
        do {
            let stored = try fetchCredentials(accessToken: try accessToken())
            guard let credentials = StoredCredentials.credentials(stored) else {
                throw CatalogError.badResponse(url: registryURL + "/api/auth/get_credentials", detail: "missing keys")
            }
            return credentials
        } catch let error as CatalogError {
            switch error {
            case .refreshFailed, .notSignedIn, .unreadableFile: throw error
            default: throw CatalogError.refreshFailed(detail: error.message)
            }
        }
    }

    /// The stored access token, renewed first when it expires within 60 seconds.
    func accessToken() throws -> String {
        var auth = try files.loadAuth()
        guard let tokens = CatalogTokens(auth[registryURL]) else { throw CatalogError.notSignedIn(registryURL: registryURL) }
        guard let expires = tokens.expiresAt.seconds, expires < now() + 60 else { return tokens.accessToken }
        let fresh: CatalogTokens
        do {
            fresh = try exchange(tokens.refreshToken)
        } catch let error as CatalogError {
            throw CatalogError.refreshFailed(detail: "the access token: " + error.message)
        }
        auth[registryURL] = fresh.json
        try files.saveAuth(auth)
        return fresh.accessToken
    }

    /// `POST /api/token` with `refresh_token=<code or refresh token>`: quilt3 sends both the same way.
    func exchange(_ token: String) throws -> CatalogTokens {
        let url = registryURL + "/api/token"
        let (status, json) = try http.postForm(url, [("refresh_token", token)])
        guard status == 200 else { throw CatalogError.httpStatus(url: url, status: status) }
        if case .object(let object)? = json, let error = object["error"], error != .null {
            let said = error.stringValue ?? JSONWriter.manifestForm(error)
            throw CatalogError.codeRejected(loginURL: loginURL, detail: Self.withoutSecret(said, secret: token))
        }
        guard let tokens = CatalogTokens(json) else {
            throw CatalogError.badResponse(url: url, detail: "expected refresh_token, access_token and expires_at")
        }
        return tokens
    }

    /// What the catalog said, without the secret it was sent (a catalog may quote the code it refused): every
    /// occurrence, in any case and as sent in the form, becomes `<code>`; if a long piece of it is still there
    /// (quoted in part, or transformed), nothing the catalog said is shown.
    static func withoutSecret(_ text: String, secret: String) -> String {
        guard !secret.isEmpty else { return text }
        // Compared as bytes with ASCII letters folded: codes and tokens are ASCII.
        func folded(_ s: String) -> [UInt8] { s.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 } }
        func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
            guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
            return (0...(haystack.count - needle.count)).first { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
        }
        var shown = Array(text.utf8)
        for form in Set([secret, PercentEncoding.encodePlus(secret), PercentEncoding.encode(secret)]) {
            let needle = folded(form)
            while let at = find(needle, in: shown.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }) {
                shown.replaceSubrange(at..<(at + needle.count), with: Array("<code>".utf8))
            }
        }
        let key = folded(secret), lowered = shown.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        let window = min(8, key.count)
        for start in 0...(key.count - window) where find(Array(key[start..<(start + window)]), in: lowered) != nil {
            return "(its words quote the code, so they are not shown)"
        }
        return String(decoding: shown, as: UTF8.self)
    }

    /// `GET /api/auth/get_credentials` with the access token; stores (unless `store` is false) and returns quilt3's
    /// credentials.json object.
    func fetchCredentials(accessToken: String, store: Bool = true) throws -> JSONObject {
        let url = registryURL + "/api/auth/get_credentials"
        let (status, json) = try http.get(url, bearer: accessToken)
        guard status == 200 else { throw CatalogError.httpStatus(url: url, status: status) }
        guard let stored = StoredCredentials.fromCatalog(json) else {
            throw CatalogError.badResponse(url: url, detail: "expected AccessKeyId, SecretAccessKey, SessionToken and Expiration")
        }
        if store { try files.saveCredentials(stored) }
        return stored
    }

    /// AWS credentials for an API key (quilt3's `login_with_api_key`: the key is the bearer token of the
    /// credentials request, with no token exchange). Nothing is written: the key lives in the environment, the
    /// credentials in memory.
    public func credentials(apiKey: String) throws -> AWSCredentials {
        let url = registryURL + "/api/auth/get_credentials"
        let stored: JSONObject
        do {
            stored = try fetchCredentials(accessToken: apiKey, store: false)
        } catch CatalogError.httpStatus(_, let status) where status == 401 || status == 403 {
            throw CatalogError.apiKeyRejected(registryURL: registryURL, status: status)
        }
        guard let credentials = StoredCredentials.credentials(stored) else {
            throw CatalogError.badResponse(url: url, detail: "missing keys")
        }
        return credentials
    }

    /// quilt3's `logout`: both files become `{}` (every registry's tokens go). Returns false when there was
    /// nothing to clear.
    public static func logout(files: CatalogFiles) throws -> Bool {
        let auth = (try? files.loadAuth()) ?? JSONObject([("unreadable", .null)])
        let credentials = (try? files.loadCredentials()) ?? JSONObject([("unreadable", .null)])
        guard !auth.isEmpty || !credentials.isEmpty else { return false }
        try files.saveAuth(JSONObject())
        try files.saveCredentials(JSONObject())
        return true
    }
}
