// swift-tools-version:6.1
// Quilt data packages as a git-style command suite: plumbing programs and porcelain over layered core libraries.
// The dependency arrows between the library targets are the architecture (Documentation/architecture.md); the
// build checks them: scripts/test builds with --explicit-target-dependency-import-check=error (no target imports
// one outside what it declares and what that declares, however the build was scheduled), and
// scripts/check-architecture (Tests/t/t0050) holds every import to the importing target's own declared dependencies.
// Linux only: the core calls Glibc directly (pread, openat, renameat2), so no Apple platform is claimed.
import PackageDescription

/// Every program of the suite. Each is its own executable target of one line that calls into QuiltCommands.
let programs = [
    "quilt",
    "quilt-hash-object",
    "quilt-write-manifest",
    "quilt-cat-manifest",
    "quilt-rev-parse",
    "quilt-update-ref",
    "quilt-show-ref",
    "quilt-upload-blob",
    "quilt-fetch-blob",
    // The browser (`quilt serve`): its own program, so that only it links Hummingbird and NIO; `quilt serve` runs it.
    "quilt-serve",
]

let package = Package(
    name: "quilt-swift",
    products: programs.map { .executable(name: $0, targets: [$0]) },
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // The browser's: HTTP (without its swift-configuration trait; NIO's thread pool, swift-log, HTTP types and
        // the signal names of service-lifecycle, which it stands on, named too), HTML templates, Markdown, CSV.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/JohnSundell/Ink", from: "0.6.0"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // libcurl's headers: HTTP for S3. Not linked: CCurlShims loads libcurl.so.4 at the first request (its header
        // says why), so no pkg-config libraries either. Imported by QuiltHTTP and CCurlShims only.
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // OpenSSL's libcrypto: SHA-256 and HMAC. Imported by QuiltSupport only.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // zlib: the deflate/inflate streams of bundles. Imported by QuiltArchive only.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // libfuse 3's low-level API: `quilt mount`. Imported by QuiltMount only.
        .systemLibrary(name: "CFuse", pkgConfig: "fuse3", providers: [.apt(["libfuse3-dev"])]),
        // Typed wrappers for the C calls Swift cannot make itself, one module per C library so that each is imported
        // by that library's owner alone: libcurl's loader and variadic curl_easy_setopt (QuiltHTTP), zlib's init macros
        // (QuiltArchive), libfuse's argument and loop macros and file-info bit fields (QuiltMount).
        .target(name: "CCurlShims", dependencies: ["CCurl"]),
        .target(name: "CZlibShims", dependencies: ["CZlib"]),
        .target(name: "CFuseShims", dependencies: ["CFuse"]),
        // Errors, files and system calls, locks and thread pools, hex/base64, SHA-256 and HMAC.
        .target(name: "QuiltSupport", dependencies: ["COpenSSL"]),
        // Formats: JSON as Python sees it, object hashes, manifests and entry streams, names and keys. No network.
        .target(name: "QuiltFormat", dependencies: ["QuiltSupport"]),
        // JSON Schema (draft 7) as Python's jsonschema validates it, for workflows: its own target, so only what
        // checks metadata against a schema carries it.
        .target(name: "QuiltJSONSchema", dependencies: ["QuiltSupport", "QuiltFormat"]),
        // gzip streams over zlib and tar members, written and read as streams; recognising compressed data.
        .target(name: "QuiltArchive", dependencies: ["CZlib", "CZlibShims"]),
        // HTTP over libcurl: a pool of handles, timeouts, transport errors.
        .target(name: "QuiltHTTP", dependencies: ["QuiltSupport", "CCurl", "CCurlShims"]),
        // The one storage interface (get, put, conditional put, list, delete, head), its vocabulary, and the
        // local-directory backend.
        .target(name: "QuiltStorage", dependencies: ["QuiltSupport"]),
        // AWS: credentials, SigV4, the S3 client, the S3 backend of the storage interface, multipart uploads. The
        // credential sources' JSON is read with QuiltFormat's parser, the suite's one.
        .target(name: "QuiltAWS", dependencies: ["QuiltSupport", "QuiltFormat", "QuiltHTTP", "QuiltStorage"]),
        // Quilt catalog sign-in as quilt3 does it: config.json, the token exchange, auth.json and credentials.json,
        // and the AWS credential provider that renews the catalog's credentials.
        .target(name: "QuiltCatalog", dependencies: ["QuiltSupport", "QuiltFormat", "QuiltHTTP", "QuiltAWS"]),
        // Registries and packages: refs, revisions, building, pushing, installing, transfers, bundles, configuration
        // (YAML through Yams: config.yml and workflow configs).
        .target(
            name: "QuiltRegistry",
            dependencies: [
                "QuiltSupport", "QuiltFormat", "QuiltJSONSchema", "QuiltHTTP", "QuiltStorage", "QuiltAWS",
                "QuiltCatalog", "QuiltArchive", .product(name: "Yams", package: "Yams"),
            ]
        ),
        // A revision as a read-only FUSE file system (`quilt mount`): its own target, so that libfuse is imported
        // by it alone and by nothing the other commands stand on.
        .target(name: "QuiltMount", dependencies: ["QuiltSupport", "QuiltFormat", "QuiltRegistry", "CFuse", "CFuseShims"]),
        // One file per command, plus the shared machinery (error to exit code, output).
        .target(
            name: "QuiltCommands",
            dependencies: [
                "QuiltSupport", "QuiltFormat", "QuiltRegistry", "QuiltMount",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The registry browser (`quilt serve`): an HTTP server over Hummingbird and NIO, pages from Mustache templates,
        // Markdown through Ink, on the reading core and the revision index. Linked into quilt-serve alone.
        .target(
            name: "QuiltServe",
            dependencies: [
                "QuiltSupport", "QuiltFormat", "QuiltRegistry",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Ink", package: "Ink"),
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // Unit tests: one target per library, as SwiftPM's own are, each importing the library it tests and what
        // that library stands on (never a layer above it). QuiltTestSupport is what several share: temporary
        // directories, a stub HTTP server on 127.0.0.1, the storage conformance suite, generated entries.
        .target(name: "QuiltTestSupport", dependencies: ["QuiltSupport", "QuiltFormat", "QuiltStorage"],
                path: "Tests/QuiltTestSupport"),
        .testTarget(name: "QuiltSupportTests", dependencies: ["QuiltSupport", "QuiltTestSupport"]),
        .testTarget(name: "QuiltFormatTests", dependencies: ["QuiltSupport", "QuiltFormat", "QuiltTestSupport"]),
        .testTarget(name: "QuiltJSONSchemaTests", dependencies: ["QuiltSupport", "QuiltFormat", "QuiltJSONSchema"]),
        .testTarget(name: "QuiltHTTPTests", dependencies: ["QuiltSupport", "QuiltHTTP", "QuiltTestSupport"]),
        .testTarget(name: "QuiltStorageTests", dependencies: ["QuiltSupport", "QuiltStorage", "QuiltTestSupport"]),
        .testTarget(name: "QuiltAWSTests", dependencies: ["QuiltSupport", "QuiltHTTP", "QuiltStorage", "QuiltAWS", "QuiltTestSupport"]),
        .testTarget(name: "QuiltCatalogTests",
                    dependencies: ["QuiltSupport", "QuiltFormat", "QuiltHTTP", "QuiltAWS", "QuiltCatalog", "QuiltTestSupport"]),
        .testTarget(name: "QuiltArchiveTests", dependencies: ["QuiltArchive", "QuiltTestSupport"]),
        .testTarget(
            name: "QuiltRegistryTests",
            dependencies: ["QuiltSupport", "QuiltFormat", "QuiltJSONSchema", "QuiltHTTP", "QuiltStorage", "QuiltAWS",
                           "QuiltArchive", "QuiltRegistry", "QuiltTestSupport"]
        ),
        .testTarget(
            name: "QuiltCommandsTests",
            dependencies: ["QuiltSupport", "QuiltRegistry", "QuiltCommands",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "QuiltMountTests",
                    dependencies: ["QuiltSupport", "QuiltFormat", "QuiltRegistry", "QuiltMount", "QuiltTestSupport"]),
        .testTarget(name: "QuiltServeTests",
                    dependencies: ["QuiltSupport", "QuiltFormat", "QuiltStorage", "QuiltRegistry", "QuiltServe", "QuiltTestSupport"]),
    ] + programs.map { program in
        .executableTarget(name: program, dependencies: program == "quilt-serve" ? ["QuiltCommands", "QuiltServe"] : ["QuiltCommands"])
    },
    swiftLanguageModes: [.v6]
)

// MemberImportVisibility (SE-0444): a file sees the members (methods, properties, operators) of a module only if it
// imports that module itself, as it already had to for its types, so each file's imports say what it uses.
for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("MemberImportVisibility")]
}
