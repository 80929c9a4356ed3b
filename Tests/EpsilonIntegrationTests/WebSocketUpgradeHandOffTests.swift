import EpsilonHTTP1
import EpsilonWebSocket
import Testing

/// Answers a WebSocket opening handshake from the head an `HTTP1Connection` hands over, with a
/// 101 sent through that connection.
private struct UpgradeAnswerer: HTTP1ConnectionHandler {
    var accepted: WebSocketServerHandshake.Request?
    var refusal: WebSocketHandshakeError?

    mutating func handle(_ event: HTTP1Event, bytes: UnsafeRawBufferPointer, connection: inout HTTP1Connection) throws(HTTP1ParseError) {
        guard case .head(let head) = event else { return }
        do throws(WebSocketHandshakeError) {
            let request = try WebSocketServerHandshake.validateRequest(
                method: bytes[head.method], target: bytes[head.target],
                version: (Int(head.version.major), Int(head.version.minor)),
                fields: connection.fields.lazy.map { (bytes[$0.name], bytes[$0.value]) })
            let fields = WebSocketServerHandshake.responseFields(for: request).map { (name: $0.name, value: $0.value) }
            try? connection.sendResponseHead(status: 101, reason: "Switching Protocols", fields: fields, body: .empty)
            accepted = request
        } catch {
            refusal = error
            try? connection.sendResponseHead(status: error.responseStatus ?? 400, reason: "Refused",
                                             fields: error.responseFields.map { (name: $0.name, value: $0.value) }, body: .empty, close: true)
        }
    }
}

/// Echoes every message from inside `handle`, through the connection it is handed.
private struct InlineEcho: WebSocketEventHandler {
    var kind: WebSocketMessageKind = .binary
    var message: [UInt8] = []
    var echoed: [String] = []

    mutating func handle(_ event: WebSocketEvent, connection: inout WebSocketConnection) throws(WebSocketError) {
        switch event {
        case .messageBegan(let kind, _): self.kind = kind; message.removeAll()
        case .messageData(let view): message.append(contentsOf: view.bytes)
        case .messageEnded:
            echoed.append(String(decoding: message, as: UTF8.self))
            try? connection.send(kind, bytes: message)
        default: break
        }
    }
}

/// RFC 6455 §4.2.2: after the 101 the same bytes carry frames; the HTTP/1.1 connection stops at
/// the end of the head and leaves them to the WebSocket machine.
@Suite struct WebSocketUpgradeHandOff {
    @Test func framesSentWithTheRequestReachTheWebSocketMachine() throws {
        let handshake = WebSocketClientHandshake(host: "localhost", target: "/echo")
        var client = WebSocketConnection(role: .client)
        try client.send(.text, bytes: Array("hi there".utf8))
        var frames: [UInt8] = []
        client.writeOutput(into: &frames)
        let request = handshake.request()
        let input = request + frames

        var http = HTTP1Connection(role: .server)
        var answerer = UpgradeAnswerer()
        let consumed = try input.withUnsafeBytes { try http.receive($0, handler: &answerer) }
        #expect(answerer.refusal == nil)
        #expect(answerer.accepted?.target == "/echo")
        #expect(http.isUpgraded)
        #expect(consumed == request.count, "the connection stops at the end of the head")
        var head: [UInt8] = []
        http.writeOutput(into: &head)
        let headText = String(decoding: head, as: UTF8.self)
        #expect(headText.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
        #expect(headText.contains("Sec-WebSocket-Accept: \(WebSocketHandshake.acceptValue(forKey: handshake.key))\r\n"))

        var server = WebSocketConnection(role: .server)
        var echo = InlineEcho()
        let leftover = Array(input[consumed...])
        let used = try leftover.withUnsafeBytes { try server.receive($0, now: 0, handler: &echo) }
        #expect(used == leftover.count)
        #expect(echo.echoed == ["hi there"])
        var reply: [UInt8] = []
        server.writeOutput(into: &reply)
        #expect(reply == [0x81, 8] + Array("hi there".utf8), "an unmasked text frame from the server")
    }

    @Test func aRefusedUpgradeIsAnsweredAndTheConnectionDoesNotSwitch() throws {
        let request = Array("GET /echo HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n".utf8)
        var http = HTTP1Connection(role: .server)
        var answerer = UpgradeAnswerer()
        _ = try request.withUnsafeBytes { try http.receive($0, handler: &answerer) }
        #expect(answerer.refusal == .unsupportedVersion)
        #expect(!http.isUpgraded)
        var out: [UInt8] = []
        http.writeOutput(into: &out)
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 426 Refused\r\n"))
        #expect(text.contains("Sec-WebSocket-Version: 13\r\n"))
    }
}
