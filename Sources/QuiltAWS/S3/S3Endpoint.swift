// Where S3 requests go: AWS's regional endpoints or a custom one, with virtual-hosted or path-style addressing.
import QuiltSupport
import Foundation

/// An S3 service endpoint and the way it addresses buckets.
public struct S3Endpoint: Sendable, Equatable {
    /// `https` or `http`.
    public var scheme: String
    /// The host without a port; nil for AWS, whose host depends on the bucket and region.
    public var host: String?
    /// An explicit non-default port.
    public var port: Int?
    /// A path prefix of a custom endpoint (no trailing `/`), usually empty.
    public var basePath: String
    public var addressingStyle: S3AddressingStyle

    /// AWS S3 itself.
    public static let aws = S3Endpoint(scheme: "https", host: nil, port: nil, basePath: "", addressingStyle: .auto)

    public init(scheme: String, host: String?, port: Int?, basePath: String, addressingStyle: S3AddressingStyle) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
        self.addressingStyle = addressingStyle
    }

    /// Parses `http[s]://host[:port][/path]`.
    public init(url: String, addressingStyle: S3AddressingStyle = .auto) throws {
        guard let schemeEnd = url.range(of: "://") else { throw S3Error.badEndpoint(url: url) }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { throw S3Error.badEndpoint(url: url) }
        var rest = url[schemeEnd.upperBound...]
        if let query = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<query] }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        var path = String(rest[slash...])
        while path.hasSuffix("/") { path.removeLast() }
        var host = String(authority)
        var port: Int?
        // `[::1]:9000`: the port follows the closing bracket of an IPv6 literal.
        let portSearchStart = authority.lastIndex(of: "]") ?? authority.startIndex
        if let colon = authority[portSearchStart...].lastIndex(of: ":") {
            guard let number = Int(authority[authority.index(after: colon)...]), number > 0, number < 65536 else {
                throw S3Error.badEndpoint(url: url)
            }
            host = String(authority[..<colon])
            port = (scheme == "http" && number == 80) || (scheme == "https" && number == 443) ? nil : number
        }
        guard !host.isEmpty, !host.contains("@") else { throw S3Error.badEndpoint(url: url) }
        self.init(scheme: scheme, host: host.lowercased(), port: port, basePath: path, addressingStyle: addressingStyle)
    }

    /// The host, path prefix and whether path style applies, for one bucket in one region.
    func address(bucket: String, region: String) -> (host: String, pathPrefix: String) {
        let pathStyle: Bool
        switch addressingStyle {
        case .path: pathStyle = true
        case .virtual: pathStyle = false
        case .auto: pathStyle = host != nil || !Self.isVirtualHostable(bucket)
        }
        var serviceHost: String
        if let host {
            serviceHost = host
        } else {
            let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
            serviceHost = "s3.\(region).\(suffix)"
        }
        if let port { serviceHost += ":\(port)" }
        if bucket.isEmpty { return (serviceHost, basePath) }
        if pathStyle { return (serviceHost, basePath + "/" + PercentEncoding.encode(bucket)) }
        return ("\(bucket).\(serviceHost)", basePath)
    }

    /// DNS-safe names only: lowercase letters, digits and inner hyphens (dots break the TLS wildcard).
    static func isVirtualHostable(_ bucket: String) -> Bool {
        guard bucket.utf8.count >= 3, bucket.utf8.count <= 63 else { return false }
        guard bucket.first != "-", bucket.last != "-" else { return false }
        return bucket.utf8.allSatisfy {
            ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                || $0 == UInt8(ascii: "-")
        }
    }
}
