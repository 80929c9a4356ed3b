@testable import EpsilonHTTPServer
import EpsilonTLS
import EpsilonTransport
import EpsilonWebSocket
import Foundation

/// A real ``HTTPServer`` on 127.0.0.1 for WebSocket over HTTP/2 (RFC 8441): h2c prior
/// knowledge, or TLS with ALPN `h2` (a throwaway certificate). Routes: `/ws` echo (inline),
/// `/ws/proto` choosing `chat.v2`, `/ws/origin` allowing only `https://good.example`,
/// `/ws/beat` with a fast heartbeat, `/ws/hold` (async, never reads), `/ws/room` (a broadcast
/// group; 256 KiB outbound limit, then Close 1013), `/hello`.
final class H2WebSocketTestServer: Sendable {
    let server: HTTPServer
    let group: IOLoopGroup
    let port: UInt16
    let isSecure: Bool
    let log: TestWebSocketLog
    /// The members of `/ws/room`.
    let room: WebSocketBroadcastGroup

    static func start(tls: Bool = false, webSocketRoutes: Bool = true) async throws -> H2WebSocketTestServer {
        var router = HTTPRouter()
        let log = TestWebSocketLog()
        let room = WebSocketBroadcastGroup(name: "room")
        try router.get("/hello", fixed: HTTPFixedResponse(status: 200, contentType: "text/plain", body: "Hello, World!"))
        if webSocketRoutes {
            try router.webSocket("/ws", inline: { _ in TestEchoHandler(log: log) })
            try router.webSocket("/ws/proto", accept: { .choosing(from: ["chat.v2"], for: $0) }, inline: { _ in TestEchoHandler(log: log) })
            var origin = WebSocketRouteOptions()
            origin.allowedOrigins = ["https://good.example"]
            try router.webSocket("/ws/origin", options: origin, inline: { _ in TestEchoHandler(log: log) })
            var beat = WebSocketRouteOptions()
            beat.pingInterval = .milliseconds(300)
            beat.pongTimeout = .milliseconds(500)
            try router.webSocket("/ws/beat", options: beat, inline: { _ in TestEchoHandler(log: log) })
            var roomOptions = WebSocketRouteOptions()
            roomOptions.maxQueuedBytes = 256 * 1024
            roomOptions.backpressure = .close(WebSocketCloseCode(1013))
            roomOptions.closeTimeout = .seconds(1)
            try router.webSocket("/ws/room", options: roomOptions, inline: { _ in TestHoldingHandler(log: log, group: room) })
            var hold = WebSocketRouteOptions()
            hold.inboundBufferCount = 2
            try router.webSocket("/ws/hold", options: hold) { inbound, _, _ in
                // Reads nothing until the peer is done: the inbound queue fills, reading pauses.
                try await Task.sleep(for: .seconds(30))
                for await _ in inbound {}
            }
        }
        var configuration = HTTPServerConfiguration()
        configuration.allowsCleartextHTTP2 = true
        var context: TLSContext?
        if tls {
            let pki = try H2TestCertificate.get()
            context = try HTTPServer.tlsContext(certificateFile: pki.certificate, privateKeyFile: pki.key)
        }
        let group = try IOLoopGroup(loopCount: 1)
        let server = try await HTTPServer.start(on: group, address: .ipv4("127.0.0.1", port: 0), router: router,
                                                configuration: configuration, tls: context)
        guard let port = server.localAddress.port else { throw H2PeerError.noPort }
        return H2WebSocketTestServer(server: server, group: group, port: port, isSecure: tls, log: log, room: room)
    }

    private init(server: HTTPServer, group: IOLoopGroup, port: UInt16, isSecure: Bool, log: TestWebSocketLog,
                 room: WebSocketBroadcastGroup) {
        self.room = room
        self.server = server
        self.group = group
        self.port = port
        self.isSecure = isSecure
        self.log = log
    }

    /// Stops the server (returns the connections closed by force) and its loops.
    func stop(gracePeriod: Duration = .zero) async -> Int {
        let forced = await server.shutdown(gracePeriod: gracePeriod)
        await group.shutdown()
        return forced
    }

    /// Waits (bounded) until `condition` holds for the close codes the handlers saw.
    func waitForCloses(timeout: Duration = .seconds(10), _ condition: ([UInt16?]) -> Bool) async -> [UInt16?] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let closes = log.closes.withLock { $0 }
            if condition(closes) { return closes }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return log.closes.withLock { $0 }
    }

    /// Runs a Python script with `h2_websocket` (Tests/Server/lib) importable and `port`,
    /// `tls` defined; its stdout is the result.
    func python(_ body: String, timeout: Duration = .seconds(60)) async -> H2Peer.Result {
        let library = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Server/lib").standardized.path
        let text = """
            import sys
            sys.path.insert(0, \(String(reflecting: library)))
            from h2_websocket import H2Client, Refused
            port, tls = \(port), \(isSecure ? "True" : "False")

            """ + body
        let path = NSTemporaryDirectory() + "h2ws-\(UUID().uuidString).py"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return await H2Peer.run("/usr/bin/env", ["python3", path], timeout: timeout)
    }
}
