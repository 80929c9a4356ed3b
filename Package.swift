// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Epsilon",
    products: [
        .library(name: "EpsilonHPACK", targets: ["EpsilonHPACK"]),
        .library(name: "EpsilonTooling", targets: ["EpsilonTooling"]),
    ],
    dependencies: [
    ],
    targets: [
        .target(name: "EpsilonHPACK", path: "Packages/EpsilonHPACK", swiftSettings: strict),
        .testTarget(
            name: "EpsilonHPACKTests",
            dependencies: ["EpsilonHPACK", "EpsilonMallocCounter"],
            path: "Tests/EpsilonHPACKTests",
            swiftSettings: strict
        ),
        // Test support: counts malloc calls on the calling thread (see its README.md).
        .target(name: "EpsilonMallocCounter", path: "Tests/Support/EpsilonMallocCounter"),
        .target(name: "EpsilonTooling", dependencies: ["EpsilonHPACK"], path: "Packages/EpsilonTooling", swiftSettings: strict),
        .testTarget(
            name: "EpsilonToolingTests",
            dependencies: ["EpsilonTooling"],
            path: "Tests/EpsilonToolingTests",
            swiftSettings: strict
        ),
    ]
)
