import EpsilonWebSocket
import Testing

/// Hostile input never traps: random and mutated streams, split at random points.
@Suite struct HostileInput {
    @Test(arguments: [WebSocketRole.client, .server])
    func randomAndMutatedStreamsNeverTrap(_ role: WebSocketRole) {
        var generator = SystemRandomNumberGenerator()
        let mask = key(for: peer(of: role))
        let valid = frame(.text, Array("κόσμε".utf8), fin: false, mask: mask) + frame(.ping, [1, 2], mask: mask)
            + frame(.continuation, Array("!".utf8), mask: mask) + frame(.binary, [UInt8](repeating: 9, count: 300), mask: mask)
            + frame(.close, [0x03, 0xE8, 0x41], mask: mask)
        var failures = 0
        for round in 0..<3000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            } else {
                bytes = valid
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
            }
            var configuration = WebSocketConnection.Configuration()
            configuration.allowsCompressedMessages = round % 3 == 0
            configuration.maxFramePayload = round % 5 == 0 ? UInt64.max : 1 << 20
            configuration.maxMessageSize = round % 5 == 0 ? UInt64.max : 1 << 20
            var connection = WebSocketConnection(role: role, configuration: configuration)
            let result = receive(bytes, into: &connection, chunk: Int.random(in: 1...20, using: &generator))
            if result.error != nil { failures += 1 }
            var out: [UInt8] = []
            connection.writeOutput(into: &out)
            // Whatever we queue is itself a valid stream for the peer.
            #expect(receive(out, as: peer(of: role)).error == nil)
        }
        #expect(failures > 0)
    }
}
