// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Epsilon",
    products: [
        .library(name: "EpsilonTransport", targets: ["EpsilonTransport"]),
    ],
    dependencies: [
    ],
    targets: [
        .target(name: "CEpsilonTransportShims", path: "Packages/CEpsilonTransportShims"),
        .target(
            name: "EpsilonTransport",
            dependencies: ["CEpsilonTransportShims"],
            path: "Packages/EpsilonTransport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "EpsilonTransportTests",
            dependencies: ["EpsilonTransport"],
            path: "Tests/EpsilonTransportTests",
            swiftSettings: strict
        ),
    ]
)
