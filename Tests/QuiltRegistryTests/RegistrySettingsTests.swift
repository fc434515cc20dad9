// Settings the context reads, and registry URLs: what is refused as a usage error before any work.
import Testing
@testable import QuiltSupport
@testable import QuiltRegistry

@Suite struct RegistrySettingsTests {
    @Test func theContextRefusesABadSettingByName() {
        for (name, value) in [("QUILT_TRANSFER_MAX_CONCURRENCY", "0"), ("QUILT_MANIFEST_MAX_RECORD_SIZE", "-5"),
                              ("QUILT_S3_REQUEST_TIMEOUT", "abc"), ("QUILT_MULTIPART_PART_SIZE", "1K"),
                              ("QUILT_S3_MAX_ATTEMPTS", "x"), ("QUILT_S3_CHECKSUMS", "maybe")] {
            let environment = ["HOME": "/nonexistent", "XDG_DATA_HOME": "/nonexistent", name: value]
            #expect { try QuiltContext(environment: environment) } throws: { error in
                (error as? SettingError)?.name == name
            }
        }
    }

    @Test func registryURLsWithImpossibleBucketsAreUsageErrors() throws {
        #expect(try RegistryLocation("s3://good-bucket/some/prefix") == .s3(bucket: "good-bucket", prefix: "some/prefix"))
        for bad in ["s3://Bad_Bucket!", "s3://a", "s3://", "ftp://x", "s3:/bucket", "s3:bucket", "s3:", "S3:/bucket"] {
            #expect { try RegistryLocation(bad) } throws: { error in (error as? RegistryError)?.kind == .usage }
        }
    }

    @Test func theS3SchemeIsCaseInsensitiveAsInQuilt3() throws {
        #expect(try RegistryLocation("S3://good-bucket") == .s3(bucket: "good-bucket", prefix: ""))
        #expect(try RegistryLocation("S3://good-bucket/p/").url == "s3://good-bucket/p")
        // A local folder whose name merely starts with s3 is still a folder.
        #expect(try RegistryLocation("s3data").isLocal)
    }
}
