// STS GetCallerIdentity: who a set of credentials belongs to (`quilt whoami`). Every identity may call it, so an
// answer proves the credentials are valid without touching any bucket.
import QuiltSupport
import QuiltHTTP
import Foundation

/// The account, ARN and user id STS reports for a set of credentials.
public struct CallerIdentity: Sendable, Equatable {
    public var account: String
    public var arn: String
    public var userId: String

    /// Asks STS (`AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, the profile's `endpoint_url`, else
    /// `sts.<region>.amazonaws.com`) whose credentials these are.
    public static func fetch(credentials: AWSCredentials, region: String?, environment: [String: String],
                             timeout: Double = 30) throws -> CallerIdentity {
        let settings = AWSSettings.load(environment: environment)
        let region = region ?? settings.region ?? "us-east-1"
        var endpoint = settings.stsEndpointURL ?? "https://sts.\(region).amazonaws.com"
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        guard let url = URL(string: endpoint), let host = url.host else { throw S3Error.badEndpoint(url: endpoint) }
        let hostHeader = url.port.map { "\(host):\($0)" } ?? host
        let body = Array("Action=GetCallerIdentity&Version=2011-06-15".utf8)
        var headers: [(name: String, value: String)] = [
            ("host", hostHeader), ("content-type", "application/x-www-form-urlencoded; charset=utf-8"),
        ]
        SigV4Signer(region: region, service: "sts").sign(
            method: "POST", path: "/", query: [], headers: &headers, payloadHash: S3Crypto.hex(S3Crypto.sha256(body)),
            credentials: credentials)
        let http = HTTPClient(configuration: .init(connectTimeout: min(10, timeout), requestTimeout: timeout,
                                                   stallTimeout: nil, maxIdleHandles: 1))
        let response: HTTPResponse
        do {
            response = try http.perform(HTTPRequest(method: "POST", url: endpoint + "/", headers: headers, body: .bytes(body)))
        } catch let error as HTTPError {
            throw S3Error.identityUnknown(detail: error.message)
        }
        let xml = S3XMLElement.parse(response.body)
        let result = xml?.child("GetCallerIdentityResult") ?? xml
        guard response.status == 200, let arn = result?.value("Arn"), let account = result?.value("Account") else {
            // AWS nests the error once (ErrorResponse/Error), some implementations twice (…/Errors/Error).
            let error = xml?.child("Error") ?? xml?.child("Errors")?.child("Error")
            let code = error?.value("Code") ?? xml?.value("Code") ?? "HTTP \(response.status)"
            throw S3Error.identityUnknown(detail: "STS refused the credentials: \(code)")
        }
        return CallerIdentity(account: account, arn: arn, userId: result?.value("UserId") ?? "")
    }
}
