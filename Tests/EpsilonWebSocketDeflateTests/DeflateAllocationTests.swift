import EpsilonWebSocket
import EpsilonWebSocketDeflate
import EpsilonMallocCounter
import Testing

private struct Counter: WebSocketEventHandler {
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

/// Compressed small messages also cost no allocation per frame once warm.
@Suite struct DeflateSteadyStateAllocations {
    @Test(arguments: [false, true])
    func zeroAllocationsPerCompressedFrame(_ noContextTakeover: Bool) throws {
        let parameters = WebSocketDeflateParameters(serverNoContextTakeover: noContextTakeover, clientNoContextTakeover: noContextTakeover)
        var configuration = WebSocketConnection.Configuration()
        configuration.allowsCompressedMessages = true
        configuration.maskingKeys = .fixed(0x0BAD_F00D)
        var client = WebSocketConnection(role: .client, configuration: configuration)
        let clientCompressor = WebSocketDeflateCompressor(parameters: parameters, role: .client)
        let text = Array("a small compressed text message".utf8)
        var wire: [UInt8] = []
        wire.reserveCapacity(64 * 1024)
        var server = WebSocketConnection(role: .server, configuration: configuration)
        let serverCompressor = WebSocketDeflateCompressor(parameters: parameters, role: .server)
        var handler = WebSocketDeflateHandler(Counter(), decompressor: WebSocketDeflateDecompressor(parameters: parameters, role: .server))
        var reply: [UInt8] = []
        reply.reserveCapacity(64 * 1024)
        var allocations: Int64 = 0
        let rounds = 30
        for round in 0..<(rounds + 5) {
            let counting = round >= 5
            if counting { epsilon_malloc_counter_start() }
            wire.removeAll(keepingCapacity: true)
            reply.removeAll(keepingCapacity: true)
            try text.withUnsafeBytes { payload in
                for _ in 0..<50 {
                    try client.sendCompressed(.text, payload: payload, compressor: clientCompressor)
                    try server.sendCompressed(.text, payload: payload, compressor: serverCompressor)
                }
            }
            client.writeOutput(into: &wire)
            server.writeOutput(into: &reply)
            _ = try wire.withUnsafeBytes { raw in try server.receive(raw, now: 0, handler: &handler) }
            if counting { allocations += epsilon_malloc_counter_stop() }
        }
        let frames = rounds * 150  // 50 compressed and sent by each side, 50 received and inflated
        print("deflate (no context takeover: \(noContextTakeover)): \(allocations) allocations for \(frames) frames")
        #expect(handler.inner.messages == (rounds + 5) * 50)
        #expect(handler.inner.bytes == (rounds + 5) * 50 * text.count)
        #expect(allocations == 0)
    }
}
