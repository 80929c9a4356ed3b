@testable import EpsilonWebSocketClient
import EpsilonWebSocket
import EpsilonWebSocketDeflate
import Testing

/// The client's byte path without sockets: URLs, the request it writes, responses split
/// anywhere, and the frames after them.
@Suite struct WebSocketClientSessionTests {
    @Test(arguments: [
        ("ws://example.com", false, "example.com", 80, "/", "example.com"),
        ("wss://example.com/chat?x=1#frag", true, "example.com", 443, "/chat?x=1", "example.com"),
        ("ws://127.0.0.1:9001/runCase?case=1", false, "127.0.0.1", 9001, "/runCase?case=1", "127.0.0.1:9001"),
        ("wss://[::1]:8443", true, "::1", 8443, "/", "[::1]:8443"),
        ("ws://h?q", false, "h", 80, "/?q", "h"),
    ])
    func parsesURLs(text: String, secure: Bool, host: String, port: Int, target: String, authority: String) throws {
        let url = try WebSocketClientURL(text)
        #expect(url.isSecure == secure)
        #expect(url.host == host)
        #expect(Int(url.port) == port)
        #expect(url.target == target)
        #expect(url.authority == authority)
    }

    @Test(arguments: ["example.com", "ftp://x", "ws://", "ws://h:0/", "ws://h:70000/", "ws://[::1/", "ws://h/a b", "ws://h/\u{e9}"])
    func refusesBadURLs(text: String) {
        #expect(throws: WebSocketClientError.self) { try WebSocketClientURL(text) }
    }

    func session(_ configure: (inout WebSocketClientConfiguration) -> Void = { _ in }) throws -> WebSocketClientSession {
        var configuration = WebSocketClientConfiguration()
        configure(&configuration)
        return try WebSocketClientSession(url: try WebSocketClientURL("ws://example.com:8080/chat"), configuration: configuration)
    }

    func accept(_ session: WebSocketClientSession, extra: String = "") -> [UInt8] {
        let accept = WebSocketHandshake.acceptValue(forKey: session.handshake.key)
        return Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(accept)\r\n\(extra)\r\n".utf8)
    }

    /// Feeds `bytes`; the error, if any.
    func feed(_ session: inout WebSocketClientSession, _ bytes: [UInt8]) -> WebSocketClientError? {
        do {
            try bytes.withUnsafeBytes { try session.receive($0, now: 0) }
            return nil
        } catch let error as WebSocketClientError {
            return error
        } catch {
            return nil
        }
    }

    @Test func writesFieldsSubprotocolsAndTheDeflateOffer() throws {
        let session = try session {
            $0.headers = [("Authorization", "Bearer t"), ("Origin", "https://a.example")]
            $0.subprotocols = ["chat", "superchat"]
            $0.compression = WebSocketDeflateClientOffer(requestServerNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 0)
        }
        let request = String(decoding: session.request(), as: UTF8.self)
        #expect(request.hasPrefix("GET /chat HTTP/1.1\r\nHost: example.com:8080\r\n"))
        #expect(request.contains("Sec-WebSocket-Protocol: chat, superchat\r\n"))
        #expect(request.contains("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits\r\n"))
        #expect(request.contains("Authorization: Bearer t\r\n"))
        #expect(request.contains("Origin: https://a.example\r\n"))
        #expect(request.hasSuffix("\r\n\r\n"))
    }

    @Test(arguments: [("Host", "x"), ("Sec-WebSocket-Key", "x"), ("X-Bad", "a\r\nInjected: 1"), ("Bad Name", "x"), ("", "x")])
    func refusesFieldsItMustNotSend(name: String, value: String) {
        #expect(throws: WebSocketClientError.invalidHeader(name)) { try session { $0.headers = [(name, value)] } }
    }

    @Test func opensFromAResponseSplitByteByByteWithFramesInTheSameRead() throws {
        var session = try session { $0.subprotocols = ["chat"] }
        // The head, then a text frame "hi" and a binary frame [1, 2] right behind it.
        let bytes = accept(session, extra: "Sec-WebSocket-Protocol: chat\r\n") + [0x81, 0x02, 0x68, 0x69, 0x82, 0x02, 0x01, 0x02]
        for byte in bytes {
            try [byte].withUnsafeBytes { try session.receive($0, now: 0) }
        }
        #expect(session.isOpen)
        #expect(session.accepted?.subprotocol == "chat")
        #expect(session.nextMessage() == .text("hi"))
        #expect(session.nextMessage() == .binary([1, 2]))
        #expect(session.nextMessage() == nil)
    }

    @Test func refusesABadAcceptAndAStatusOtherThan101() throws {
        var bad = try session()
        let wrong = Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".utf8)
        #expect(throws: WebSocketClientError.handshake(.invalidAccept)) { try wrong.withUnsafeBytes { try bad.receive($0, now: 0) } }
        // The error sticks.
        #expect(throws: WebSocketClientError.handshake(.invalidAccept)) { try [0x81].withUnsafeBytes { try bad.receive($0, now: 0) } }
        var notFound = try session()
        let status = Array("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".utf8)
        #expect(throws: WebSocketClientError.handshake(.statusNotSwitchingProtocols(404))) { try status.withUnsafeBytes { try notFound.receive($0, now: 0) } }
    }

    @Test(arguments: [
        ([0x81, 0x82, 1, 2, 3, 4, 0x69, 0x6B] as [UInt8], WebSocketError.Rule.maskedServerFrame),
        ([0x81, 0x02, 0xC3, 0x28], .invalidUTF8),
        ([0x83, 0x01, 0x78], .reservedOpcode),
        ([0xC1, 0x01, 0x78], .reservedBitsSet),
        ([0x09, 0x00], .fragmentedControlFrame),
    ])
    func reportsFramingErrorsAsTypedErrorsAndQueuesTheClose(frames: [UInt8], rule: WebSocketError.Rule) throws {
        var session = try session()
        let bytes = accept(session) + frames
        let error = feed(&session, bytes)
        guard case .protocolViolation(let found)? = error else {
            Issue.record("expected \(rule), got \(String(describing: error))")
            return
        }
        #expect(found.rule == rule)
        var output: [UInt8] = []
        session.writeOutput(into: &output)
        #expect(output.first == 0x88)   // a Close reporting it
        #expect(session.isFinished)
    }

    @Test func negotiatesDeflateAndRefusesABomb() throws {
        var session = try session {
            $0.compression = WebSocketDeflateClientOffer()
            $0.maxMessageSize = 1 << 20
        }
        try accept(session, extra: "Sec-WebSocket-Extensions: permessage-deflate\r\n").withUnsafeBytes { try session.receive($0, now: 0) }
        #expect(session.negotiatedCompression)
        // 8 MiB of zeros compressed: far past the 1 MiB message limit once inflated.
        let compressor = WebSocketDeflateCompressor(windowBits: 15, noContextTakeover: true)
        let payload = compressor.compress([UInt8](repeating: 0, count: 8 << 20))
        #expect(payload.count < 65536)
        var frame: [UInt8] = [0xC2, 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        frame += payload
        let error = feed(&session, frame)
        guard case .protocolViolation(let found)? = error else {
            Issue.record("expected messageTooLarge, got \(String(describing: error))")
            return
        }
        #expect(found.rule == .messageTooLarge)
    }

    @Test func refusesAnExtensionItDidNotOfferAndABadDeflateAnswer() throws {
        var plain = try session()
        #expect(throws: WebSocketClientError.handshake(.unexpectedExtension)) {
            try accept(plain, extra: "Sec-WebSocket-Extensions: permessage-deflate\r\n").withUnsafeBytes { try plain.receive($0, now: 0) }
        }
        var offered = try session { $0.compression = WebSocketDeflateClientOffer(clientMaxWindowBits: nil) }
        #expect(throws: WebSocketClientError.extensionNegotiation(.responseBreaksOffer("client_max_window_bits"))) {
            try accept(offered, extra: "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10\r\n").withUnsafeBytes { try offered.receive($0, now: 0) }
        }
    }

    @Test func sendsMaskedFramesAndRefusesSendingAfterClose() throws {
        var session = try session()
        try accept(session).withUnsafeBytes { try session.receive($0, now: 0) }
        try session.send(.text("hello"))
        var output: [UInt8] = []
        session.writeOutput(into: &output)
        #expect(output.count == 2 + 4 + 5)
        #expect(output[0] == 0x81 && output[1] == 0x85)
        let key = Array(output[2..<6])
        #expect(output[6...].enumerated().map { $0.element ^ key[$0.offset % 4] } == Array("hello".utf8))
        try session.sendClose(code: .normalClosure, reason: "", now: 0)
        #expect(throws: WebSocketClientError.closed) { try session.send(.binary([1])) }
        #expect(throws: WebSocketClientError.usage(.controlPayloadTooLong)) {
            var other = try self.session()
            try accept(other).withUnsafeBytes { try other.receive($0, now: 0) }
            try other.sendPing([UInt8](repeating: 0, count: 126))
        }
    }

    @Test func backoffBoundsGrowToTheCapAndDelaysStayInside() {
        let backoff = WebSocketClientBackoff(base: .milliseconds(100), cap: .seconds(1))
        #expect(backoff.bound(forAttempt: 0) == .milliseconds(100))
        #expect(backoff.bound(forAttempt: 1) == .milliseconds(200))
        #expect(backoff.bound(forAttempt: 3) == .milliseconds(800))
        #expect(backoff.bound(forAttempt: 4) == .seconds(1))
        #expect(backoff.bound(forAttempt: 1000) == .seconds(1))
        var generator = SystemRandomNumberGenerator()
        var delays: [Duration] = []
        for _ in 0..<200 { delays.append(backoff.delay(forAttempt: 2, using: &generator)) }
        #expect(delays.allSatisfy { $0 >= .zero && $0 <= .milliseconds(400) })
        // Full jitter spreads them: not all in the upper or lower half.
        #expect(delays.contains { $0 < .milliseconds(200) } && delays.contains { $0 > .milliseconds(200) })
    }
}
