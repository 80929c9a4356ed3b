import EpsilonWebSocket
import EpsilonWebSocketClient
import EpsilonWebSocketDeflate
import Testing

/// A scripted server on loopback (Tests/Client/ws_peer.py scripted MODE) answering with a
/// fault: every one ends in a typed error, none in a crash or a hang.
@Suite("WebSocket client against a scripted bad server", .serialized, .timeLimit(.minutes(2)))
struct BadServerTests {
    enum Expected: Sendable, CustomStringConvertible {
        case handshake(WebSocketHandshakeError)
        case head
        case frame(WebSocketError.Rule)
        case lost

        var description: String {
            switch self {
            case .handshake(let error): return "handshake(\(error))"
            case .head: return "invalidResponseHead"
            case .frame(let rule): return "protocolViolation(\(rule))"
            case .lost: return "connectionLost"
            }
        }

        func matches(_ error: WebSocketClientError) -> Bool {
            switch (self, error) {
            case (.handshake(let expected), .handshake(let found)): return expected == found
            case (.head, .invalidResponseHead): return true
            case (.frame(let rule), .protocolViolation(let found)): return found.rule == rule
            case (.lost, .connectionLost): return true
            default: return false
            }
        }
    }

    @Test(arguments: [
        ("bad-accept", Expected.handshake(.invalidAccept)),
        ("status-404", .handshake(.statusNotSwitchingProtocols(404))),
        ("garbage", .head),
        ("unoffered-extension", .handshake(.unexpectedExtension)),
        ("masked", .frame(.maskedServerFrame)),
        ("bad-utf8", .frame(.invalidUTF8)),
        ("reserved-opcode", .frame(.reservedOpcode)),
        ("rsv1", .frame(.reservedBitsSet)),
        ("bomb", .frame(.messageTooLarge)),
        ("reset", .lost),
    ])
    func endsInATypedError(mode: String, expected: Expected) async throws {
        let peer = try await PythonPeer(["scripted", mode])
        var configuration = WebSocketClientConfiguration()
        configuration.compression = WebSocketDeflateClientOffer()
        configuration.maxMessageSize = 1 << 20
        var failure: WebSocketClientError?
        var received: [WebSocketClientMessage] = []
        do {
            let connection = try await WebSocketClient.open(peer.url(), configuration: configuration)
            while let message = try await connection.receive() { received.append(message) }
        } catch {
            failure = error
        }
        guard let failure else {
            Issue.record("\(mode): no error, received \(received)")
            return
        }
        #expect(expected.matches(failure), "\(mode): expected \(expected), got \(failure)")
        if mode == "reset" { #expect(received == [.text("before reset")]) }
    }
}
