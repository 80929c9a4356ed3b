@testable import EpsilonHTTPServer
import EpsilonWebSocket
import Testing

/// The opening handshake on a WebSocket route, over the in-memory I/O: refusals with the
/// right status, and what a `101` carries (accept value, subprotocol, permessage-deflate).
@Suite struct WebSocketHandshakeTests {
    static func router(options: WebSocketRouteOptions = WebSocketRouteOptions(), accept: WebSocketUpgradeHook? = nil) throws -> HTTPRouter {
        var router = HTTPRouter()
        let log = TestWebSocketLog()
        try router.webSocket("/ws", options: options, accept: accept, inline: { _ in TestEchoHandler(log: log) })
        return router
    }

    static let refusals: [(String, String, Int)] = [
        ("plain GET", "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("version 8", "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n", 426),
        ("short key", "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: abc\r\nSec-WebSocket-Version: 13\r\n\r\n", 400),
        ("no Connection: Upgrade", "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400),
        ("HTTP/1.0", "GET /ws HTTP/1.0\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400),
        ("a body", "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 2\r\n\r\nab", 400),
        ("POST", "POST /ws HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405),
    ]

    @Test(arguments: refusals)
    func refusesAnInvalidHandshake(_ name: String, _ request: String, _ status: Int) throws {
        let server = MemoryServer(router: try Self.router())
        server.send(request)
        let out = server.take()
        #expect(out.hasPrefix("HTTP/1.1 \(status) "), "\(name): \(out.prefix(80))")
        if status == 426 { #expect(out.contains("\r\nSec-WebSocket-Version: 13\r\n")) }
        #expect(!(server.io.session is WebSocketServerDriver))
    }

    @Test func refusesAnOriginNotListedWith403() throws {
        var options = WebSocketRouteOptions()
        options.allowedOrigins = ["https://good.example"]
        let server = MemoryServer(router: try Self.router(options: options))
        #expect(server.upgrade(extra: "Origin: https://evil.example\r\n") == nil)
        let allowed = MemoryServer(router: try Self.router(options: options))
        #expect(allowed.upgrade(extra: "Origin: https://good.example\r\n") != nil)
    }

    @Test func theHookRefusesWithItsStatus() throws {
        let server = MemoryServer(router: try Self.router(accept: { request in
            request.field("authorization") == "Bearer ok" ? .accept : .refuse(status: 401, reason: "who are you")
        }))
        server.send(WebSocketTestClient.request())
        let out = server.take()
        #expect(out.hasPrefix("HTTP/1.1 401 "))
        #expect(out.hasSuffix("who are you\n"))
        let allowed = MemoryServer(router: try Self.router(accept: { request in
            request.field("authorization") == "Bearer ok" ? .accept : .refuse(status: 401, reason: "who are you")
        }))
        #expect(allowed.upgrade(extra: "Authorization: Bearer ok\r\n") != nil)
    }

    @Test func switchesWithTheAcceptValueAndTheChosenSubprotocol() throws {
        let server = MemoryServer(router: try Self.router(accept: { .choosing(from: ["v2.chat", "v1.chat"], for: $0) }))
        server.send(WebSocketTestClient.request(extra: "Sec-WebSocket-Protocol: v1.chat, v2.chat\r\n"))
        let out = server.take()
        #expect(out.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
        #expect(out.contains("\r\nSec-WebSocket-Accept: \(WebSocketTestClient.accept)\r\n"))
        #expect(out.contains("\r\nSec-WebSocket-Protocol: v1.chat\r\n"))
        #expect(out.contains("\r\nUpgrade: websocket\r\n"))
        #expect(!out.contains("Sec-WebSocket-Extensions"))
        #expect(server.io.session is WebSocketServerDriver)
    }

    @Test func negotiatesPermessageDeflateWithTheClientsParameters() throws {
        let server = MemoryServer(router: try Self.router())
        server.send(WebSocketTestClient.request(extra: "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits\r\n"))
        let out = server.take()
        #expect(out.hasPrefix("HTTP/1.1 101 "))
        let line = out.components(separatedBy: "\r\n").first { $0.hasPrefix("Sec-WebSocket-Extensions: ") } ?? ""
        #expect(line.contains("permessage-deflate"))
        #expect(line.contains("server_no_context_takeover"))
        #expect(line.contains("server_max_window_bits=10"))
        let driver = try #require(server.io.session as? WebSocketServerDriver)
        #expect(driver.sharedCompressionWindow == 10)
        #expect(driver.request.isCompressed)
    }

    @Test func framesSentWithTheHandshakeAreServedAfterTheSwitch() throws {
        let server = MemoryServer(router: try Self.router())
        server.send(Array(WebSocketTestClient.request().utf8) + WebSocketTestClient.text("early"))
        let rest = try #require(WebSocketTestClient.afterSwitch(server.io.takeOutput()))
        let frames = WebSocketTestClient.frames(rest)
        #expect(frames.count == 1)
        #expect(frames.first?.opcode == 1)
        #expect(frames.first.map { String(decoding: $0.payload, as: UTF8.self) } == "early")
    }

    @Test func aNonWebSocketRouteStillAnswersNormallyBesideIt() throws {
        var router = try Self.router()
        try router.get("/hello", fixed: HTTPFixedResponse(status: 200, contentType: "text/plain", body: "hi"))
        let server = MemoryServer(router: router)
        server.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(server.take().hasSuffix("\r\n\r\nhi"))
    }
}
