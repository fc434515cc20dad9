// Signing in through a Quilt catalog as quilt3 does (`quilt3.config(URL)`, `login`, `logout`), and
// `quilt whoami`: which credentials are in use, whose they are, and what they may do in a registry.
import QuiltSupport
import QuiltFormat
import QuiltAWS
import QuiltCatalog
import Foundation
import QuiltHTTP
import QuiltStorage

/// What `quilt login` did.
public struct LoginResult: Sendable {
    public var registryURL: String
    /// The catalog's web address, if configured.
    public var navigatorURL: String?
    /// When the AWS credentials the catalog issued expire, as it wrote it.
    public var credentialsExpire: String
}

extension QuiltContext {
    /// The credentials of a catalog sign-in (credentials.json), or nil when there are none and the AWS chain
    /// applies.
    func catalogCredentials() throws -> (any AWSCredentialsProvider)? {
        // `QUILT_API_KEY` (CI): quilt3's `login_with_api_key` from the environment, ahead of a `quilt login`.
        if let key = nonEmpty(environment["QUILT_API_KEY"]) {
            guard key.hasPrefix("qk_") else { throw CatalogError.invalidAPIKey }
            guard let registry = nonEmpty(config.registryURL) else {
                throw CatalogError.notConfigured(navigatorURL: config.navigatorURL)
            }
            trace?("credentials: QUILT_API_KEY, from \(registry)/api/auth/get_credentials (in memory only)")
            return try CatalogCredentialsProvider.apiKey(
                key, registryURL: registry, dataDirectory: config.paths.dataDirectory,
                catalogName: config.navigatorURL ?? registry, timeout: try config.settings().requestsTimeout)
        }
        return try CatalogCredentialsProvider.stored(
            dataDirectory: config.paths.dataDirectory, registryURL: config.registryURL,
            catalogName: config.navigatorURL ?? config.registryURL, timeout: try config.settings().requestsTimeout,
            retry: try retryPolicy())
    }

    /// How requests other than S3's (the catalog's, STS's) are tried again: as S3's are, the same number of tries
    /// (`QUILT_S3_MAX_ATTEMPTS`, `AWS_MAX_ATTEMPTS`, the profile's `max_attempts`, the retry mode).
    func retryPolicy() throws -> RetryPolicy {
        try S3ClientConfiguration.retryPolicy(environment: environment, tuning: s3Tuning)
    }

    /// `quilt config URL`: reads the catalog's config.json and rewrites config.yml as quilt3's `config(URL)` does.
    /// Returns the new configuration.
    public func configureCatalog(_ url: String) throws -> QuiltConfig {
        let catalogURL = QuiltConfig.trimmedURL(url)
        guard QuiltConfig.hasSchemeAndHost(catalogURL),
              catalogURL.lowercased().hasPrefix("http://") || catalogURL.lowercased().hasPrefix("https://") else {
            throw CatalogError.invalidURL(url)
        }
        let json = try CatalogSession.fetchConfig(catalogURL: catalogURL, timeout: try? config.settings().requestsTimeout,
                                                  retry: try retryPolicy())
        var config = self.config
        try config.configureCatalog(catalogURL, catalogConfig: json)
        return config
    }

    /// The configured catalog's registry URL (where `quilt login` goes), or an error saying how to configure one.
    public func catalogRegistryURL() throws -> String {
        guard let registry = nonEmpty(config.registryURL) else {
            throw CatalogError.notConfigured(navigatorURL: config.navigatorURL)
        }
        return registry
    }

    /// Where the user gets a one-time code: `<registryUrl>/login`, as quilt3 prints it.
    public func catalogLoginURL() throws -> String { try catalogRegistryURL() + "/login" }

    /// `quilt login` with the code the user pasted: tokens into auth.json, AWS credentials into credentials.json.
    public func login(code: String) throws -> LoginResult {
        let registry = try catalogRegistryURL()
        let session = CatalogSession(registryURL: registry, dataDirectory: config.paths.dataDirectory,
                                     timeout: try config.settings().requestsTimeout, retry: try retryPolicy())
        guard !code.isEmpty else { throw CatalogError.noCode(loginURL: session.loginURL) }
        let expires = try session.login(code: code)
        return LoginResult(registryURL: registry, navigatorURL: config.navigatorURL, credentialsExpire: expires)
    }

    /// `quilt logout`: empties auth.json and credentials.json as quilt3 does. False when already signed out.
    public func logout() throws -> Bool {
        try CatalogSession.logout(files: CatalogFiles(dataDirectory: config.paths.dataDirectory))
    }

    /// The catalog page of a pushed revision, when a catalog is configured: the revision is pinned by its top
    /// hash (quilt3 prints the page without `/tree/…`, which shows whatever is latest).
    public func catalogPackageURL(bucket: String, name: String, topHash: String) -> String? {
        guard let navigator = config.navigatorURL else { return nil }
        return "\(QuiltConfig.trimmedURL(navigator))/b/\(bucket)/packages/\(name)/tree/\(topHash)"
    }
}

/// What `quilt whoami` found. Nothing in it is a secret.
public struct WhoamiReport: Sendable {
    /// A short name of the credential source: environment, profile, sso, catalog, …
    public var sourceKind: String
    /// The source in words.
    public var source: String
    public var account: String?
    public var arn: String?
    public var userId: String?
    /// Why the identity is unknown (no credentials, STS refused them, a sign-in expired), with a remedy.
    public var identityError: String?
    public var identityHint: String?
    /// The region requests are signed for, when one is set (else each bucket's is discovered).
    public var region: String?
    public var registry: String?
    public var bucketRegion: String?
    public var read: Check?
    public var write: Check?

    /// The outcome of one access check.
    public struct Check: Sendable {
        public var ok: Bool
        public var detail: String?
        /// The write probe that could not be removed (credentials that may put but not delete): where it is, and
        /// why it stayed. The write itself worked.
        public var leftBehind: (location: String, reason: String)? = nil
    }
    /// Whether the write check was skipped (`--read-only`, or no credentials to write with), and why.
    public var writeSkipped: String?

    /// Whether everything that was checked works.
    public var ok: Bool {
        identityError == nil && read?.ok != false && write?.ok != false
    }
}

extension QuiltContext {
    /// `quilt whoami [--registry R]`: the credential source, the identity (STS GetCallerIdentity), the region, and
    /// with an S3 registry whether reading (a one-key listing) and writing (an object written and its version
    /// deleted again) work.
    /// With `readOnly`, nothing is written: the write check is skipped. Without credentials it is skipped too (an
    /// unsigned write that a bucket took could not be taken back: anonymous deletes are refused).
    public func whoami(registry registryText: String?, readOnly: Bool = false) throws -> WhoamiReport {
        let client = try s3Client()
        let provider = client.configuration.credentials
        var report = WhoamiReport(sourceKind: provider.source.kind, source: provider.source.description)
        // S3 requests are signed for the AWS settings' region, else each bucket's own (found once per bucket).
        report.region = client.configuration.region
        var signed = false
        do {
            if let credentials = try provider.credentials() {
                signed = true
                let stsRegion = report.region ?? (provider.source.kind == "catalog" ? config.values["region"]?.stringValue : nil)
                let identity = try CallerIdentity.fetch(
                    credentials: credentials, region: stsRegion, environment: environment,
                    timeout: try config.settings().requestsTimeout ?? 30, retry: client.configuration.retry)
                report.account = identity.account
                report.arn = identity.arn
                report.userId = identity.userId
            } else {
                report.identityError = "no credentials found: requests go unsigned (public buckets only)"
                report.identityHint = "sign in with 'quilt login', or set AWS_PROFILE or AWS_ACCESS_KEY_ID"
            }
        } catch let error as QuiltError {
            report.identityError = error.message
            report.identityHint = error.hint
        }

        guard let registryText else { return report }
        let location = try RegistryLocation(registryText)
        report.registry = location.url
        if readOnly {
            report.writeSkipped = "--read-only"
        } else if !signed && !location.isLocal {
            report.writeSkipped = "no credentials to write with"
        }
        let probeName = "probe-" + Hex.encode((0..<8).map { _ in UInt8.random(in: 0...255) })
        let storage = try registry(location).storage
        switch storage.location {
        case .directory(let path):
            guard FileSystem.isDirectory(path) else {
                report.read = .init(ok: false, detail: "no such directory")
                return report
            }
            report.read = .init(ok: (try? FileSystem.contentsOfDirectory(path)) != nil, detail: nil)
            guard report.writeSkipped == nil else { return report }
            // Beside `.quilt`, not in it: a registry that has no `.quilt` yet is left without one.
            let probe = path + "/.quilt-whoami-" + probeName
            report.write = Self.check { _ = try FileSystem.createExclusively(probe, contents: []) }
            if report.write?.ok == true {
                do { try FileSystem.removeFile(probe) } catch {
                    report.write?.leftBehind = (PhysicalKey.local(path: probe).url, error.message)
                }
            }
        case .bucket(let bucket, let prefix):
            report.bucketRegion = try? client.region(for: bucket)
            // A prefix without `/` keeps the probe to the one listing every S3 implementation signs alike.
            report.read = Self.check { _ = try storage.list(prefix: ".quilt", limit: 1) }
            guard report.writeSkipped == nil else { return report }
            let probe = ".quilt/whoami/" + probeName
            var versionId: String?
            report.write = Self.check {
                versionId = try storage.put(probe, bytes: Array("quilt whoami\n".utf8)).versionId
            }
            guard report.write?.ok == true else { return report }
            do {
                // Deleting the version itself leaves nothing behind, not even a delete marker, in a versioned bucket.
                try storage.delete(probe, versionId: versionId)
            } catch {
                // A common policy lets a publisher put but not delete: writing works, so the check passes, and the
                // report says where the probe is. (A delete without the version would only add a delete marker.)
                let key = prefix.isEmpty ? probe : prefix + "/" + probe
                report.write?.leftBehind = (PhysicalKey.s3(bucket: bucket, key: key, versionId: versionId).url,
                                            (error as? QuiltError)?.message ?? "\(error)")
            }
        }
        return report
    }

    private static func check(_ body: () throws -> Void) -> WhoamiReport.Check {
        do {
            try body()
            return .init(ok: true, detail: nil)
        } catch {
            return .init(ok: false, detail: (error as? QuiltError)?.message ?? "\(error)")
        }
    }
}
