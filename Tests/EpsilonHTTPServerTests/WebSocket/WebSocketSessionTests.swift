@testable import EpsilonHTTPServer
import EpsilonWebSocket
import Testing

/// The WebSocket session after the `101`, over the in-memory I/O with its clock: heartbeat,
/// idle timeout, drain with 1001, the back-pressure policies, the async tier.
@Suite struct WebSocketSessionTests {
    static let second: UInt64 = 1_000_000_000

    static func server(_ options: WebSocketRouteOptions, log: TestWebSocketLog, holding: Bool = false) throws -> MemoryServer {
        var router = HTTPRouter()
        try router.webSocket("/ws", options: options, inline: { _ in
            holding ? TestHoldingHandler(log: log) as any WebSocketInlineHandler : TestEchoHandler(log: log)
        })
        return MemoryServer(router: router)
    }

    @Test func echoesInline() throws {
        let log = TestWebSocketLog()
        let server = try Self.server(WebSocketRouteOptions(), log: log)
        _ = try #require(server.upgrade())
        server.send(WebSocketTestClient.text("a") + WebSocketTestClient.frame(2, [1, 2, 3]))
        let frames = WebSocketTestClient.frames(server.io.takeOutput())
        #expect(frames.map(\.opcode) == [1, 2])
        #expect(frames.last?.payload == [1, 2, 3])
    }

    @Test func aPeerThatNeverAnswersPingsIsDroppedAfterTheTimeout() throws {
        var options = WebSocketRouteOptions()
        options.pingInterval = .seconds(1)
        options.pongTimeout = .seconds(2)
        let log = TestWebSocketLog()
        let server = try Self.server(options, log: log)
        let start = server.io.now
        _ = try #require(server.upgrade())
        server.io.advance(to: start + Self.second / 2)
        #expect(server.io.takeOutput().isEmpty)
        server.io.advance(to: start + Self.second + 1)
        #expect(WebSocketTestClient.frames(server.io.takeOutput()).map(\.opcode) == [9])
        server.io.advance(to: start + 2 * Self.second)
        #expect(!server.io.isClosed)
        server.io.advance(to: start + 3 * Self.second + 2)
        #expect(server.io.wasAborted)
        #expect(log.closes.withLock { $0 } == [1006])
    }

    @Test func anyFrameCountsAsAnAnswerToThePing() throws {
        var options = WebSocketRouteOptions()
        options.pingInterval = .seconds(1)
        options.pongTimeout = .seconds(2)
        let log = TestWebSocketLog()
        let server = try Self.server(options, log: log)
        let start = server.io.now
        _ = try #require(server.upgrade())
        server.io.advance(to: start + Self.second + 1)
        #expect(WebSocketTestClient.frames(server.io.takeOutput()).map(\.opcode) == [9])
        server.io.now = start + 2 * Self.second
        server.send(WebSocketTestClient.text("still here"))
        server.io.advance(to: start + 3 * Self.second + 2)
        #expect(!server.io.isClosed)
    }

    @Test func closesAnIdleConnectionWith1000() throws {
        var options = WebSocketRouteOptions()
        options.pingInterval = nil
        options.idleTimeout = .seconds(5)
        let log = TestWebSocketLog()
        let server = try Self.server(options, log: log)
        let start = server.io.now
        _ = try #require(server.upgrade())
        server.io.advance(to: start + 4 * Self.second)
        #expect(server.io.takeOutput().isEmpty)
        server.io.advance(to: start + 5 * Self.second + 1)
        #expect(WebSocketTestClient.closeCode(WebSocketTestClient.frames(server.io.takeOutput())) == 1000)
    }

    @Test func drainSendsGoingAwayAndClosesOnTheAnswer() throws {
        let log = TestWebSocketLog()
        let server = try Self.server(WebSocketRouteOptions(), log: log)
        _ = try #require(server.upgrade())
        server.io.drain()
        #expect(WebSocketTestClient.closeCode(WebSocketTestClient.frames(server.io.takeOutput())) == 1001)
        #expect(!server.io.isClosed)
        server.send(WebSocketTestClient.frame(8, [0x03, 0xE9]))
        #expect(server.io.isClosed)
        #expect(log.closes.withLock { $0 } == [1001])
    }

    @Test func anUnansweredCloseGivesUpAfterTheCloseTimeout() throws {
        var options = WebSocketRouteOptions()
        options.closeTimeout = .seconds(1)
        let log = TestWebSocketLog()
        let server = try Self.server(options, log: log)
        let start = server.io.now
        _ = try #require(server.upgrade())
        server.io.drain()
        server.io.advance(to: start + Self.second / 2)
        #expect(!server.io.isClosed)
        server.io.advance(to: start + Self.second + 1)
        #expect(server.io.isClosed)
        #expect(log.closes.withLock { $0 } == [1006])
    }

    static let policies: [(WebSocketBackpressurePolicy, WebSocketServerSendResult, Int?)] = [
        (.drop, .dropped, nil),
        (.wait, .dropped, nil),
        (.close(WebSocketCloseCode(1013)), .closed, 1013),
        (.close(.policyViolation), .closed, 1008),
    ]

    @Test(arguments: policies)
    func aFullQueueFollowsThePolicy(_ policy: WebSocketBackpressurePolicy, _ expected: WebSocketServerSendResult, _ code: Int?) throws {
        var options = WebSocketRouteOptions()
        options.maxQueuedBytes = 100_000
        options.backpressure = policy
        let log = TestWebSocketLog()
        let server = try Self.server(options, log: log, holding: true)
        _ = try #require(server.upgrade())
        let socket = try #require(log.sockets.withLock { $0.first }).socket
        #expect(socket.send(binary: [UInt8](repeating: 7, count: 1000)) == .sent)
        _ = server.io.takeOutput()
        server.io.simulatedPendingBytes = 99_500
        #expect(socket.send(binary: [UInt8](repeating: 7, count: 400)) == .sent)
        _ = server.io.takeOutput()
        server.io.simulatedPendingBytes = 200_000
        #expect(socket.send(binary: [UInt8](repeating: 7, count: 1000)) == expected)
        let frames = WebSocketTestClient.frames(server.io.takeOutput())
        #expect(!frames.contains { $0.opcode == 2 })
        #expect(WebSocketTestClient.closeCode(frames) == code)
    }

    @Test func theAsyncWriterWaitsForRoomUnderWait() async throws {
        var options = WebSocketRouteOptions()
        options.maxQueuedBytes = 100_000
        var router = HTTPRouter()
        try router.webSocket("/ws", options: options) { inbound, outbound, _ in
            for await message in inbound {
                await outbound.send(message)
            }
        }
        let server = MemoryServer(router: router)
        _ = try #require(server.upgrade())
        server.io.simulatedPendingBytes = 200_000
        server.send(WebSocketTestClient.text("waits"))
        // The handler takes the message and its send waits: nothing goes out.
        let parked = await server.pump {
            ((server.io.session as? WebSocketServerDriver)?.delegate as? WebSocketAsyncDelegate)?.waiting.count == 1
        }
        #expect(parked)
        #expect(WebSocketTestClient.frames(server.io.takeOutput()).isEmpty)
        server.io.drainWrites()
        let frames = await Self.frames(of: server, count: 1)
        #expect(frames.first.map { String(decoding: $0.payload, as: UTF8.self) } == "waits")
    }

    @Test func theAsyncTierEchoesAndClosesWhenTheHandlerReturns() async throws {
        var router = HTTPRouter()
        try router.webSocket("/ws") { inbound, outbound, request in
            var count = 0
            for await message in inbound {
                await outbound.send(message)
                count += 1
                if count == 2 { return }
            }
        }
        let server = MemoryServer(router: router)
        _ = try #require(server.upgrade())
        server.send(WebSocketTestClient.text("one") + WebSocketTestClient.frame(2, [9, 9]))
        let frames = await Self.frames(of: server, count: 3)
        #expect(frames.map(\.opcode) == [1, 2, 8])
        #expect(WebSocketTestClient.closeCode(frames) == 1000)
    }

    @Test func theAsyncTierPausesReadingWhenItsBufferIsFull() async throws {
        var options = WebSocketRouteOptions()
        options.inboundBufferCount = 4
        var router = HTTPRouter()
        let gate = AsyncGate()
        try router.webSocket("/ws", options: options) { inbound, _, _ in
            await gate.wait()
            for await _ in inbound {}
        }
        let server = MemoryServer(router: router)
        _ = try #require(server.upgrade())
        for index in 0..<4 { server.send(WebSocketTestClient.text("m\(index)")) }
        #expect(server.io.isReadingPaused)
        await gate.open()
        #expect(await server.pump { !server.io.isReadingPaused })
    }

    /// Collects the server's frames until there are `count` (or 5 s pass).
    static func frames(of server: MemoryServer, count: Int) async -> [(opcode: UInt8, rsv1: Bool, payload: [UInt8])] {
        var bytes: [UInt8] = []
        await server.pump {
            bytes += server.io.takeOutput()
            return WebSocketTestClient.frames(bytes).count >= count
        }
        return WebSocketTestClient.frames(bytes)
    }
}

/// A one-shot gate a handler task waits at until the test opens it.
actor AsyncGate {
    var isOpen = false
    var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }
}
