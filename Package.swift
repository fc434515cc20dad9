// swift-tools-version:6.0
// Quilt data packages as a git-style command suite: plumbing programs and porcelain over one core.
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
    platforms: [.macOS(.v13)],
    products: programs.map { .executable(name: $0, targets: [$0]) },
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // libcurl through pkg-config: HTTP for S3.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // OpenSSL's libcrypto: SHA-256 and HMAC.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // zlib: CRC-32 and gzip.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Typed wrappers for the C calls Swift cannot make itself (variadic curl_easy_setopt, zlib macros).
        .target(name: "CQuiltShims", dependencies: ["CCurl", "CZlib"]),
        // Formats, hashing, storage, registries, S3. No argument parsing, no printing.
        .target(name: "QuiltCore", dependencies: ["CCurl", "COpenSSL", "CZlib", "CQuiltShims"]),
        // One file per command, plus the shared machinery (error to exit code, output).
        .target(
            name: "QuiltCommands",
            dependencies: ["QuiltCore", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "QuiltCoreTests", dependencies: ["QuiltCore"]),
        .testTarget(name: "QuiltCommandsTests", dependencies: ["QuiltCommands", "QuiltCore"]),
    ] + programs.map { .executableTarget(name: $0, dependencies: ["QuiltCommands"]) },
    swiftLanguageModes: [.v6]
)
