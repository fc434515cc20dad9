// Settings from the environment, bucket names and registry URLs: what is refused as a usage error before any work.
import Testing
@testable import QuiltSupport
@testable import QuiltAWS
@testable import QuiltRegistry

@Suite struct SettingsTests {
    @Test func integersParseStrictlyWithinTheirRange() throws {
        let settings = Settings(["A": "12", "B": "-5", "C": "abc", "D": "", "E": " 7 ", "F": "0"])
        #expect(try settings.integer("A", default: 1, in: 1...Int.max) == 12)
        #expect(try settings.integer("D", default: 3, in: 1...Int.max) == 3, "empty means unset")
        #expect(try settings.integer("missing", default: 3, in: 1...Int.max) == 3)
        #expect(try settings.integer("E", default: 1, in: 1...Int.max) == 7)
        #expect(throws: SettingError(name: "B", value: "-5", reason: "must be at least 1")) {
            try settings.integer("B", default: 1, in: 1...Int.max)
        }
        #expect(throws: SettingError(name: "C", value: "abc", reason: "not a whole number")) {
            try settings.integer("C", default: 1, in: 1...Int.max)
        }
        #expect(throws: SettingError.self) { try settings.integer("F", default: 1, in: 1...Int.max) }
        #expect(SettingError(name: "B", value: "-5", reason: "must be at least 1").message == "invalid B '-5': must be at least 1")
        #expect(SettingError(name: "B", value: "-5", reason: "r").kind == .usage)
    }

    @Test func secondsArePositiveAndFinite() throws {
        let settings = Settings(["A": "2.5", "B": "0", "C": "nan", "D": "inf", "E": "soon"])
        #expect(try settings.seconds("A") == 2.5)
        #expect(try settings.seconds("missing") == nil)
        for name in ["B", "C", "D", "E"] { #expect(throws: SettingError.self) { try settings.seconds(name) } }
    }

    @Test func byteSizesTakeBinaryUnitsAndARange() throws {
        let range = (5 << 20)...(5 << 30)
        let settings = Settings(["A": "64M", "B": "5MiB", "C": "1G", "D": "8388608", "E": "1K", "F": "6T", "G": "lots",
                                 "H": "99999999999999999999G"])
        #expect(try settings.byteSize("A", default: 0, in: range) == 64 << 20)
        #expect(try settings.byteSize("B", default: 0, in: range) == 5 << 20)
        #expect(try settings.byteSize("C", default: 0, in: range) == 1 << 30)
        #expect(try settings.byteSize("D", default: 0, in: range) == 8 << 20)
        #expect(throws: SettingError(name: "E", value: "1K", reason: "must be from 5M to 5G")) {
            try settings.byteSize("E", default: 0, in: range)
        }
        for name in ["F", "G", "H"] { #expect(throws: SettingError.self) { try settings.byteSize(name, default: 0, in: range) } }
    }

    @Test func choicesAreOneOfTheirNamesInAnyCase() throws {
        let settings = Settings(["A": "Ignore", "B": " use ", "C": "maybe", "D": ""])
        #expect(try settings.choice("A", default: "use", among: ["use", "ignore"]) == "ignore")
        #expect(try settings.choice("B", default: "ignore", among: ["use", "ignore"]) == "use")
        #expect(try settings.choice("D", default: "use", among: ["use", "ignore"]) == "use", "empty means unset")
        #expect(throws: SettingError(name: "C", value: "maybe", reason: "must be 'use' or 'ignore'")) {
            try settings.choice("C", default: "use", among: ["use", "ignore"])
        }
    }

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

    @Test func bucketNamesFollowS3Rules() {
        for good in ["abc", "my-bucket", "my.bucket.2", "a" + String(repeating: "b", count: 61) + "c", "ap-x-s3alias"] {
            #expect(S3BucketName.problem(good) == nil, "\(good)")
        }
        for bad in ["ab", "Bad_Bucket!", "UPPER", "-dash", "dash-", "bad..name", "192.168.0.1", "under_score",
                    String(repeating: "a", count: 64), ""] {
            #expect(S3BucketName.problem(bad) != nil, "\(bad)")
        }
    }

    @Test func registryURLsWithImpossibleBucketsAreUsageErrors() throws {
        #expect(try RegistryLocation("s3://good-bucket/some/prefix") == .s3(bucket: "good-bucket", prefix: "some/prefix"))
        for bad in ["s3://Bad_Bucket!", "s3://a", "s3://", "ftp://x"] {
            #expect { try RegistryLocation(bad) } throws: { error in (error as? RegistryError)?.kind == .usage }
        }
    }
}
