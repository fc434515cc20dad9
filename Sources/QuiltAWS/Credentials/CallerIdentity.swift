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
    /// `sts.<region>.amazonaws.com`) whose credentials these are, tried again under `retry`.
    public static func fetch(credentials: AWSCredentials, region: String?, environment: [String: String],
                             timeout: Double = 30, retry: RetryPolicy = RetryPolicy()) throws -> CallerIdentity {
        let settings = AWSSettings.load(environment: environment)
        let region = region ?? settings.region ?? "us-east-1"
        guard let sts = STSRequest(settings: settings, region: region) else {
            throw S3Error.badEndpoint(url: STSRequest.endpointURL(settings: settings, region: region))
        }
        let http = HTTPClient(configuration: .init(connectTimeout: min(10, timeout), requestTimeout: timeout,
                                                   stallTimeout: nil, maxIdleHandles: 1))
        let answer: STSRequest.Answer
        do {
            answer = try sts.send("GetCallerIdentity", credentials: credentials, http: http, retry: retry)
        } catch let error as HTTPError {
            throw S3Error.identityUnknown(detail: error.message)
        }
        guard answer.status == 200, let result = answer.result, let arn = result.value("Arn"),
              let account = result.value("Account") else {
            throw S3Error.identityUnknown(detail: "STS refused the credentials: \(answer.errorCode)")
        }
        return CallerIdentity(account: account, arn: arn, userId: result.value("UserId") ?? "")
    }
}
