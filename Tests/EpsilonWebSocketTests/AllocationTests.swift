import EpsilonWebSocket
import EpsilonMallocCounter
import Testing

/// A handler that only counts, as an application that consumes views in place would.
private struct CountingHandler: WebSocketEventHandler {
    var messages = 0
    var bytes = 0
    mutating func handle(_ event: WebSocketEvent, connection: inout WebSocketConnection) throws(WebSocketError) {
        switch event {
        case .messageData(let view): bytes += view.count
        case .messageEnded: messages += 1
        default: break
        }
    }
}

/// Counts heap allocations with the interposer in Tests/Support/EpsilonMallocCounter.
@Suite struct SteadyStateAllocations {
    @Test func probeSeesAllocations() {
        epsilon_malloc_counter_start()
        let array = [UInt8](repeating: 1, count: Int.random(in: 100...200))
        let count = epsilon_malloc_counter_stop()
        #expect(array.count >= 100)
        #expect(count >= 1)
    }

    @Test(arguments: [WebSocketRole.server, .client])
    func zeroAllocationsPerFrameForSmallMessages(_ role: WebSocketRole) throws {
        // The peer's frames: 16-byte text messages, a ping every 10 messages.
        var peerConfiguration = WebSocketConnection.Configuration()
        peerConfiguration.maskingKeys = .fixed(0x1234_5678)
        var peer = WebSocketConnection(role: role == .server ? .client : .server, configuration: peerConfiguration)
        var wire: [UInt8] = []
        let text = Array("sixteen bytes ok".utf8)
        for i in 0..<100 {
            try text.withUnsafeBytes { try peer.send(.text, payload: $0) }
            if i % 10 == 0 { try text.withUnsafeBytes { try peer.sendPing($0) } }
        }
        peer.writeOutput(into: &wire)
        var connection = WebSocketConnection(role: role)
        var handler = CountingHandler()
        var output: [UInt8] = []
        output.reserveCapacity(64 * 1024)
        let rounds = 50
        var allocations: Int64 = 0
        for round in 0..<(rounds + 5) {
            // Round 0–4 warm up; then count receive + send for 100 messages per round.
            let counting = round >= 5
            if counting { epsilon_malloc_counter_start() }
            // The bytes as the transport hands them over: immutable, received in place.
            wire.withUnsafeBytes { buffer in
                _ = try? connection.receive(buffer, now: 0, handler: &handler)
            }
            text.withUnsafeBytes { payload in
                for _ in 0..<100 { try? connection.send(.text, payload: payload) }
            }
            connection.writeOutput(into: &output)
            output.removeAll(keepingCapacity: true)
            if counting { allocations += epsilon_malloc_counter_stop() }
        }
        let frames = rounds * (110 + 110)  // received: 100 messages + 10 pings; sent: 100 messages + 10 pongs
        print("allocations: \(allocations) for \(frames) frames (\(role)): \(Double(allocations) / Double(frames)) per frame")
        #expect(handler.messages == (rounds + 5) * 100)
        #expect(allocations == 0)
    }

    @Test func zeroAllocationsForAnEchoServerAnsweringInsideHandle() throws {
        // Client frames: 32-byte text messages with a Ping every 10; the server echoes each
        // message from inside `handle` and Pongs automatically, all into its output.
        var clientConfiguration = WebSocketConnection.Configuration()
        clientConfiguration.maskingKeys = .fixed(0x5A5A_1234)
        var client = WebSocketConnection(role: .client, configuration: clientConfiguration)
        let text = Array("thirty-two bytes of text echoed".utf8)
        for i in 0..<100 {
            try text.withUnsafeBytes { try client.send(.text, payload: $0) }
            if i % 10 == 0 { try text.withUnsafeBytes { try client.sendPing($0) } }
        }
        var wire: [UInt8] = []
        client.writeOutput(into: &wire)
        var server = WebSocketConnection(role: .server)
        var echo = Echo()
        var output: [UInt8] = []
        var allocations: Int64 = 0
        let rounds = 50
        for round in 0..<(rounds + 5) {
            let counting = round >= 5
            if counting { epsilon_malloc_counter_start() }
            // Socket-sized reads that cut frames anywhere, as the transport hands them over.
            wire.withUnsafeBytes { all in
                var start = 0
                while start < all.count {
                    let end = min(all.count, start + 700)
                    _ = try? server.receive(UnsafeRawBufferPointer(rebasing: all[start..<end]), now: 0, handler: &echo)
                    start = end
                }
            }
            server.writeOutput(into: &output)
            if counting {
                allocations += epsilon_malloc_counter_stop()
            }
            #expect(output.count == 100 * (2 + text.count) + 10 * (2 + text.count))
            output.removeAll(keepingCapacity: true)
        }
        print("allocations: \(allocations) for \(rounds * 220) frames (echo server answering inside handle)")
        #expect(allocations == 0)
    }
}
