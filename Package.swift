// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Epsilon",
    products: [
        .library(name: "EpsilonWebSocket", targets: ["EpsilonWebSocket"]),
        .library(name: "EpsilonWebSocketDeflate", targets: ["EpsilonWebSocketDeflate"]),
    ],
    dependencies: [
    ],
    targets: [
        .target(name: "EpsilonWebSocket", path: "Packages/EpsilonWebSocket", swiftSettings: strict),
        .systemLibrary(name: "CZlib", path: "Packages/CZlib"),
        .target(
            name: "EpsilonWebSocketDeflate",
            dependencies: ["EpsilonWebSocket", "CZlib"],
            path: "Packages/EpsilonWebSocketDeflate",
            swiftSettings: strict
        ),
        .target(
            name: "EpsilonTooling",
            dependencies: ["EpsilonWebSocket", "EpsilonWebSocketDeflate"],
            path: "Packages/EpsilonTooling",
            swiftSettings: strict
        ),
        .target(
            name: "EpsilonWebSocketMallocProbe",
            path: "Tests/Support/EpsilonWebSocketMallocProbe"
        ),
        .testTarget(
            name: "EpsilonWebSocketTests",
            dependencies: ["EpsilonWebSocket", "EpsilonWebSocketMallocProbe"],
            path: "Tests/EpsilonWebSocketTests",
            swiftSettings: strict
        ),
        .testTarget(
            name: "EpsilonWebSocketDeflateTests",
            dependencies: ["EpsilonWebSocketDeflate", "EpsilonWebSocket", "EpsilonWebSocketMallocProbe"],
            path: "Tests/EpsilonWebSocketDeflateTests",
            exclude: ["wsproto_peer.py"],
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
