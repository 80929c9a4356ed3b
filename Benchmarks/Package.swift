// swift-tools-version: 6.2
import PackageDescription

// Epsilon against named peers, in one run. Its own package, so peers never become
// dependencies of the library. Set up once with `bash Benchmarks/setup.sh`, then:
//   swift run -c release --package-path Benchmarks epsilon-bench [--quick]
// See README.md here.

// The C peers are compiled at -O2 for plain x86-64 (no -march=native), the instruction-set
// level Swift compiles our code for by default, so ratios compare like with like.
let peerFlags: [CSetting] = [.unsafeFlags(["-O2", "-march=x86-64", "-mtune=generic", "-w"])]

let package = Package(
    name: "EpsilonBenchmarks",
    products: [
        .executable(name: "epsilon-bench", targets: ["epsilon-bench"]),
        .executable(name: "nio-hello-server", targets: ["nio-hello-server"]),
        .executable(name: "epsilon-load-client", targets: ["epsilon-load-client"]),
        .executable(name: "hummingbird-server", targets: ["hummingbird-server"]),
        .executable(name: "epsilon-client-bench", targets: ["epsilon-client-bench"]),
        .executable(name: "hummingbird-ws-server", targets: ["hummingbird-ws-server"]),
        .executable(name: "epsilon-ws-client-bench", targets: ["epsilon-ws-client-bench"]),
    ],
    dependencies: [
        .package(name: "Epsilon", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-http2", exact: "1.46.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        // The WebSocket peers of load/websocket.sh (server) and load/websocket-client.sh (WSClient).
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", exact: "2.8.1"),
        // The HTTP client peer of epsilon-client-bench.
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        // package-benchmark, for EpsilonMicro's allocation counts (its malloc interposer).
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(name: "CBenchPeers", path: "Sources/CBenchPeers", cSettings: peerFlags,
                linkerSettings: [.linkedLibrary("http_parser")]),
        .target(name: "CBenchMalloc", path: "Sources/CBenchMalloc"),
        .systemLibrary(name: "CNghttp2", path: "Sources/CNghttp2"),
        .executableTarget(
            name: "epsilon-bench",
            dependencies: [
                "CBenchPeers", "CBenchMalloc", "CNghttp2",
                .product(name: "EpsilonHTTP1", package: "Epsilon"),
                .product(name: "EpsilonHPACK", package: "Epsilon"),
                .product(name: "EpsilonHTTP2", package: "Epsilon"),
                .product(name: "EpsilonWebSocket", package: "Epsilon"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            ],
            path: "Sources/epsilon-bench",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Allocations and time per operation under package-benchmark (see README.md):
        //   swift package --package-path Benchmarks --disable-sandbox benchmark --target EpsilonMicro
        .executableTarget(
            name: "EpsilonMicro",
            dependencies: [
                "CBenchPeers", "CNghttp2",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "EpsilonHTTP1", package: "Epsilon"),
                .product(name: "EpsilonHPACK", package: "Epsilon"),
                .product(name: "EpsilonWebSocket", package: "Epsilon"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
            ],
            path: "Benchmarks/EpsilonMicro",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // EpsilonHTTPClient against AsyncHTTPClient and curl, on loopback nginx:
        //   swift run -c release --package-path Benchmarks epsilon-client-bench [--seconds 5]
        .executableTarget(
            name: "epsilon-client-bench",
            dependencies: [
                .product(name: "EpsilonHTTPClient", package: "Epsilon"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Sources/epsilon-client-bench",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // The SwiftNIO peer for the load figures (Benchmarks/load/run.sh).
        .executableTarget(
            name: "nio-hello-server",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Sources/nio-hello-server",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Latency and idle-connection client for the load figures (plain sockets, no peers).
        .executableTarget(
            name: "epsilon-load-client",
            path: "Sources/epsilon-load-client",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // The Hummingbird 2 peer for Benchmarks/load/server.sh (HTTP/1.1 hello and routed rows).
        .executableTarget(
            name: "hummingbird-server",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            path: "Sources/hummingbird-server",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // The hummingbird-websocket peer for Benchmarks/load/websocket.sh (/ws/echo and /ws/chat).
        .executableTarget(
            name: "hummingbird-ws-server",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            ],
            path: "Sources/hummingbird-ws-server",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // WebSocket client round trips against `epsilon serve`'s /ws/echo, ours against
        // hummingbird-websocket's WSClient (Python websockets beside it): load/websocket-client.sh.
        .executableTarget(
            name: "epsilon-ws-client-bench",
            dependencies: [
                .product(name: "EpsilonWebSocketClient", package: "Epsilon"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ],
            path: "Sources/epsilon-ws-client-bench",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
