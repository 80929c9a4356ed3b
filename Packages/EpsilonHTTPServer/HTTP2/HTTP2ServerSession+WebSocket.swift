import EpsilonHTTP2

// WebSocket over HTTP/2 (RFC 8441): an extended CONNECT the route accepts becomes a stream
// whose DATA carries WebSocket frames, served by the same driver as an HTTP/1.1 upgrade over
// an `HTTP2WebSocketStreamIO`. The stream keeps the session's stream limits and flow control.

extension HTTP2ServerSession: HTTP2WebSocketAccepting {
    func acceptWebSocket(_ exchange: HTTPExchangeID, fields: [(name: String, value: String)],
                         session makeSession: @escaping (any HTTPServerIO) -> any HTTPServerSession) -> (any HTTPServerExchange)? {
        let id = UInt32(truncatingIfNeeded: exchange.rawValue)
        guard let stream = streams[id], !stream.headSent, !stream.requestEnded, !stream.endRequested else { return nil }
        streams[id]?.isTunnel = true
        // RFC 8441 §5: 200, the body streamed (END_STREAM ends the WebSocket).
        sendHead(exchange, status: 200, fields: fields, bodyLength: nil)
        guard streams[id]?.headSent == true else {
            streams[id]?.isTunnel = false
            return nil
        }
        let io = HTTP2WebSocketStreamIO(session: self, id: id)
        tunnels[id] = io
        io.start(makeSession(io))
        return io
    }

    /// The driver gave up on stream `id`: RST_STREAM CANCEL (RFC 8441 §5: an abrupt close),
    /// its unread credit returned.
    func resetTunnel(_ id: UInt32) {
        guard let stream = streams.removeValue(forKey: id) else { return }
        withMachine { machine in try? machine.resetStream(streamID: id, code: .cancel) }
        if stream.unconsumed > 0 { withMachine { $0.consume(streamID: id, count: stream.unconsumed) } }
        noteStreamEnded()
        flushAfterSend()
    }

    /// The earliest timer of the WebSocket streams.
    var earliestTunnelDeadline: UInt64? {
        var earliest: UInt64?
        for tunnel in tunnels.values {
            if let deadline = tunnel.deadline { earliest = min(earliest ?? deadline, deadline) }
        }
        return earliest
    }

    /// Runs the WebSocket streams' timers that are due.
    func fireTunnelTimers(now: UInt64) {
        let due = tunnels.filter { $0.value.deadline.map { $0 <= now } ?? false }
        for id in due.keys.sorted() { due[id]?.fire(now: now) }
    }

    /// Server shutdown: every WebSocket stream closes with 1001 (the GOAWAY went first).
    func drainTunnels() {
        for id in tunnels.keys.sorted() { tunnels[id]?.drain() }
    }

    /// A CONNECT this server does not serve (RFC 8441 §4, RFC 9110 §9.3.6): a plain one (not
    /// a proxy) or one with a `:protocol` other than `websocket`; nil for an extended CONNECT
    /// to route, or another method.
    static func unservedConnect(_ list: HTTP2HeaderList, _ summary: HTTP2RequestHead.Summary) -> String? {
        guard summary.method >= 0, list.withField(at: summary.method, { $1.elementsEqual("CONNECT".utf8) }) else { return nil }
        guard summary.connectProtocol >= 0 else { return "this server is not a proxy: CONNECT is not served\n" }
        let isWebSocket = list.withField(at: summary.connectProtocol) { $1.elementsEqual("websocket".utf8) }
        return isWebSocket ? nil : "extended CONNECT serves only the websocket protocol\n"
    }
}

extension HTTPRouteTable {
    /// Whether some route takes CONNECT (WebSocket routes do, for RFC 8441).
    var hasConnectRoutes: Bool {
        nodes.contains { node in node.endpoints.contains { $0.method.elementsEqual("CONNECT".utf8) } }
    }
}
