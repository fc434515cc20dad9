// config.yml as PyYAML types and writes it, and the settings keys.
import Foundation
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltFormat
@testable import QuiltStorage
@testable import QuiltAWS
@testable import QuiltRegistry
import QuiltHTTP

@Suite struct PyYAMLConfigTests {
    @Test func plainScalarsAreTypedAsPyYAMLTypesThem() throws {
        let parsed = try QuiltConfig.parse("""
            a: yes
            b: Off
            c: 0o17
            d: 017
            e: 1:20
            f: 1e3
            g: 1.5
            h: 2001-12-14
            i: '2001-12-14'
            j: ~
            k: 0x1F
            l: [1, two]
            m: {n: null}
            o: 123456789012345678901234567890
            """, path: "c")
        let values = Dictionary(uniqueKeysWithValues: parsed)
        #expect(values["a"] == .bool(true) && values["b"] == .bool(false))
        #expect(values["c"] == .string("0o17") && values["d"] == .int(15) && values["e"] == .int(80))
        #expect(values["f"] == .string("1e3") && values["g"] == .double(1.5))
        #expect(values["h"] == .plain("2001-12-14") && values["i"] == .string("2001-12-14"))
        #expect(values["j"] == .null && values["k"] == .int(31))
        #expect(values["l"] == .list([.int(1), .string("two")]) && values["m"] == .mapping(["n": .null]))
        #expect(values["o"]?.json == .integer("123456789012345678901234567890"))
        #expect(try QuiltConfig.parse("", path: "c").isEmpty)
        #expect(throws: ConfigError.self) { try QuiltConfig.parse("- a list\n", path: "c") }
        #expect(throws: ConfigError.self) { try QuiltConfig.parse("a: [unclosed\n", path: "c") }
    }

    @Test func writingIsYamlDump() throws {
        let text = try PyYAML.dump([
            "b": .string("yes"), "a": .string("plain text"), "c": .null, "d": .bool(true), "e": .double(1e20),
            "f": .string("é"), "g": .string(""), "h": .list([.string("x"), .int(1)]), "i": .mapping(["z": .int(1), "y": .null]),
            "j": .string("2001-12-14"), "k": .double(.infinity), "l": .string("1.5"),
        ])
        #expect(text == """
            a: plain text
            b: 'yes'
            c: null
            d: true
            e: 1.0e+20
            f: "\\xE9"
            g: ''
            h:
            - x
            - 1
            i:
              y: null
              z: 1
            j: '2001-12-14'
            k: .inf
            l: '1.5'

            """)
    }
}

@Suite struct ConfigSettingsTests {
    @Test func settingsAreCheckedAndNormalised() throws {
        #expect(try QuiltConfig.checkedSetting("multipart_chunksize", .string("16M")) == .int(16 << 20))
        #expect(try QuiltConfig.checkedSetting("multipart_threshold", .int(5 << 20)) == .int(5 << 20))
        #expect(throws: ConfigError.self) { try QuiltConfig.checkedSetting("multipart_chunksize", .int((5 << 20) - 1)) }
        #expect(throws: ConfigError.self) { try QuiltConfig.checkedSetting("multipart_threshold", .string("6G")) }
        #expect(try QuiltConfig.checkedSetting("requests_timeout", .string("2.5")) == .double(2.5))
        #expect(try QuiltConfig.checkedSetting("requests_timeout", .int(30)) == .int(30))
        #expect(throws: ConfigError.self) { try QuiltConfig.checkedSetting("requests_timeout", .int(0)) }
        #expect(throws: ConfigError.self) { try QuiltConfig.checkedSetting("max_pool_connections", .int(0)) }
    }

    @Test func theContextHonoursTheSettingsAndTheEnvironmentWins() throws {
        let dir = TemporaryDirectory()
        dir.file("data/Quilt/config.yml",
                 "max_pool_connections: 3\nmultipart_threshold: 6291456\nmultipart_chunksize: 5242880\nrequests_timeout: 7\n")
        let env = ["HOME": dir.path, "XDG_DATA_HOME": dir.path + "/data", "AWS_ACCESS_KEY_ID": "a",
                   "AWS_SECRET_ACCESS_KEY": "b", "AWS_REGION": "us-east-1"]
        let context = try QuiltContext(environment: env)
        #expect(context.transferConcurrency == 3)
        let storage = try #require(try context.registry("s3://bucket").storage as? S3Storage)
        #expect(storage.multipartThreshold == 6 << 20 && storage.partSize == 5 << 20 && storage.partSizeIsFixed)
        #expect(try context.s3Client().configuration.http.connectTimeout == 7)

        let overridden = try QuiltContext(environment: env.merging([
            "QUILT_TRANSFER_MAX_CONCURRENCY": "8", "QUILT_MULTIPART_THRESHOLD": "64M", "QUILT_S3_CONNECT_TIMEOUT": "2",
        ]) { $1 })
        #expect(overridden.transferConcurrency == 8)
        let other = try #require(try overridden.registry("s3://bucket").storage as? S3Storage)
        #expect(other.multipartThreshold == 64 << 20)
        #expect(try overridden.s3Client().configuration.http.connectTimeout == 2)

        let plain = try QuiltContext(environment: ["HOME": dir.path, "XDG_DATA_HOME": dir.path + "/empty"])
        let defaults = try #require(try plain.registry("s3://bucket").storage as? S3Storage)
        #expect(!defaults.partSizeIsFixed && plain.transferConcurrency == 10)
    }

    /// A part size the user chose that would need more than 10,000 parts is an error naming the setting (checked
    /// before anything is sent; the file is sparse).
    @Test func aFixedPartSizeNeedingOver10000PartsIsAnError() throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/big"
        let fd = open(path, O_CREAT | O_WRONLY, 0o644)
        #expect(ftruncate(fd, off_t(10_001 * (5 << 20))) == 0)
        close(fd)
        let client = S3Client(configuration: S3ClientConfiguration(
            endpoint: try S3Endpoint(url: "http://127.0.0.1:1"), region: "us-east-1", credentials: StaticCredentialsProvider(nil)))
        var storage = S3Storage(client: client, bucket: "b", partSize: 5 << 20)
        storage.partSizeIsFixed = true
        #expect(throws: S3Error.tooManyParts(location: "s3://b/k", size: 10_001 * (5 << 20), partSize: 5 << 20)) {
            try storage.put("k", contentsOfFile: path, condition: .always)
        }
        #expect(S3Error.tooManyParts(location: "", size: 10_001 * (5 << 20), partSize: 5 << 20).hint?
            .contains("multipart_chunksize") == true)
    }
}
