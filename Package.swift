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
        .library(name: "EpsilonTLS", targets: ["EpsilonTLS"]),
        .library(name: "EpsilonHTTP2", targets: ["EpsilonHTTP2"]),
        .library(name: "EpsilonWebSocket", targets: ["EpsilonWebSocket"]),
        .library(name: "EpsilonWebSocketDeflate", targets: ["EpsilonWebSocketDeflate"]),
        .library(name: "EpsilonHTTPTypes", targets: ["EpsilonHTTPTypes"]),
        .library(name: "EpsilonHTTPContentCoding", targets: ["EpsilonHTTPContentCoding"]),
        .library(name: "EpsilonHTTPServer", targets: ["EpsilonHTTPServer"]),
        .library(name: "EpsilonHTTPServerLifecycle", targets: ["EpsilonHTTPServerLifecycle"]),
        .library(name: "EpsilonHTTPClient", targets: ["EpsilonHTTPClient"]),
        .library(name: "EpsilonWebSocketClient", targets: ["EpsilonWebSocketClient"]),
        .executable(name: "epsilon", targets: ["epsilon"]),
        .executable(name: "epsilon-conformance", targets: ["epsilon-conformance"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // MARK: Protocol machines (standard library only)
        // EpsilonBytes: the byte helpers the machines share (SPI, not a product: see its ASCII.swift).
        .target(name: "EpsilonBytes", path: "Packages/EpsilonBytes", swiftSettings: strict),
        .target(name: "EpsilonHTTP1", dependencies: ["EpsilonBytes"], path: "Packages/EpsilonHTTP1", swiftSettings: strict),
        .target(name: "EpsilonHPACK", dependencies: ["EpsilonBytes"], path: "Packages/EpsilonHPACK", swiftSettings: strict),
        .target(name: "EpsilonHTTP2", dependencies: ["EpsilonHPACK", "EpsilonBytes"], path: "Packages/EpsilonHTTP2", swiftSettings: strict),
        // CEpsilonUTF8: the UTF-8 check with byte shuffles (SSSE3/AVX2/AVX-512, chosen at run time);
        // C of our own, no libc and no library, as Swift cannot compile a function for a higher ISA.
        .target(name: "CEpsilonUTF8", path: "Packages/CEpsilonUTF8"),
        .target(name: "EpsilonWebSocket", dependencies: ["EpsilonBytes", "CEpsilonUTF8"], path: "Packages/EpsilonWebSocket", swiftSettings: strict),
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

        // MARK: HTTP content codings (gzip/deflate over zlib), sans-IO, shared by server and client
        .target(
            name: "EpsilonHTTPContentCoding",
            dependencies: ["EpsilonBytes", "CZlib"],
            path: "Packages/EpsilonHTTPContentCoding",
            swiftSettings: strict
        ),

        // MARK: The server and the client (machines + transport + TLS; never each other)
        .target(
            name: "EpsilonHTTPServer",
            dependencies: [
                "EpsilonHTTP1", "EpsilonHTTP2", "EpsilonHTTPTypes", "EpsilonTransport", "EpsilonTLS",
                "EpsilonHTTPContentCoding", "EpsilonBytes", "EpsilonWebSocket", "EpsilonWebSocketDeflate",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Packages/EpsilonHTTPServer",
            swiftSettings: strict
        ),
        .target(
            name: "EpsilonHTTPServerLifecycle",
            dependencies: ["EpsilonHTTPServer", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            path: "Packages/EpsilonHTTPServerLifecycle",
            swiftSettings: strict
        ),
        .target(
            name: "EpsilonHTTPClient",
            dependencies: [
                "EpsilonHTTP1", "EpsilonHTTP2", "EpsilonHTTPTypes", "EpsilonTransport", "EpsilonTLS",
                "EpsilonHTTPContentCoding", "EpsilonBytes",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Packages/EpsilonHTTPClient",
            swiftSettings: strict
        ),
        .target(
            name: "EpsilonWebSocketClient",
            dependencies: [
                "EpsilonHTTPClient", "EpsilonHTTP1", "EpsilonWebSocket", "EpsilonWebSocketDeflate",
                "EpsilonTransport", "EpsilonTLS", "EpsilonBytes",
            ],
            path: "Packages/EpsilonWebSocketClient",
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
                "EpsilonHTTPServer",
                "EpsilonWebSocket",
                "EpsilonHTTPClient",
                "EpsilonTransport",
                "EpsilonTLS",
                "EpsilonWebSocketClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Packages/epsilon",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "epsilon-conformance",
            dependencies: [
                "EpsilonTooling",
                "EpsilonWebSocketClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Packages/epsilon-conformance",
            swiftSettings: strict
        ),

        // MARK: Tests
        // Test support: counts malloc calls on the calling thread (see its README.md).
        .target(name: "EpsilonMallocCounter", path: "Tests/Support/EpsilonMallocCounter"),
        // Test support: the first HTTP/1.1 server (plain-text hello over HTTP1Connection), kept as
        // the transport, TLS and integration tests' server; EpsilonHTTPServer replaced it.
        .target(
            name: "EpsilonHTTPServerPreview",
            dependencies: ["EpsilonTransport", "EpsilonHTTP1", "EpsilonTLS"],
            path: "Tests/Support/EpsilonHTTPServerPreview",
            swiftSettings: strict
        ),
        // Test support: reads a handshake's HTTP/1.1 head with EpsilonHTTP1 for the WebSocket tests.
        .target(name: "EpsilonTestHead", dependencies: ["EpsilonHTTP1"], path: "Tests/Support/EpsilonTestHead", swiftSettings: strict),
        // Test support: the process's heap in use (mallinfo2), for the idle HTTP/2 memory test.
        .target(name: "EpsilonHTTP2TestSupport", path: "Tests/Support/EpsilonHTTP2TestSupport"),
        // Test support: starts the client tests' real peers and waits for them without blocking.
        .target(name: "EpsilonTestPeers", path: "Tests/Support/EpsilonTestPeers", exclude: ["README.md"], swiftSettings: strict),
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
            name: "EpsilonHTTPContentCodingTests",
            dependencies: ["EpsilonHTTPContentCoding", "EpsilonMallocCounter"],
            path: "Tests/EpsilonHTTPContentCodingTests",
            swiftSettings: strict
        ),
        .testTarget(
            name: "EpsilonHTTPServerTests",
            dependencies: [
                "EpsilonHTTPServer", "EpsilonHTTPServerLifecycle", "EpsilonTransport", "EpsilonTLS", "EpsilonHTTP1",
                "EpsilonHTTP2", "EpsilonHTTPTypes", "EpsilonHTTPContentCoding", "EpsilonMallocCounter",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/EpsilonHTTPServerTests",
            swiftSettings: strict
        ),
        .testTarget(
            name: "EpsilonHTTPClientTests",
            dependencies: [
                "EpsilonHTTPClient", "EpsilonTransport", "EpsilonTLS", "EpsilonHTTP1", "EpsilonHTTP2",
                "EpsilonHTTPContentCoding", .product(name: "HTTPTypes", package: "swift-http-types"),
                "EpsilonTestPeers",
            ],
            path: "Tests/EpsilonHTTPClientTests",
            swiftSettings: strict
        ),
        .testTarget(
            name: "EpsilonWebSocketClientTests",
            dependencies: [
                "EpsilonWebSocketClient", "EpsilonHTTPClient", "EpsilonWebSocket", "EpsilonWebSocketDeflate",
                "EpsilonTransport", "EpsilonTLS",
                "EpsilonTestPeers",
            ],
            path: "Tests/EpsilonWebSocketClientTests",
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
