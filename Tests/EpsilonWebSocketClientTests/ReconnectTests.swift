import EpsilonWebSocket
import EpsilonWebSocketClient
import Foundation
import Synchronization
import Testing

/// ReconnectingWebSocket against a Python echo server that is killed (SIGKILL) and restarted on
/// the same port: delays within the jitter bounds, queued messages in order, the queue
/// policies, expiry, and no reconnect after a requested close.
@Suite("ReconnectingWebSocket", .serialized, .timeLimit(.minutes(3)))
struct ReconnectTests {
    /// Every state with the moment it was seen.
    final class StateLog: Sendable {
        final class Store: Sendable {
            let entries = Mutex<[(state: WebSocketClientState, at: ContinuousClock.Instant)]>([])
        }
        let store = Store()
        let watcher: Task<Void, Never>
        var snapshot: [(state: WebSocketClientState, at: ContinuousClock.Instant)] { store.entries.withLock { $0 } }

        init(_ socket: ReconnectingWebSocket) {
            let store = self.store
            watcher = Task {
                for await state in socket.states { store.entries.withLock { $0.append((state, .now)) } }
            }
        }

        var states: [WebSocketClientState] { store.entries.withLock { $0.map(\.state) } }
        var count: Int { store.entries.withLock { $0.count } }

        /// Waits (at most `timeout`) until `predicate` holds for some state after index `from`.
        func wait(from: Int = 0, timeout: Duration = .seconds(60), _ predicate: (WebSocketClientState) -> Bool) async throws -> Int {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                let found = store.entries.withLock { entries in entries.indices.dropFirst(from).first { predicate(entries[$0].state) } }
                if let found { return found }
                try await Task.sleep(for: .milliseconds(10))
            }
            throw PythonPeer.Failed(description: "state not reached; states: \(states)")
        }
    }

    static func isOpen(_ state: WebSocketClientState) -> Bool { state == .open }
    static func isClosed(_ state: WebSocketClientState) -> Bool { if case .closed = state { true } else { false } }

    static func next(_ socket: ReconnectingWebSocket, _ iterator: inout AsyncStream<WebSocketClientMessage>.Iterator) async -> WebSocketClientMessage? {
        await iterator.next()
    }

    @Test func reconnectsWithinTheJitterBoundsAndSendsTheQueueInOrder() async throws {
        let peer = try await PythonPeer(["echo", "--no-compression"])
        let backoff = WebSocketClientBackoff(base: .milliseconds(100), cap: .milliseconds(800), stablePeriod: .seconds(60))
        let socket = ReconnectingWebSocket(url: peer.url(), backoff: backoff)
        let log = StateLog(socket)
        socket.start()
        var messages = socket.messages.makeAsyncIterator()
        var seen = try await log.wait(Self.isOpen)
        #expect(try await socket.send(.text("first")) == .sent)
        #expect(await messages.next() == .text("first"))

        var sentSoFar = 0
        for round in 1...3 {
            await peer.stop()
            seen = try await log.wait(from: seen, Self.isClosed)
            // While the server is down: queued, in order.
            for index in 0..<5 {
                #expect(try await socket.send(.text("round \(round) message \(index)")) == .queued)
            }
            sentSoFar += 5
            // Let a few attempts fail against the closed port, then bring the server back.
            try await Task.sleep(for: .milliseconds(700))
            try await peer.restart()
            seen = try await log.wait(from: seen, Self.isOpen)
            for index in 0..<5 {
                #expect(await messages.next() == .text("round \(round) message \(index)"))
            }
        }
        #expect(sentSoFar == 15)
        #expect(socket.queuedCount == 0)

        // Each wait announced a delay inside its bound and the next attempt came no earlier.
        // The wait before `.connecting(attempt: k)` is retry k − 2 (0-based), bounded by
        // min(cap, base × 2^(k−2)); the count is not reset by these short-lived connections
        // (the stable period is 60 s).
        let entries = log.snapshot
        var waits = 0
        for (index, entry) in entries.enumerated() {
            guard case .waiting(let until) = entry.state else { continue }
            guard let next = entries[(index + 1)...].first(where: { if case .connecting = $0.state { true } else { false } }),
                  case .connecting(let attempt) = next.state else { continue }
            let bound = backoff.bound(forAttempt: attempt - 2)
            let announced = until - entry.at
            #expect(announced <= bound + .milliseconds(5), "attempt \(attempt): announced \(announced), bound \(bound)")
            let measured = next.at - entry.at
            #expect(measured >= announced - .milliseconds(5), "attempt \(attempt) came early: \(measured) < \(announced)")
            // Generous on a loaded 2-core machine (5.8 s late was seen with 8 builders running).
            #expect(measured <= bound + .seconds(15), "attempt \(attempt) late: \(measured)")
            waits += 1
        }
        #expect(waits >= 6)   // at least two per round (the server stays down 700 ms)
        await socket.close()
    }

    @Test(arguments: [WebSocketClientQueuePolicy.Overflow.dropOldest, .dropNewest, .fail])
    func appliesTheQueuePolicyWhenFull(overflow: WebSocketClientQueuePolicy.Overflow) async throws {
        let peer = try await PythonPeer(["echo", "--no-compression"])
        let port = peer.port
        await peer.stop()
        let socket = ReconnectingWebSocket(url: "ws://127.0.0.1:\(port)/",
                                           backoff: WebSocketClientBackoff(base: .milliseconds(50), cap: .milliseconds(200)),
                                           queue: WebSocketClientQueuePolicy(capacity: 3, overflow: overflow))
        let log = StateLog(socket)
        socket.start()
        var results: [ReconnectingWebSocket.SendResult] = []
        var failures = 0
        for index in 1...5 {
            do {
                results.append(try await socket.send(.text("m\(index)")))
            } catch {
                #expect(error == .queueFull)
                failures += 1
            }
        }
        switch overflow {
        case .dropOldest:
            #expect(results == [.queued, .queued, .queued, .queued, .queued])
            #expect(socket.droppedQueuedCount == 2)
        case .dropNewest:
            #expect(results == [.queued, .queued, .queued, .dropped, .dropped])
            #expect(socket.droppedQueuedCount == 2)
        case .fail:
            #expect(results == [.queued, .queued, .queued])
            #expect(failures == 2)
        }
        #expect(socket.queuedCount == 3)
        try await peer.start(port: port)
        _ = try await log.wait(Self.isOpen)
        var messages = socket.messages.makeAsyncIterator()
        var received: [WebSocketClientMessage] = []
        for _ in 0..<3 { if let message = await messages.next() { received.append(message) } }
        let expected: [WebSocketClientMessage] = overflow == .dropOldest ? [.text("m3"), .text("m4"), .text("m5")] : [.text("m1"), .text("m2"), .text("m3")]
        #expect(received == expected)
        await socket.close()
    }

    @Test func dropsQueuedMessagesThatExpired() async throws {
        let peer = try await PythonPeer(["echo", "--no-compression"])
        let port = peer.port
        await peer.stop()
        let socket = ReconnectingWebSocket(url: "ws://127.0.0.1:\(port)/",
                                           backoff: WebSocketClientBackoff(base: .milliseconds(50), cap: .milliseconds(200)))
        let log = StateLog(socket)
        socket.start()
        #expect(try await socket.send(.text("short-lived"), expiry: .milliseconds(100)) == .queued)
        #expect(try await socket.send(.text("long-lived"), expiry: .seconds(60)) == .queued)
        try await Task.sleep(for: .milliseconds(400))
        try await peer.start(port: port)
        _ = try await log.wait(Self.isOpen)
        var messages = socket.messages.makeAsyncIterator()
        #expect(await messages.next() == .text("long-lived"))
        #expect(socket.expiredCount == 1)
        await socket.close()
    }

    @Test func doesNotReconnectAfterARequestedClose() async throws {
        let peer = try await PythonPeer(["echo", "--no-compression"])
        let socket = ReconnectingWebSocket(url: peer.url(), backoff: WebSocketClientBackoff(base: .milliseconds(20), cap: .milliseconds(50)))
        let log = StateLog(socket)
        socket.start()
        _ = try await log.wait(Self.isOpen)
        await socket.close(code: .goingAway)
        await log.watcher.value   // the stream ended
        let states = log.states
        #expect(states.last == .stopped(nil))
        let connects = states.filter { if case .connecting = $0 { true } else { false } }.count
        #expect(connects == 1)
        // The close handshake completed with the server's echo of our code.
        #expect(states.contains(.closed(code: .goingAway)))
        await #expect(throws: WebSocketClientError.closed) { try await socket.send(.text("after close")) }
        // And nothing happens later either.
        try await Task.sleep(for: .milliseconds(300))
        #expect(log.states.count == states.count)
    }

    @Test func reconnectsWhenTheServerCloses() async throws {
        let peer = try await PythonPeer(["echo", "--no-compression"])
        let socket = ReconnectingWebSocket(url: peer.url("/close4001"),
                                           backoff: WebSocketClientBackoff(base: .milliseconds(20), cap: .milliseconds(50), maxAttempts: 3))
        let log = StateLog(socket)
        socket.start()
        await log.watcher.value
        let states = log.states
        // Four connections (the first and three attempts), each closed by the server with 4001, then stop.
        #expect(states.filter { $0 == .closed(code: WebSocketCloseCode(4001)) }.count == 4)
        if case .stopped(let error?) = states.last {
            #expect(error == .connectionLost(nil))
        } else {
            Issue.record("did not stop with an error: \(states)")
        }
    }
}
