// swift-tools-version: 6.2
import Foundation
import PackageDescription

// libFuzzer harnesses for the Epsilon protocol machines. A package of its own, so that
// `--sanitize=fuzzer` (which forces -parse-as-library on every executable it builds) never
// touches the root build; `Fuzz/run` builds it in Fuzz/.build-fuzz. See README.md.

let http1: Target.Dependency = .product(name: "EpsilonHTTP1", package: "Epsilon")
let hpack: Target.Dependency = .product(name: "EpsilonHPACK", package: "Epsilon")
let http2: Target.Dependency = .product(name: "EpsilonHTTP2", package: "Epsilon")
let websocket: Target.Dependency = .product(name: "EpsilonWebSocket", package: "Epsilon")
let deflate: Target.Dependency = .product(name: "EpsilonWebSocketDeflate", package: "Epsilon")
let tls: Target.Dependency = .product(name: "EpsilonTLS", package: "Epsilon")
let server: Target.Dependency = .product(name: "EpsilonHTTPServer", package: "Epsilon")
let client: Target.Dependency = .product(name: "EpsilonHTTPClient", package: "Epsilon")
let websocketClient: Target.Dependency = .product(name: "EpsilonWebSocketClient", package: "Epsilon")

/// One line per harness: its folder under Fuzz/ (holding `main.swift`, `<Harness>.dict` and
/// `seeds/`) and what it drives. Adding a machine's harness is one folder and one line here
/// (plus a `let` for a new library product); `Fuzz/run` finds it by its folder.
let harnesses: [(name: String, dependencies: [Target.Dependency])] = [
    ("HTTP1Request", [http1, "FuzzHTTP1Support"]),
    ("HTTP1Response", [http1, "FuzzHTTP1Support"]),
    ("HTTP1SplitInvariance", [http1, "FuzzHTTP1Support"]),
    ("HTTP1SerializerRoundTrip", [http1]),
    ("HTTP1Connection", [http1]),
    ("HPACKDecoder", [hpack]),
    ("HPACKRoundTrip", [hpack]),
    ("HTTP2FrameDecoder", [http2]),
    ("HTTP2ServerConnection", [http2, hpack, "FuzzHTTP2Support"]),
    ("HTTP2ClientConnection", [http2, hpack, "FuzzHTTP2Support"]),
    ("WebSocketServer", [websocket, "FuzzWebSocketSupport"]),
    ("WebSocketClient", [websocket, "FuzzWebSocketSupport"]),
    ("WebSocketDeflateInflate", [websocket, deflate]),
    ("TLSServerEngine", [tls]),
    ("HTTPRouteTable", [server]),
    ("HTTPStaticPath", [server]),
    ("HTTPServer", [server, hpack, websocket]),
    ("HTTPClientResponse", [client]),
    ("WebSocketClientSession", [websocketClient]),
]

/// Corpora, crashes and the dictionary live beside main.swift; SwiftPM warns about files it
/// does not handle and about excluded paths that do not exist, so list the ones present.
func besideSources(of harness: String) -> [String] {
    ["seeds", "seeds-vectors", "corpus-work", "crashes", harness + ".dict"].filter {
        FileManager.default.fileExists(atPath: Context.packageDirectory + "/" + harness + "/" + $0)
    }
}

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "EpsilonFuzz",
    dependencies: [
        .package(name: "Epsilon", path: ".."),
    ],
    targets: [
        // Input decoding and checks shared by every harness (no machine code).
        .target(name: "FuzzSupport", path: "Support/Common", swiftSettings: strict),
        // Drives an HTTP1Parser over a stream split anywhere and records what it reports.
        .target(
            name: "FuzzHTTP1Support", dependencies: ["FuzzSupport", http1],
            path: "Support/HTTP1", swiftSettings: strict
        ),
        // The configuration and per-receive checks of the two HTTP/2 connection harnesses.
        .target(
            name: "FuzzHTTP2Support", dependencies: ["FuzzSupport", http2],
            path: "Support/HTTP2", swiftSettings: strict
        ),
        // Drives a WebSocket Connection of either role and checks what it reports.
        .target(
            name: "FuzzWebSocketSupport", dependencies: ["FuzzSupport", websocket],
            path: "Support/WebSocket", swiftSettings: strict
        ),
    ] + harnesses.map { harness in
        .executableTarget(
            name: "Fuzz" + harness.name,
            dependencies: ["FuzzSupport"] + harness.dependencies,
            path: harness.name,
            exclude: besideSources(of: harness.name),
            sources: ["main.swift"],
            swiftSettings: strict
        )
    }
)
