import EpsilonHTTP1
import EpsilonWebSocket
import Testing

/// Validates the head an `HTTP1Connection` (server role) hands its handler, as it is: byte
/// slices of the buffer the connection read, no String conversion.
private struct HandshakeCapture: HTTP1ConnectionHandler {
    var result: Result<WebSocketServerHandshake.Request, WebSocketHandshakeError>?

    mutating func handle(_ event: HTTP1Event, bytes: UnsafeRawBufferPointer, connection: inout HTTP1Connection) throws(HTTP1ParseError) {
        guard case .head(let head) = event, result == nil else { return }
        let fields = connection.fields
        result = Result { () throws(WebSocketHandshakeError) in
            try WebSocketServerHandshake.validateRequest(
                method: bytes[head.method], target: bytes[head.target],
                version: (Int(head.version.major), Int(head.version.minor)),
                fields: fields.lazy.map { (bytes[$0.name], bytes[$0.value]) })
        }
    }
}

/// What the HTTP/1.1 connection made of a request, checked by the WebSocket handshake.
private func validate(_ text: String) throws -> Result<WebSocketServerHandshake.Request, WebSocketHandshakeError> {
    var connection = HTTP1Connection(role: .server)
    var capture = HandshakeCapture()
    _ = try Array(text.utf8).withUnsafeBytes { try connection.receive($0, handler: &capture) }
    guard let result = capture.result else {
        Issue.record("the connection reported no head")
        return .failure(.malformedHeader)
    }
    return result
}

/// The WebSocket opening handshake checked from heads the HTTP/1.1 machine parsed (RFC 6455 §4.2).
@Suite struct WebSocketHandshakeFromHTTP1 {
    static let key = "dGhlIHNhbXBsZSBub25jZQ=="

    @Test func acceptsTheRFCRequestAndAnswersWith101() throws {
        let request = try validate("""
            GET /chat HTTP/1.1\r
            Host: server.example.com\r
            Upgrade: websocket\r
            Connection: Upgrade\r
            Sec-WebSocket-Key: \(Self.key)\r
            Origin: http://example.com\r
            Sec-WebSocket-Protocol: chat, superchat\r
            Sec-WebSocket-Version: 13\r
            Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r
            \r

            """).get()
        #expect(request.target == "/chat")
        #expect(request.host == "server.example.com")
        #expect(request.origin == "http://example.com")
        #expect(request.subprotocols == ["chat", "superchat"])
        #expect(request.extensions == [WebSocketExtensionOffer(name: "permessage-deflate", parameters: [WebSocketExtensionParameter("client_max_window_bits")])])
        let response = String(decoding: WebSocketServerHandshake.response(for: request, subprotocol: "chat"), as: UTF8.self)
        #expect(response.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
        #expect(response.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"))
        #expect(response.contains("Sec-WebSocket-Protocol: chat\r\n"))
    }

    @Test func acceptsWhatOurOwnClientSends() throws {
        let client = WebSocketClientHandshake(host: "localhost:8080", target: "/ws?room=1", key: Self.key, subprotocols: ["v1"])
        let request = try validate(String(decoding: client.request(), as: UTF8.self)).get()
        #expect(request.target == "/ws?room=1")
        #expect(request.subprotocols == ["v1"])
    }

    static let base = [
        "Host: a", "Upgrade: websocket", "Connection: keep-alive, Upgrade",
        "Sec-WebSocket-Key: \(key)", "Sec-WebSocket-Version: 13",
    ]

    /// Each refusal: the request line, the field lines, the error, and the response to send.
    static let refusals: [(String, [String], WebSocketHandshakeError, String)] = [
        ("POST / HTTP/1.1", base + ["Content-Length: 0"], .methodNotGet, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
        ("GET / HTTP/1.0", base, .httpVersionTooOld, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
        ("GET / HTTP/1.1", base.filter { !$0.hasPrefix("Upgrade") }, .missingUpgrade, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
        ("GET / HTTP/1.1", base.filter { !$0.hasPrefix("Connection") } + ["Connection: keep-alive"], .missingConnectionUpgrade, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
        ("GET / HTTP/1.1", base.filter { !$0.hasPrefix("Sec-WebSocket-Key") } + ["Sec-WebSocket-Key: c2hvcnQ="], .invalidKey, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
        ("GET / HTTP/1.1", base + ["Sec-WebSocket-Extensions: x; =1"], .malformedExtensions, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
        ("GET / HTTP/1.1", base.filter { !$0.hasPrefix("Sec-WebSocket-Version") } + ["Sec-WebSocket-Version: 8"], .unsupportedVersion,
         "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n"),
        ("GET / HTTP/1.1", base.filter { !$0.hasPrefix("Sec-WebSocket-Version") }, .unsupportedVersion,
         "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n"),
    ]

    @Test func theHTTP1MachineRefusesAMissingOrRepeatedHostBeforeTheHandshakeSeesIt() {
        // RFC 9112 §3.2: a request without Host, or with two, never reaches the handshake
        // (the handshake's own missingHost refusal covers heads from other parsers).
        for fields in [Self.base.filter { !$0.hasPrefix("Host") }, Self.base + ["Host: b"]] {
            #expect(throws: HTTP1ParseError.self) { try validate((["GET / HTTP/1.1"] + fields).joined(separator: "\r\n") + "\r\n\r\n") }
        }
    }

    @Test(arguments: refusals)
    func refusesWithTheResponseToSend(_ requestLine: String, _ fields: [String], _ error: WebSocketHandshakeError, _ response: String) throws {
        let text = ([requestLine] + fields).joined(separator: "\r\n") + "\r\n\r\n"
        let result = try validate(text)
        #expect(throws: error) { try result.get() }
        #expect(error.response().map { String(decoding: $0, as: UTF8.self) } == response)
    }
}
