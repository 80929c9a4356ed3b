// swift-tools-version: 6.2
import PackageDescription

// HPACK figures against named peers: SwiftNIO's NIOHPACK and nghttp2's HPACK (libnghttp2).
// Its own package, so peers never become dependencies of the library.
// Run: bash Benchmarks/HPACK/run.sh  (installs libnghttp2-dev, builds in release, prints ratios)
let package = Package(
    name: "EpsilonHPACKBenchmarks",
    dependencies: [
        .package(name: "Epsilon", path: "../.."),
        .package(url: "https://github.com/apple/swift-nio-http2", exact: "1.46.0"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
    ],
    targets: [
        .systemLibrary(name: "CNghttp2", path: "Sources/CNghttp2"),
        .executableTarget(
            name: "HPACKBenchmark",
            dependencies: [
                "CNghttp2",
                .product(name: "EpsilonHPACK", package: "Epsilon"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/HPACKBenchmark",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
