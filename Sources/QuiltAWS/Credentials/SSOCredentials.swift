// AWS IAM Identity Center (SSO) profiles: the sign-in `aws sso login` cached, exchanged at the SSO portal for the
// role's temporary credentials (GetRoleCredentials), as the AWS CLI does. Signing in is the AWS CLI's job; an
// expired or missing sign-in says how to renew it.
import QuiltSupport
import QuiltFormat
import QuiltHTTP
import Foundation

struct SSOCredentials {
    let settings: AWSSettings
    let http: HTTPClient
    let retry: RetryPolicy

    /// Whether the profile is an SSO profile (a session, or the legacy keys in the profile itself).
    static func applies(to settings: AWSSettings) -> Bool {
        settings.configProfile["sso_session"] != nil || settings.configProfile["sso_start_url"] != nil
    }

    private var profileName: String { settings.profileName }
    private var source: String { "SSO profile '\(profileName)'" }

    func fetch(now: Date = Date()) throws -> AWSCredentials {
        let profile = settings.configProfile
        let cacheKey: String
        let region: String?
        if let session = nonEmpty(profile["sso_session"]) {
            guard let section = settings.ssoSession else {
                throw S3Error.credentialsUnavailable(source: source, detail: "no [sso-session \(session)] section in the config file")
            }
            cacheKey = session
            region = nonEmpty(section["sso_region"]) ?? nonEmpty(profile["sso_region"])
        } else {
            guard let start = nonEmpty(profile["sso_start_url"]) else {
                throw S3Error.credentialsUnavailable(source: source, detail: "no sso_start_url")
            }
            cacheKey = start
            region = nonEmpty(profile["sso_region"])
        }
        guard let region else { throw S3Error.credentialsUnavailable(source: source, detail: "no sso_region") }
        guard let account = nonEmpty(profile["sso_account_id"]), let role = nonEmpty(profile["sso_role_name"]) else {
            throw S3Error.credentialsUnavailable(source: source, detail: "sso_account_id and sso_role_name are both needed")
        }

        // The AWS CLI names the cache file by the SHA-1 of the session name (or of the start URL without one).
        let path = settings.ssoCacheDirectory + "/" + sha1Hex(Array(cacheKey.utf8)) + ".json"
        guard let data = try? FileSystem.readFile(path) else {
            throw S3Error.ssoLoginRequired(profile: profileName, reason: "no cached sign-in")
        }
        guard let cache = (try? JSONParser.parse(data))?.objectValue,
              let token = cache["accessToken"]?.stringValue, !token.isEmpty else {
            throw S3Error.ssoLoginRequired(profile: profileName, reason: "the cached sign-in cannot be read")
        }
        if let expires = cache["expiresAt"]?.stringValue.flatMap(CredentialTime.parse), expires <= now {
            throw S3Error.ssoLoginRequired(profile: profileName, reason: "the sign-in has expired")
        }

        var base = settings.ssoEndpointURL ?? "https://portal.sso.\(region).amazonaws.com"
        while base.hasSuffix("/") { base.removeLast() }
        let url = base + "/federation/credentials?account_id=" + PercentEncoding.encode(account)
            + "&role_name=" + PercentEncoding.encode(role)
        let response: HTTPResponse
        do {
            response = try http.perform(HTTPRequest(method: "GET", url: url, headers: [
                ("x-amz-sso_bearer_token", token), ("Accept", "application/json"),
            ]), retry: retry)
        } catch let error as HTTPError {
            throw S3Error.credentialsUnavailable(source: "the SSO portal", detail: error.message)
        }
        switch response.status {
        case 200: break
        case 401:
            throw S3Error.ssoLoginRequired(profile: profileName, reason: "the SSO portal refused the cached sign-in")
        case 403:
            throw S3Error.credentialsUnavailable(
                source: source, detail: "the SSO portal does not allow role '\(role)' in account \(account)")
        default:
            throw S3Error.credentialsUnavailable(source: "the SSO portal", detail: "HTTP \(response.status)")
        }
        guard let role = (try? JSONParser.parse(response.body))?.objectValue?["roleCredentials"]?.objectValue,
              let access = role["accessKeyId"]?.stringValue, let secret = role["secretAccessKey"]?.stringValue else {
            throw S3Error.credentialsUnavailable(source: "the SSO portal", detail: "unexpected response")
        }
        // `expiration` is in milliseconds since the epoch.
        let expiration = role["expiration"]?.numberValue.map { Date(timeIntervalSince1970: $0 / 1000) }
        return AWSCredentials(accessKeyId: access, secretAccessKey: secret, sessionToken: role["sessionToken"]?.stringValue,
                              expiration: expiration)
    }
}
