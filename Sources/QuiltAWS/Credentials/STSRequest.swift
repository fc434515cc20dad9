// STS's Query API as the AWS CLI calls it: a form POST to the regional endpoint, signed for `sts`, answered in
// XML. Both of the suite's STS calls, AssumeRole (profiles with `role_arn`) and GetCallerIdentity (`quilt whoami`),
// are sent here.
import QuiltSupport
import QuiltHTTP
import Foundation

/// Where STS is reached, and one action sent there.
struct STSRequest {
    /// The endpoint without a trailing slash.
    let endpoint: String
    /// `host` or `host:port`, as signed.
    let host: String
    let region: String

    /// STS for `region`: `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL` or the profile's `endpoint_url`
    /// (`settings.stsEndpointURL`), else `sts.<region>.amazonaws.com`. nil when that URL names no host.
    init?(settings: AWSSettings, region: String) {
        let endpoint = Self.endpointURL(settings: settings, region: region)
        guard let url = URL(string: endpoint), let host = url.host else { return nil }
        self.endpoint = endpoint
        self.host = url.port.map { "\(host):\($0)" } ?? host
        self.region = region
    }

    /// The endpoint STS is reached at for `region`, without a trailing slash (what `init` parses).
    static func endpointURL(settings: AWSSettings, region: String) -> String {
        var endpoint = settings.stsEndpointURL ?? "https://sts.\(region).amazonaws.com"
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        return endpoint
    }

    /// What STS answered.
    struct Answer {
        var status: Int
        /// The XML document, if the body is one.
        var document: S3XMLElement?
        /// The `<Action>Result` element of the document (or the document itself when it has none).
        var result: S3XMLElement?

        /// The error code STS gave (AWS nests it once, ErrorResponse/Error; some implementations twice,
        /// …/Errors/Error), else the status.
        var errorCode: String {
            let error = document?.child("Error") ?? document?.child("Errors")?.child("Error")
            return error?.value("Code") ?? document?.value("Code") ?? "HTTP \(status)"
        }
    }

    /// Sends `action` (API version 2011-06-15) with `parameters`, signed with `credentials`, under `retry` (STS's
    /// actions may be sent again, as botocore does). Throws (`HTTPError`) only when no answer came.
    func send(_ action: String, _ parameters: [(String, String)] = [], credentials: AWSCredentials,
              http: HTTPClient, retry: RetryPolicy) throws -> Answer {
        let form = [("Action", action), ("Version", "2011-06-15")] + parameters
        let body = Array(form.map { PercentEncoding.encode($0.0) + "=" + PercentEncoding.encode($0.1) }.joined(separator: "&").utf8)
        var headers: [(name: String, value: String)] = [
            ("host", host), ("content-type", "application/x-www-form-urlencoded; charset=utf-8"),
        ]
        SigV4Signer(region: region, service: "sts").sign(
            method: "POST", path: "/", query: [], headers: &headers, payloadHash: S3Crypto.hex(S3Crypto.sha256(body)),
            credentials: credentials)
        let response = try http.perform(
            HTTPRequest(method: "POST", url: endpoint + "/", headers: headers, body: .bytes(body)), retry: retry)
        let document = S3XMLElement.parse(response.body)
        return Answer(status: response.status, document: document, result: document?.child(action + "Result") ?? document)
    }
}
