import EpsilonWebSocket
import Testing

/// Prints throughput figures (meaningful with `swift test -c release --filter ThroughputFigures`);
/// asserts only that the work was done right, since timing on shared machines varies.
@Suite struct ThroughputFigures {
    static func seconds(_ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        let elapsed = clock.measure(body)
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    @Test func unmaskingAndUTF8Validation() {
        var buffer = [UInt8](repeating: 0x61, count: 1 << 20)
        let rounds = 200
        var checksum: UInt8 = 0
        let maskTime = Self.seconds {
            buffer.withUnsafeMutableBytes { raw in
                for _ in 0..<rounds { WebSocketMasking.apply(key: 0x1234_5678, phase: 1, to: raw) }
            }
            checksum = buffer[12345]
        }
        #expect(checksum == 0x61)  // an even number of rounds restores the bytes
        let ascii = [UInt8](repeating: 0x61, count: 1 << 20)
        let mixed = Array(String(repeating: "κόσμε € 😀 ascii ", count: (1 << 20) / 24).utf8)
        var valid = true
        let asciiTime = Self.seconds {
            ascii.withUnsafeBytes { raw in
                for _ in 0..<rounds { var v = WebSocketUTF8Validator(); valid = valid && v.validate(raw) == nil }
            }
        }
        let mixedTime = Self.seconds {
            mixed.withUnsafeBytes { raw in
                for _ in 0..<rounds / 4 { var v = WebSocketUTF8Validator(); valid = valid && v.validate(raw) == nil }
            }
        }
        #expect(valid)
        let mb = Double(rounds)  // MiB processed
        print("unmask: \(Int(mb / maskTime)) MiB/s; UTF-8 ASCII: \(Int(mb / asciiTime)) MiB/s; UTF-8 mixed: \(Int(Double(mixed.count * rounds / 4) / 1_048_576 / mixedTime)) MiB/s")
    }

    @Test func smallMessagesPerSecond() throws {
        var client = WebSocketConnection(role: .client, configuration: { var c = WebSocketConnection.Configuration(); c.maskingKeys = .fixed(0x0102_0304); return c }())
        var wire: [UInt8] = []
        let text = Array("a small 32-byte text message!!!!".utf8)
        for _ in 0..<10_000 { try text.withUnsafeBytes { try client.send(.text, payload: $0) } }
        client.writeOutput(into: &wire)
        var server = WebSocketConnection(role: .server)
        struct Counter: WebSocketEventHandler {
            var messages = 0
            mutating func handle(_ event: WebSocketEvent, connection: inout WebSocketConnection) throws(WebSocketError) { if case .messageEnded = event { messages += 1 } }
        }
        var counter = Counter()
        let rounds = 20
        let time = Self.seconds {
            for _ in 0..<rounds {
                wire.withUnsafeBytes { raw in
                    _ = try? server.receive(raw, now: 0, handler: &counter)
                }
            }
        }
        #expect(counter.messages == rounds * 10_000)
        print("receive (server, masked 32-byte text): \(Int(Double(counter.messages) / time)) messages/s")
    }
}
