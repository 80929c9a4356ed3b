@_spi(EpsilonInternal) import EpsilonBytes

extension WebSocketRoute {
    /// RFC 8441 §5: an extended CONNECT (`:protocol websocket`; the HTTP/2 session refused
    /// any other `:protocol` and a plain CONNECT) runs the same acceptance as the HTTP/1.1
    /// upgrade, and is answered `200` without `Sec-WebSocket-Accept` (no key, no
    /// Upgrade/Connection); the stream then carries the WebSocket. RFC 6455's checks run on
    /// the request with the fields HTTP/2 leaves out put back: `Host` from `:authority`, and
    /// the Upgrade, Connection and key that §5 replaces by `:protocol`.
    func upgradeOverHTTP2(_ head: HTTPRequestHeadView, parameters: HTTPRouteParameters, sink: any HTTPResponseSink,
                          exchange id: HTTPExchangeID) -> (any HTTPServerExchange)? {
        let responder = HTTPInlineResponder(sink: sink, exchange: id)
        guard head.isMethod("CONNECT"), let accepting = sink as? any HTTP2WebSocketAccepting else {
            responder.respond(status: 400, fields: [("Content-Type", "text/plain")],
                              text: "WebSocket over HTTP/2 uses extended CONNECT (RFC 8441)\n")
            return nil
        }
        var fields: [(UnsafeRawBufferPointer, UnsafeRawBufferPointer)] = Self.synthesizedFields
        fields.append((Self.bytes("host"), head.authority))
        let synthesized = fields.count
        head.fields.forEachFieldLine { (name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) in
            // The machine refused Upgrade and Connection; a key or Host here would be a second one.
            guard !ASCII.equalsIgnoringCase(name, "sec-websocket-key".utf8), !ASCII.equalsIgnoringCase(name, "host".utf8) else { return }
            fields.append((name, value))
        }
        guard let agreement = agree(head, method: "GET".utf8, version: (1, 1), fields: fields, synthesized: synthesized,
                                    parameters: parameters, responder: responder) else {
            return nil
        }
        let response = agreement.responseFields.filter { field in
            let name = field.name.lowercased()
            return name != "upgrade" && name != "connection" && name != "sec-websocket-accept"
        }
        guard let exchange = accepting.acceptWebSocket(id, fields: response, session: makeDriver(agreement, sink: sink)) else {
            responder.respond(status: 400, fields: [("Content-Type", "text/plain")], text: "the CONNECT stream is already closed\n")
            return nil
        }
        return exchange
    }

    /// What RFC 8441 §5 replaces by `:protocol`, for RFC 6455's checks (a fixed, valid key:
    /// HTTP/2 has no Sec-WebSocket-Accept to derive from it).
    private static var synthesizedFields: [(UnsafeRawBufferPointer, UnsafeRawBufferPointer)] {
        [
            (bytes("upgrade"), bytes("websocket")),
            (bytes("connection"), bytes("Upgrade")),
            (bytes("sec-websocket-key"), bytes("AAAAAAAAAAAAAAAAAAAAAA==")),
        ]
    }

    /// A static string's bytes (static storage: valid for the program's life).
    private static func bytes(_ text: StaticString) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
    }
}

/// A session that can answer an extended CONNECT with `200` and hand the stream to a
/// WebSocket driver (the HTTP/2 session). Loop thread only.
protocol HTTP2WebSocketAccepting: AnyObject {
    /// Answers stream `id` with `200` and `fields`; the stream's bytes then go to the session
    /// `makeSession` returns, through a per-stream ``HTTPServerIO``. Returns the exchange the
    /// rest of the request (the peer's frames) goes to; nil when the stream cannot carry it
    /// (it ended, or a response went out; nothing was sent).
    func acceptWebSocket(_ id: HTTPExchangeID, fields: [(name: String, value: String)],
                         session makeSession: @escaping (any HTTPServerIO) -> any HTTPServerSession) -> (any HTTPServerExchange)?
}
