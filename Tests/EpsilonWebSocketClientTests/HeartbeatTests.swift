import EpsilonWebSocketClient
import Foundation
import Testing

/// The heartbeat against a Python echo server frozen with SIGSTOP: the TCP connection stays
/// up, nothing answers, and the client must notice within interval + pong timeout.
@Suite("WebSocket client heartbeat", .serialized, .timeLimit(.minutes(2)))
struct HeartbeatTests {
    @Test func declaresAFrozenServerDeadWithinTheTimeout() async throws {
        let peer = try await PythonPeer(["echo", "--no-compression"])
        defer { peer.signal(SIGCONT) }
        var configuration = WebSocketClientConfiguration()
        configuration.heartbeat = WebSocketClientHeartbeat(interval: .milliseconds(300), pongTimeout: .milliseconds(700))
        let connection = try await WebSocketClient.open(peer.url(), configuration: configuration)
        // Alive: a few heartbeats pass while the server answers.
        let reader = Task { () -> (WebSocketClientError?, ContinuousClock.Instant) in
            do throws(WebSocketClientError) {
                while try await connection.receive() != nil {}
                return (nil, .now)
            } catch {
                return (error, .now)
            }
        }
        try await Task.sleep(for: .seconds(1.2))
        let frozen = ContinuousClock.now
        peer.signal(SIGSTOP)
        let (error, at) = await reader.value
        #expect(error == .heartbeatTimeout)
        let detected: Duration = at - frozen
        // Not before a pong timeout has passed; at most interval + timeout, with wide room for a
        // loaded 2-core machine (timers wake late there; 15 s was seen with 8 builders running).
        #expect(detected >= .milliseconds(400), "\(detected)")
        #expect(detected <= .milliseconds(1000) + .seconds(20), "\(detected)")
    }

    @Test func reconnectingSocketReconnectsAfterAFrozenServerIsDeclaredDead() async throws {
        let peer = try await PythonPeer(["echo", "--no-compression"])
        defer { peer.signal(SIGCONT) }
        var configuration = WebSocketClientConfiguration()
        configuration.heartbeat = WebSocketClientHeartbeat(interval: .milliseconds(200), pongTimeout: .milliseconds(500))
        configuration.handshakeTimeout = .milliseconds(500)
        let socket = ReconnectingWebSocket(url: peer.url(), configuration: configuration,
                                           backoff: WebSocketClientBackoff(base: .milliseconds(50), cap: .milliseconds(100)))
        let log = ReconnectTests.StateLog(socket)
        socket.start()
        let opened = try await log.wait(ReconnectTests.isOpen)
        peer.signal(SIGSTOP)
        let frozen = ContinuousClock.now
        let closed = try await log.wait(from: opened, ReconnectTests.isClosed)
        let detected = log.snapshot[closed].at - frozen
        #expect(detected <= .milliseconds(700) + .seconds(20), "\(detected)")
        // Attempts against the frozen server time out in the handshake; thawed, it reconnects.
        _ = try await log.wait(from: closed) { if case .connecting(let attempt) = $0 { attempt >= 2 } else { false } }
        peer.signal(SIGCONT)
        _ = try await log.wait(from: closed, ReconnectTests.isOpen)
        await socket.close()
    }
}
