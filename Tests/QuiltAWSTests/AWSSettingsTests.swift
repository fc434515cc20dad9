// Resolution of AWS settings and credentials from an injected environment and temporary config files.
import Foundation
import Testing
@testable import QuiltSupport
@testable import QuiltHTTP
@testable import QuiltStorage
@testable import QuiltAWS

@Suite struct AWSSettingsTests {
    let directory: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("aws-settings-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/home/.aws", withIntermediateDirectories: true)
    }

    private func write(_ text: String, to name: String) -> String {
        let path = directory + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    /// An environment with no AWS settings at all, HOME in the test directory, and IMDS off.
    private var bare: [String: String] {
        ["HOME": directory + "/home", "AWS_EC2_METADATA_DISABLED": "true"]
    }

    @Test func iniParserHandlesCommentsWhitespaceAndSubProperties() {
        let file = AWSINIFile.parse(
            """
            # a comment
            ; another comment
            [default]
              region = eu-west-1
            aws_access_key_id=AKID
            Unknown_Key = whatever = with equals

            [profile dev]   # trailing comment
            s3 =
              addressing_style = path
              endpoint_url = http://localhost:9000
            services = local
            [services local]
            s3 =
                endpoint_url = http://127.0.0.1:5055
            broken line without equals
            """)
        #expect(file.sections["default"]?["region"] == "eu-west-1")
        #expect(file.sections["default"]?["aws_access_key_id"] == "AKID")
        #expect(file.sections["default"]?["unknown_key"] == "whatever = with equals")
        #expect(file.sections["profile dev"]?["s3.addressing_style"] == "path")
        #expect(file.sections["profile dev"]?["s3.endpoint_url"] == "http://localhost:9000")
        #expect(file.sections["profile dev"]?["services"] == "local")
        #expect(file.sections["services local"]?["s3.endpoint_url"] == "http://127.0.0.1:5055")
    }

    @Test func environmentComesFirst() throws {
        _ = write("[default]\naws_access_key_id = FILE\naws_secret_access_key = FILESECRET\n", to: "home/.aws/credentials")
        var environment = bare
        environment["AWS_ACCESS_KEY_ID"] = "ENV"
        environment["AWS_SECRET_ACCESS_KEY"] = "ENVSECRET"
        environment["AWS_SESSION_TOKEN"] = "ENVTOKEN"
        let credentials = try DefaultCredentialsChain(environment: environment).credentials()
        #expect(credentials == AWSCredentials(accessKeyId: "ENV", secretAccessKey: "ENVSECRET", sessionToken: "ENVTOKEN"))
    }

    @Test func defaultProfileFromSharedFiles() throws {
        _ = write(
            "[default]\naws_access_key_id = FILE\naws_secret_access_key = FILESECRET\n[other]\naws_access_key_id = O\n",
            to: "home/.aws/credentials")
        _ = write("[default]\nregion = eu-central-1\n", to: "home/.aws/config")
        let settings = AWSSettings.load(environment: bare)
        #expect(settings.profileName == "default" && settings.region == "eu-central-1" && settings.endpointURL == nil)
        let credentials = try DefaultCredentialsChain(environment: bare).credentials()
        #expect(credentials?.accessKeyId == "FILE" && credentials?.secretAccessKey == "FILESECRET")
        #expect(credentials?.sessionToken == nil)
    }

    @Test func namedProfileFromCustomFilePaths() throws {
        let credentialsPath = write("[dev]\naws_access_key_id = DEV\naws_secret_access_key = DEVSECRET\naws_session_token = T\n", to: "creds")
        let configPath = write(
            """
            [default]
            region = us-west-2
            [profile dev]
            region = ap-south-1
            endpoint_url = http://127.0.0.1:9000
            """, to: "config")
        var environment = bare
        environment["AWS_PROFILE"] = "dev"
        environment["AWS_SHARED_CREDENTIALS_FILE"] = credentialsPath
        environment["AWS_CONFIG_FILE"] = configPath
        let settings = AWSSettings.load(environment: environment)
        #expect(settings.region == "ap-south-1" && settings.endpointURL == "http://127.0.0.1:9000")
        let credentials = try DefaultCredentialsChain(environment: environment).credentials()
        #expect(credentials == AWSCredentials(accessKeyId: "DEV", secretAccessKey: "DEVSECRET", sessionToken: "T"))
        // The environment overrides the profile's region and endpoint.
        environment["AWS_DEFAULT_REGION"] = "sa-east-1"
        environment["AWS_ENDPOINT_URL"] = "http://general:1"
        #expect(AWSSettings.load(environment: environment).region == "sa-east-1")
        #expect(AWSSettings.load(environment: environment).endpointURL == "http://general:1")
        environment["AWS_REGION"] = "ca-central-1"
        environment["AWS_ENDPOINT_URL_S3"] = "http://s3-only:2"
        #expect(AWSSettings.load(environment: environment).region == "ca-central-1")
        #expect(AWSSettings.load(environment: environment).endpointURL == "http://s3-only:2")
        environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
        #expect(AWSSettings.load(environment: environment).endpointURL == nil)
    }

    /// Tries per request as the AWS CLI reads them: the suite's own variable first, then AWS_MAX_ATTEMPTS or the
    /// profile's max_attempts, then the retry mode's default (legacy 5, standard and adaptive 3), else 4.
    @Test func retryAttemptsAndModes() throws {
        func attempts(_ extra: [String: String]) throws -> Int {
            try S3ClientConfiguration.resolve(environment: bare.merging(extra) { $1 }).maxAttempts
        }
        #expect(try attempts([:]) == S3Tuning.defaultMaxAttempts)
        #expect(try attempts(["AWS_RETRY_MODE": "legacy"]) == 5)
        #expect(try attempts(["AWS_RETRY_MODE": "standard"]) == 3)
        #expect(try attempts(["AWS_RETRY_MODE": "Adaptive"]) == 3)
        #expect(try attempts(["AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "7"]) == 7)
        #expect(try attempts(["AWS_MAX_ATTEMPTS": "7", "QUILT_S3_MAX_ATTEMPTS": "2"]) == 2)
        #expect(try attempts(["AWS_MAX_ATTEMPTS": "1"]) == 1)
        _ = write("[default]\nretry_mode = legacy\nmax_attempts = 9\n", to: "home/.aws/config")
        #expect(try attempts([:]) == 9)
        #expect(try attempts(["AWS_MAX_ATTEMPTS": "2"]) == 2)
        _ = write("[default]\nretry_mode = legacy\n", to: "home/.aws/config")
        #expect(try attempts([:]) == 5)
        #expect(try attempts(["AWS_RETRY_MODE": "standard"]) == 3)
        for bad in [["AWS_RETRY_MODE": "sometimes"], ["AWS_MAX_ATTEMPTS": "0"], ["AWS_MAX_ATTEMPTS": "three"]] {
            #expect(throws: SettingError.self) { try attempts(bad) }
        }
        #expect(throws: SettingError(name: "AWS_RETRY_MODE", value: "sometimes", reason: "must be standard, legacy or adaptive")) {
            try attempts(["AWS_RETRY_MODE": "sometimes"])
        }
        _ = write("[default]\nretry_mode = often\n", to: "home/.aws/config")
        #expect(throws: SettingError(name: "retry_mode", value: "often", reason: "must be standard, legacy or adaptive")) {
            try attempts([:])
        }
    }

    @Test func credentialsInConfigFileAndServicesEndpoint() throws {
        let configPath = write(
            """
            [profile svc]
            aws_access_key_id = CFG
            aws_secret_access_key = CFGSECRET
            services = local-s3
            s3 =
              addressing_style = virtual
            [services local-s3]
            s3 =
              endpoint_url = http://127.0.0.1:5055
            """, to: "config")
        var environment = bare
        environment["AWS_PROFILE"] = "svc"
        environment["AWS_CONFIG_FILE"] = configPath
        let settings = AWSSettings.load(environment: environment)
        #expect(settings.endpointURL == "http://127.0.0.1:5055" && settings.addressingStyle == .virtual)
        #expect(try DefaultCredentialsChain(environment: environment).credentials()?.accessKeyId == "CFG")
    }

    @Test func missingProfileAndUnsupportedSources() throws {
        var environment = bare
        environment["AWS_PROFILE"] = "nope"
        #expect(throws: S3Error.profileNotFound(profile: "nope")) {
            try DefaultCredentialsChain(environment: environment).credentials()
        }
        environment["AWS_CONFIG_FILE"] = write("[profile role]\nrole_arn = arn:aws:iam::1:role/x\n", to: "config")
        environment["AWS_PROFILE"] = "role"
        #expect(throws: S3Error.unsupportedCredentialSource(profile: "role", source: "an assumed role (role_arn) without source_profile")) {
            try DefaultCredentialsChain(environment: environment).credentials()
        }
    }

    @Test func credentialProcessIsRunAndItsFailureNamedWithoutOutput() throws {
        var environment = bare
        environment["PATH"] = "/usr/bin:/bin"
        environment["AWS_CONFIG_FILE"] = write("""
            [profile proc]
            credential_process = printf '{"Version": 1, "AccessKeyId": "PROC", "SecretAccessKey": "PROCSECRET", "SessionToken": "TOK", "Expiration": "2099-01-01T00:00:00Z"}'
            [profile broken]
            credential_process = sh -c 'echo LEAKED-SECRET; exit 3'
            """, to: "config")
        environment["AWS_PROFILE"] = "proc"
        let credentials = try DefaultCredentialsChain(environment: environment).credentials()
        #expect(credentials?.accessKeyId == "PROC" && credentials?.secretAccessKey == "PROCSECRET" && credentials?.sessionToken == "TOK")
        #expect(credentials?.expiration != nil)
        environment["AWS_PROFILE"] = "broken"
        do {
            _ = try DefaultCredentialsChain(environment: environment).credentials()
            Issue.record("a failing credential_process gave credentials")
        } catch let error as S3Error {
            #expect(error.message.contains("status 3") && !error.message.contains("LEAKED"))
        }
    }

    @Test func assumedRoleNeedsSourceKeysAndAReachableSTS() throws {
        var environment = bare
        environment["AWS_CONFIG_FILE"] = write("""
            [profile src]
            aws_access_key_id = AKIDSOURCE
            aws_secret_access_key = SOURCESECRET
            [profile role]
            role_arn = arn:aws:iam::123456789012:role/r
            source_profile = src
            [profile nokeys]
            role_arn = arn:aws:iam::123456789012:role/r
            source_profile = empty
            [profile empty]
            region = us-east-1
            """, to: "config")
        environment["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"
        environment["AWS_PROFILE"] = "nokeys"
        #expect(throws: S3Error.self) { try DefaultCredentialsChain(environment: environment).credentials() }
        environment["AWS_PROFILE"] = "role"
        do {
            _ = try DefaultCredentialsChain(environment: environment).credentials()
            Issue.record("an unreachable STS gave credentials")
        } catch let error as S3Error {
            #expect(error.message.contains("AssumeRole") && !error.message.contains("SOURCESECRET"))
        }
    }

    /// moto answers AssumeRole with temporary credentials (keys starting `ASIA`, a session token).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["QUILT_TEST_S3_ENDPOINT"] != nil))
    func assumedRoleCredentialsComeFromSTS() throws {
        var environment = bare
        environment["AWS_CONFIG_FILE"] = write("""
            [profile src]
            aws_access_key_id = AKIDSOURCE
            aws_secret_access_key = SOURCESECRET
            [profile role]
            role_arn = arn:aws:iam::123456789012:role/quilt-test
            source_profile = src
            role_session_name = quilt-test
            """, to: "config")
        environment["AWS_PROFILE"] = "role"
        environment["AWS_ENDPOINT_URL"] = ProcessInfo.processInfo.environment["QUILT_TEST_S3_ENDPOINT"]
        let credentials = try #require(try DefaultCredentialsChain(environment: environment).credentials())
        #expect(credentials.accessKeyId != "AKIDSOURCE" && credentials.sessionToken != nil && credentials.expiration != nil)
    }

    @Test func nothingFoundMeansAnonymous() throws {
        #expect(try DefaultCredentialsChain(environment: bare).credentials() == nil)
        #expect(AWSSettings.load(environment: bare).region == nil)
    }

    @Test func unreachableContainerEndpointIsAnError() throws {
        var environment = bare
        environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:9/creds"
        #expect(throws: S3Error.self) { try DefaultCredentialsChain(environment: environment).credentials() }
    }

    @Test func credentialsDocument() throws {
        let document = Array(
            #"{"AccessKeyId":"ASIA","SecretAccessKey":"S","Token":"T","Expiration":"2030-01-02T03:04:05Z","Code":"Success"}"#.utf8)
        let credentials = try DefaultCredentialsChain.parseCredentialsDocument(document, source: "test")
        #expect(credentials.accessKeyId == "ASIA" && credentials.sessionToken == "T")
        #expect(credentials.expiration == Date(timeIntervalSince1970: 1_893_553_445))
        #expect(credentials.expires(within: 300, now: Date(timeIntervalSince1970: 1_893_553_445 - 100)))
        #expect(!credentials.expires(within: 300, now: Date(timeIntervalSince1970: 1_893_553_445 - 1000)))
        #expect(throws: S3Error.self) { try DefaultCredentialsChain.parseCredentialsDocument(Array("{}".utf8), source: "test") }
    }

    @Test func endpointsAndAddressing() throws {
        let aws = S3Endpoint.aws
        #expect(aws.address(bucket: "my-bucket", region: "eu-west-1") == ("my-bucket.s3.eu-west-1.amazonaws.com", ""))
        #expect(aws.address(bucket: "my.dotted.bucket", region: "us-east-1") == ("s3.us-east-1.amazonaws.com", "/my.dotted.bucket"))
        #expect(aws.address(bucket: "b-cn", region: "cn-north-1").host == "b-cn.s3.cn-north-1.amazonaws.com.cn")
        let local = try S3Endpoint(url: "http://127.0.0.1:5055/")
        #expect(local.address(bucket: "bucket", region: "us-east-1") == ("127.0.0.1:5055", "/bucket"))
        let custom = try S3Endpoint(url: "https://storage.example.com:443/base/")
        #expect(custom.port == nil && custom.basePath == "/base")
        #expect(custom.address(bucket: "b", region: "x") == ("storage.example.com", "/base/b"))
        let virtual = try S3Endpoint(url: "https://minio.example.com", addressingStyle: .virtual)
        #expect(virtual.address(bucket: "b", region: "x").host == "b.minio.example.com")
        #expect(try S3Endpoint(url: "http://[::1]:9000").address(bucket: "b", region: "x").host == "[::1]:9000")
        #expect(throws: S3Error.self) { try S3Endpoint(url: "ftp://x") }
        #expect(throws: S3Error.self) { try S3Endpoint(url: "http://host:notaport") }
    }

    @Test func objectReferences() throws {
        let reference = try S3ObjectReference(url: "s3://bucket/dir/a%20b.txt?versionId=v1")
        #expect(reference == S3ObjectReference(bucket: "bucket", key: "dir/a b.txt", versionId: "v1"))
        #expect(reference.description == "s3://bucket/dir/a%20b.txt?versionId=v1")
        #expect(throws: S3Error.self) { try S3ObjectReference(url: "s3://bucket-only") }
    }

    @Test func storageRoots() throws {
        let client = S3Client(
            configuration: S3ClientConfiguration(region: "us-east-1", credentials: StaticCredentialsProvider(nil)))
        let root = try S3Storage(client: client, url: "s3://bucket/a/prefix/")
        #expect(root.bucket == "bucket" && root.prefix == "a/prefix" && root.rootURL == "s3://bucket/a/prefix")
        #expect(root.objectKey(".quilt/packages/x") == "a/prefix/.quilt/packages/x")
        #expect(try S3Storage(client: client, url: "s3://bucket").rootURL == "s3://bucket")
        #expect(throws: S3Error.self) { try S3Storage(client: client, url: "s3:///x") }
    }
}

@Suite struct S3XMLTests {
    @Test func parsesListingWithEntitiesAndNamespaces() throws {
        let document = """
            <?xml version="1.0" encoding="UTF-8"?>
            <!-- a comment -->
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Name>b</Name><IsTruncated>false</IsTruncated>
              <Contents><Key>a&amp;b&lt;c&gt;&quot;d&apos;&#233;&#x4E2D;</Key><ETag>&quot;abc&quot;</ETag><Size>3</Size></Contents>
              <Contents><Key><![CDATA[x<y]]></Key><Size>0</Size><Owner/></Contents>
              <s3:Prefixed xmlns:s3="urn:x" attr='a>b'>v</s3:Prefixed>
            </ListBucketResult>
            """
        let root = try #require(S3XMLElement.parse(Array(document.utf8)))
        #expect(root.name == "ListBucketResult")
        let contents = root.children("Contents")
        #expect(contents.count == 2)
        #expect(contents[0].value("Key") == "a&b<c>\"d'é中")
        #expect(contents[0].value("ETag") == "\"abc\"")
        #expect(contents[1].value("Key") == "x<y")
        #expect(contents[1].child("Owner") != nil)
        #expect(root.value("Prefixed") == "v")
        #expect(S3XMLElement.escape("a&<>\"'") == "a&amp;&lt;&gt;&quot;&apos;")
    }

    @Test func rejectsTruncatedDocuments() {
        #expect(S3XMLElement.parse(Array("<a><b>text</b>".utf8)) == nil)
        #expect(S3XMLElement.parse(Array("not xml".utf8)) == nil)
        #expect(S3XMLElement.parse([]) == nil)
    }

    @Test func errorMapping() {
        let request = S3Client.S3Request(operation: "PutObject", bucket: "b", key: "k", method: "PUT")
        func mapped(_ status: Int, _ code: String) -> String {
            "\(S3Client.mapError(response: HTTPResponse(status: status, headers: [], body: []), code: code, message: "m", request: request))"
        }
        #expect(mapped(404, "NoSuchKey") == "\(StorageError.notFound(location: "s3://b/k"))")
        #expect(mapped(404, "NoSuchBucket") == "\(StorageError.noSuchBucket(bucket: "b"))")
        #expect(mapped(412, "PreconditionFailed") == "\(StorageError.preconditionFailed(location: "s3://b/k"))")
        #expect(mapped(403, "SignatureDoesNotMatch") == "access denied (PutObject) 's3://b/k': SignatureDoesNotMatch: m")
        #expect(mapped(403, "InvalidAccessKeyId").hasPrefix("access denied (PutObject)"))
        #expect(mapped(400, "InvalidArgument") == "PutObject failed 's3://b/k': HTTP 400 InvalidArgument: m")
    }
}
