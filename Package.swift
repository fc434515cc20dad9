// swift-tools-version:6.0
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
]

let package = Package(
    name: "quilt-swift",
    products: programs.map { .executable(name: $0, targets: [$0]) },
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // libcurl through pkg-config: HTTP for S3. Imported by QuiltHTTP only.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // OpenSSL's libcrypto: SHA-256 and HMAC. Imported by QuiltSupport only.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // zlib: the deflate/inflate streams of bundles. Imported by QuiltArchive only.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Typed wrappers for the C calls Swift cannot make itself, one module per C library so that each is imported
        // by that library's owner alone: variadic curl_easy_setopt and curl's macros (QuiltHTTP), zlib's init macros
        // (QuiltArchive).
        .target(name: "CCurlShims", dependencies: ["CCurl"]),
        .target(name: "CZlibShims", dependencies: ["CZlib"]),
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
        // One file per command, plus the shared machinery (error to exit code, output).
        .target(
            name: "QuiltCommands",
            dependencies: [
                "QuiltSupport", "QuiltFormat", "QuiltRegistry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
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
    ] + programs.map { .executableTarget(name: $0, dependencies: ["QuiltCommands"]) },
    swiftLanguageModes: [.v6]
)

// MemberImportVisibility (SE-0444): a file sees the members (methods, properties, operators) of a module only if it
// imports that module itself, as it already had to for its types, so each file's imports say what it uses.
for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("MemberImportVisibility")]
}
