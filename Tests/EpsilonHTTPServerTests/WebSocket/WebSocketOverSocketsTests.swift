@testable import EpsilonHTTPServer
import EpsilonTransport
import EpsilonWebSocket
import Foundation
import Testing

/// WebSocket routes of a real ``HTTPServer`` on 127.0.0.1: Close 1001 within the grace
/// period on shutdown, a peer that never answers pings dropped on time.
extension SocketSuites {
@Suite struct WebSocketOverSocketsTests {
    /// A server with an echo route at `/ws`; stopped by `body` or after it.
    func withServer(options: WebSocketRouteOptions = WebSocketRouteOptions(),
                    _ body: (HTTPServer, UInt16) async throws -> Void) async throws {
        var router = HTTPRouter()
        let log = TestWebSocketLog()
        try router.webSocket("/ws", options: options, inline: { _ in TestEchoHandler(log: log) })
        let group = try IOLoopGroup(loopCount: 1)
        let server = try await HTTPServer.start(on: group, address: .ipv4("127.0.0.1", port: 0), router: router)
        do {
            try await body(server, try #require(server.localAddress.port))
        } catch {
            await server.shutdown(gracePeriod: .zero)
            await group.shutdown()
            throw error
        }
        await server.shutdown(gracePeriod: .zero)
        await group.shutdown()
    }

    /// Connects and completes the handshake; nil if the server did not switch.
    func open(_ port: UInt16) async throws -> RawSocketClient? {
        let client = try RawSocketClient(port: port)
        try client.send(WebSocketTestClient.request())
        let head = await client.read(until: "\r\n\r\n")
        return head.hasPrefix("HTTP/1.1 101 ") ? client : nil
    }

    @Test func shutdownSendsGoingAwayAndFinishesWithinTheGracePeriod() async throws {
        try await withServer { server, port in
            let client = try #require(try await open(port))
            try client.send(WebSocketTestClient.text("before"))
            #expect(WebSocketTestClient.frames(await client.read { WebSocketTestClient.frames($0).count == 1 }.bytes).first?.opcode == 1)
            let started = ContinuousClock.now
            async let forced = server.shutdown(gracePeriod: .seconds(5))
            let read = await client.read(timeout: .seconds(5)) { bytes in WebSocketTestClient.frames(bytes).contains { $0.opcode == 8 } }
            #expect(WebSocketTestClient.closeCode(WebSocketTestClient.frames(read.bytes)) == 1001)
            try? client.send(WebSocketTestClient.frame(8, [0x03, 0xE9]))
            // The server closes the TCP connection after the handshake (FIN), not by force.
            #expect(await client.read(timeout: .seconds(5)).closed)
            #expect(await forced == 0)
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    @Test func aPeerThatNeverAnswersPingsIsDroppedOnTime() async throws {
        var options = WebSocketRouteOptions()
        options.pingInterval = .milliseconds(300)
        options.pongTimeout = .milliseconds(500)
        try await withServer(options: options) { _, port in
            // The client's socket reads frames but never answers: pings go unanswered.
            let client = try #require(try await open(port))
            let started = ContinuousClock.now
            let read = await client.read(timeout: .seconds(20))
            let elapsed = ContinuousClock.now - started
            #expect(read.closed)
            #expect(WebSocketTestClient.frames(read.bytes).contains { $0.opcode == 9 })
            // Ping after 300 ms of silence, dropped 500 ms later: not before 0.8 s.
            #expect(elapsed >= .milliseconds(750) && elapsed < .seconds(15), "\(elapsed)")
        }
    }
}
}
