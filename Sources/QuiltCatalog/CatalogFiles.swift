// quilt3's sign-in files, in its place and format, so that a sign-in by either tool serves the other:
// `auth.json` (the catalog tokens, keyed by registry URL) and `credentials.json` (one set of AWS credentials),
// both in the Quilt data directory, mode 0600, written as Python's `json.dump` writes them (no final newline).
import QuiltSupport
import QuiltFormat
import QuiltAWS
import Foundation

public struct CatalogFiles: Sendable {
    public let authPath: String
    public let credentialsPath: String

    /// `dataDirectory`: quilt3's `BASE_PATH` (`$XDG_DATA_HOME/Quilt`).
    public init(dataDirectory: String) {
        authPath = dataDirectory + "/auth.json"
        credentialsPath = dataDirectory + "/credentials.json"
    }

    /// The tokens of every registry; empty when the file is missing.
    public func loadAuth() throws -> JSONObject { try load(authPath) }
    public func saveAuth(_ object: JSONObject) throws { try save(object, to: authPath) }

    /// The stored AWS credentials; empty when the file is missing or after `quilt logout`.
    public func loadCredentials() throws -> JSONObject { try load(credentialsPath) }
    public func saveCredentials(_ object: JSONObject) throws { try save(object, to: credentialsPath) }

    private func load(_ path: String) throws -> JSONObject {
        guard FileSystem.exists(path) else { return JSONObject() }
        let bytes = try FileSystem.readFile(path)
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            throw CatalogError.unreadableFile(path: path, reason: error.message)
        }
        guard case .object(let object) = value else {
            throw CatalogError.unreadableFile(path: path, reason: "not a JSON object")
        }
        return object
    }

    private func save(_ object: JSONObject, to path: String) throws {
        var bytes: [UInt8] = []
        JSONWriter.writeDefaultForm(.object(object), to: &bytes)
        try FileSystem.writeAtomically(bytes, to: path, permissions: 0o600)
    }
}

/// One registry's entry of `auth.json`.
struct CatalogTokens: Sendable {
    var refreshToken: String
    var accessToken: String
    /// As the catalog sent it (quilt3 stores it unchanged): Unix seconds, an integer or a float.
    var expiresAt: JSONValue

    init(refreshToken: String, accessToken: String, expiresAt: JSONValue) {
        self.refreshToken = refreshToken
        self.accessToken = accessToken
        self.expiresAt = expiresAt
    }

    /// From `/api/token`'s answer or an `auth.json` entry; nil if a key is missing.
    init?(_ value: JSONValue?) {
        guard case .object(let object)? = value,
              let refresh = object["refresh_token"]?.stringValue, let access = object["access_token"]?.stringValue,
              let expires = object["expires_at"], expires.seconds != nil else { return nil }
        self.init(refreshToken: refresh, accessToken: access, expiresAt: expires)
    }

    /// quilt3's key order.
    var json: JSONValue {
        .object(JSONObject([
            ("refresh_token", .string(refreshToken)), ("access_token", .string(accessToken)), ("expires_at", expiresAt),
        ]))
    }
}

/// `credentials.json`: AWS credentials as the catalog issued them.
struct StoredCredentials: Sendable {
    /// `{"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}` from `/api/auth/get_credentials` →
    /// quilt3's `{"access_key", "secret_key", "token", "expiry_time"}` (the expiry string unchanged).
    static func fromCatalog(_ value: JSONValue?) -> JSONObject? {
        guard case .object(let object)? = value,
              let access = object["AccessKeyId"]?.stringValue, let secret = object["SecretAccessKey"]?.stringValue,
              let token = object["SessionToken"]?.stringValue, let expiry = object["Expiration"]?.stringValue else { return nil }
        return JSONObject([("access_key", .string(access)), ("secret_key", .string(secret)), ("token", .string(token)),
                           ("expiry_time", .string(expiry))])
    }

    /// The credentials of a `credentials.json` object; nil if it lacks the keys. An expiry that cannot be read
    /// counts as already past, so the credentials are renewed before use.
    static func credentials(_ object: JSONObject) -> AWSCredentials? {
        guard let access = object["access_key"]?.stringValue, let secret = object["secret_key"]?.stringValue else { return nil }
        let expiry = object["expiry_time"]?.stringValue.flatMap(CredentialTime.parse) ?? Date(timeIntervalSince1970: 0)
        return AWSCredentials(accessKeyId: access, secretAccessKey: secret, sessionToken: object["token"]?.stringValue,
                              expiration: expiry)
    }
}

extension JSONValue {
    /// A number as seconds.
    var seconds: Double? {
        switch self {
        case .integer(let digits): return Double(digits)
        case .float(let value): return value
        default: return nil
        }
    }
}
