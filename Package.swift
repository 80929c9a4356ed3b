// swift-tools-version: 6.2
import PackageDescription

// One library product per module: a user who needs only the HTTP/1.1 parser builds only it.
// Machine modules (EpsilonHTTP1, EpsilonHPACK, EpsilonWebSocket, ...) depend on nothing but
// the standard library; see ../shared/DESIGN.md for the dependency rule.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Epsilon",
    // InlineArray (the WebSocket machine, SHA-1) and Mutex (the transport) need the 2025 OSes.
    platforms: [.macOS(.v26), .iOS(.v26), .tvOS(.v26), .watchOS(.v26), .visionOS(.v26)],
    products: [
        .library(name: "EpsilonHTTP1", targets: ["EpsilonHTTP1"]),
        .library(name: "EpsilonHPACK", targets: ["EpsilonHPACK"]),
        .library(name: "EpsilonTransport", targets: ["EpsilonTransport"]),
        .library(name: "EpsilonHTTPServerPreview", targets: ["EpsilonHTTPServerPreview"]),
        .library(name: "EpsilonTLS", targets: ["EpsilonTLS"]),
        .library(name: "EpsilonHTTP2", targets: ["EpsilonHTTP2"]),
        .library(name: "EpsilonWebSocket", targets: ["EpsilonWebSocket"]),
        .library(name: "EpsilonWebSocketDeflate", targets: ["EpsilonWebSocketDeflate"]),
        .library(name: "EpsilonHTTPTypes", targets: ["EpsilonHTTPTypes"]),
        .executable(name: "epsilon", targets: ["epsilon"]),
        .executable(name: "epsilon-conformance", targets: ["epsilon-conformance"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // MARK: Protocol machines (standard library only)
        // EpsilonBytes: the byte helpers the machines share (SPI, not a product: see its ASCII.swift).
        .target(name: "EpsilonBytes", path: "Packages/EpsilonBytes", swiftSettings: strict),
        .target(name: "EpsilonHTTP1", dependencies: ["EpsilonBytes"], path: "Packages/EpsilonHTTP1", swiftSettings: strict),
        .target(name: "EpsilonHPACK", dependencies: ["EpsilonBytes"], path: "Packages/EpsilonHPACK", swiftSettings: strict),
        .target(name: "EpsilonHTTP2", dependencies: ["EpsilonHPACK", "EpsilonBytes"], path: "Packages/EpsilonHTTP2", swiftSettings: strict),
        .target(name: "EpsilonWebSocket", dependencies: ["EpsilonBytes"], path: "Packages/EpsilonWebSocket", swiftSettings: strict),
        // permessage-deflate over the system zlib (zlib1g-dev).
        .systemLibrary(name: "CZlib", path: "Packages/CZlib"),
        .target(
            name: "EpsilonWebSocketDeflate",
            dependencies: ["EpsilonWebSocket", "EpsilonBytes", "CZlib"],
            path: "Packages/EpsilonWebSocketDeflate",
            swiftSettings: strict
        ),

        // MARK: The bridge from the machines' borrowed heads to swift-http-types' owned values
        // (the machines never depend on it).
        .target(
            name: "EpsilonHTTPTypes",
            dependencies: ["EpsilonHTTP1", "EpsilonHTTP2", "EpsilonBytes", .product(name: "HTTPTypes", package: "swift-http-types")],
            path: "Packages/EpsilonHTTPTypes",
            swiftSettings: strict
        ),

        // MARK: Transport (the OS through a small C shim; TLS through EpsilonTLS, never OpenSSL
        // directly) and the first server on it
        .target(name: "CEpsilonTransportShims", path: "Packages/CEpsilonTransportShims"),
        .target(
            name: "EpsilonTransport",
            dependencies: ["CEpsilonTransportShims", "EpsilonTLS"],
            path: "Packages/EpsilonTransport",
            swiftSettings: strict
        ),
        .target(
            name: "EpsilonHTTPServerPreview",
            dependencies: ["EpsilonTransport", "EpsilonHTTP1"],
            path: "Packages/EpsilonHTTPServerPreview",
            swiftSettings: strict
        ),

        // MARK: TLS (OpenSSL 3 through memory BIOs; see Packages/EpsilonTLS)
        // COpenSSL: the system libssl/libcrypto plus a header of static inline wrappers for the
        // macros Swift cannot import (Packages/COpenSSL/shim.h).
        .systemLibrary(name: "COpenSSL", path: "Packages/COpenSSL"),
        .target(name: "EpsilonTLS", dependencies: ["COpenSSL"], path: "Packages/EpsilonTLS", swiftSettings: strict),

        // MARK: Tooling shared by the command-line tools and their tests
        .target(
            name: "EpsilonTooling",
            dependencies: ["EpsilonHTTP1", "EpsilonHPACK", "EpsilonHTTP2", "EpsilonWebSocket", "EpsilonWebSocketDeflate"],
            path: "Packages/EpsilonTooling",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "epsilon",
            dependencies: [
                "EpsilonTooling",
                "EpsilonHTTPServerPreview",
                "EpsilonTLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Packages/epsilon",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "epsilon-conformance",
            dependencies: [
                "EpsilonTooling",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Packages/epsilon-conformance",
            swiftSettings: strict
        ),

        // MARK: Tests
        // Test support: counts malloc calls on the calling thread (see its README.md).
        .target(name: "EpsilonMallocCounter", path: "Tests/Support/EpsilonMallocCounter"),
        // Test support: reads a handshake's HTTP/1.1 head with EpsilonHTTP1 for the WebSocket tests.
        .target(name: "EpsilonTestHead", dependencies: ["EpsilonHTTP1"], path: "Tests/Support/EpsilonTestHead", swiftSettings: strict),
        // Test support: the process's heap in use (mallinfo2), for the idle HTTP/2 memory test.
        .target(name: "EpsilonHTTP2TestSupport", path: "Tests/Support/EpsilonHTTP2TestSupport"),
        .testTarget(
            name: "EpsilonHTTP1Tests",
            dependencies: ["EpsilonHTTP1", "EpsilonBytes", "EpsilonMallocCounter"],
            path: "Tests/EpsilonHTTP1Tests",
            swiftSettings: strict
        ),
        .testTarget(
            name: "EpsilonHPACKTests",
            dependencies: ["EpsilonHPACK", "EpsilonMallocCounter"],
            path: "Tests/EpsilonHPACKTests",
            swiftSettings: strict
        ),
        .testTarget(
            name: "EpsilonTransportTests",
            dependencies: ["EpsilonTransport", "EpsilonHTTPServerPreview", "EpsilonHTTP1"],
            path: "Tests/EpsilonTransportTests",
            swiftSettings: strict
        ),
        .testTarget(
            name: "EpsilonTLSTests",
            // EpsilonTransport and the preview server: the TLS-over-transport tests reuse this
            // target's certificate and process helpers.
            dependencies: ["EpsilonTLS", "COpenSSL", "EpsilonTransport", "EpsilonHTTPServerPreview"],
            path: "Tests/EpsilonTLSTests",
            swiftSettings: strict
        ),
        .testTarget(
            name: "EpsilonHTTP2Tests",
            dependencies: ["EpsilonHTTP2", "EpsilonMallocCounter", "EpsilonHTTP2TestSupport"],
            path: "Tests/EpsilonHTTP2Tests",
            exclude: ["Interop/h2_peer.py"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EpsilonWebSocketTests",
            dependencies: ["EpsilonWebSocket", "EpsilonMallocCounter", "EpsilonTestHead"],
            path: "Tests/EpsilonWebSocketTests",
            swiftSettings: strict
        ),
        .testTarget(
            name: "EpsilonWebSocketDeflateTests",
            dependencies: ["EpsilonWebSocketDeflate", "EpsilonWebSocket", "EpsilonMallocCounter", "EpsilonTestHead"],
            path: "Tests/EpsilonWebSocketDeflateTests",
            exclude: ["wsproto_peer.py"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EpsilonIntegrationTests",
            dependencies: [
                "EpsilonTransport", "EpsilonTLS", "EpsilonHTTP1", "EpsilonHTTP2", "EpsilonHPACK",
                "EpsilonWebSocket", "EpsilonWebSocketDeflate", "EpsilonHTTPServerPreview",
            ],
            path: "Tests/EpsilonIntegrationTests",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EpsilonHTTPTypesTests",
            dependencies: ["EpsilonHTTPTypes", "EpsilonHTTP1", "EpsilonHTTP2", .product(name: "HTTPTypes", package: "swift-http-types")],
            path: "Tests/EpsilonHTTPTypesTests",
            swiftSettings: strict
        ),
        .testTarget(
            name: "EpsilonToolingTests",
            dependencies: ["EpsilonTooling", "EpsilonWebSocket"],
            path: "Tests/EpsilonToolingTests",
            swiftSettings: strict
        ),
    ]
)
