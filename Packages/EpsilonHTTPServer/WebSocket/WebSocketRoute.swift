import EpsilonWebSocket
import EpsilonWebSocketDeflate

/// What a WebSocket route serves: its options, its handshake hook and its handler tier.
struct WebSocketRoute: Sendable {
    enum Handler: Sendable {
        case inline(@Sendable (WebSocketUpgradeRequest) -> any WebSocketInlineHandler)
        case async(WebSocketAsyncDelegate.Handler)
    }

    let options: WebSocketRouteOptions
    let accept: WebSocketUpgradeHook?
    let handler: Handler

    /// The route's target behind middleware `M`: the middleware's request hooks may refuse
    /// the handshake (its response hooks do not see the `101`).
    func target<M: HTTPMiddleware>(_ middleware: M) -> HTTPRouteTarget {
        HTTPRouteTarget { head, parameters, sink, id in
            if M.self != HTTPNoMiddleware.self {
                let chain = HTTPMiddlewareSink(base: sink, middleware: middleware)
                if let response = chain.receive(head) {
                    HTTPInlineResponder(sink: chain, exchange: id).respond(response)
                    return nil
                }
            }
            upgrade(head, parameters: parameters, sink: sink, exchange: id)
            return nil
        }
    }

    /// Checks the opening handshake (RFC 6455 §4.2.1), asks the route, answers `101` and hands
    /// the connection to a WebSocket driver, or refuses.
    func upgrade(_ head: HTTPRequestHeadView, parameters: HTTPRouteParameters, sink: any HTTPResponseSink, exchange id: HTTPExchangeID) {
        let responder = HTTPInlineResponder(sink: sink, exchange: id)
        guard let upgrader = sink as? any HTTPWebSocketUpgrading else {
            // HTTP/2 (RFC 8441 extended CONNECT is not served yet).
            responder.respond(status: 400, fields: [("Content-Type", "text/plain")], text: "WebSocket needs HTTP/1.1 on this server\n")
            return
        }
        var fields: [(UnsafeRawBufferPointer, UnsafeRawBufferPointer)] = []
        head.fields.forEachFieldLine { (name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) in fields.append((name, value)) }
        var target = Array(head.path)
        if let query = head.query {
            target.append(UInt8(ascii: "?"))
            target.append(contentsOf: query)
        }
        let handshake: WebSocketServerHandshake.Request
        do throws(WebSocketHandshakeError) {
            handshake = try WebSocketServerHandshake.validateRequest(
                method: head.method, target: target, version: head.version == .http1_0 ? (1, 0) : (1, 1), fields: fields)
        } catch {
            let status = error.responseStatus ?? 400
            var extra = error.responseFields.map { (name: $0.name, value: $0.value) }
            extra.append(("Content-Type", "text/plain"))
            responder.respond(status: status, fields: extra, text: "WebSocket handshake refused: \(error)\n")
            return
        }
        guard head.contentLength == 0 else {
            responder.respond(status: 400, fields: [("Content-Type", "text/plain")], text: "a WebSocket handshake has no body\n")
            return
        }
        var request = WebSocketUpgradeRequest(
            path: head.string(head.path), query: head.query.map(head.string), host: handshake.host, origin: handshake.origin,
            subprotocols: handshake.subprotocols,
            fields: fields.map { (name: String(decoding: $0.0, as: UTF8.self), value: String(decoding: $0.1, as: UTF8.self)) },
            parameters: Self.owned(parameters, path: head.path))
        if let allowed = options.allowedOrigins, !(handshake.origin.map(allowed.contains) ?? false) {
            responder.respond(status: 403, fields: [("Content-Type", "text/plain")], text: "origin not allowed\n")
            return
        }
        var subprotocol: String?
        var extra: [(name: String, value: String)] = []
        switch accept?(request) ?? .accept {
        case .refuse(let status, let reason):
            responder.respond(status: (400...599).contains(status) ? status : 403, fields: [("Content-Type", "text/plain")], text: reason + "\n")
            return
        case .accept(let chosen, let fields):
            // Only a subprotocol the client offered may be named (RFC 6455 §4.2.2).
            subprotocol = chosen.flatMap { handshake.subprotocols.contains($0) ? $0 : nil }
            extra = fields
        }
        let negotiated = options.compression?.accept(offers: handshake.extensions)
        request.subprotocol = subprotocol
        request.isCompressed = negotiated != nil
        var response = WebSocketServerHandshake.responseFields(
            for: handshake, subprotocol: subprotocol, extensions: negotiated.map { [$0.response] } ?? []
        ).map { (name: $0.name, value: $0.value) }
        response += extra
        let loopKey = ObjectIdentifier(sink.context)
        let options = self.options
        let accepted = request
        let handler = self.handler
        let switched = upgrader.switchToWebSocket(id, fields: response) { io in
            let delegate: any WebSocketDriverDelegate = switch handler {
            case .inline(let make): WebSocketInlineDelegate(make(accepted))
            case .async(let run): WebSocketAsyncDelegate(run)
            }
            return WebSocketServerDriver(io: io, loopKey: loopKey, options: options, request: accepted,
                                         parameters: negotiated?.parameters, delegate: delegate)
        }
        if !switched {
            responder.respond(status: 500, fields: [("Content-Type", "text/plain")], text: "cannot switch protocols\n")
        }
    }

    /// The route's parameters as owned strings.
    static func owned(_ parameters: HTTPRouteParameters, path: UnsafeRawBufferPointer) -> [String: String] {
        var values: [String: String] = [:]
        for index in 0..<parameters.count {
            let name = parameters.name(at: index)
            if let value = parameters.string(of: name, in: path) { values[name] = value }
        }
        if parameters.catchAll != nil, let rest = parameters.string(of: "**", in: path) { values["**"] = rest }
        return values
    }
}

/// A session that can answer a request with `101` and hand its connection to a WebSocket
/// driver (the HTTP/1.1 session). Loop thread only.
protocol HTTPWebSocketUpgrading: AnyObject {
    /// Answers request `id` with `101 Switching Protocols` and `fields`; once the machine has
    /// written it, the connection goes to the session `makeSession` returns (with the bytes
    /// that followed the request). False when the request cannot switch (nothing was sent).
    func switchToWebSocket(_ id: HTTPExchangeID, fields: [(name: String, value: String)],
                           session makeSession: @escaping (any HTTPServerIO) -> any HTTPServerSession) -> Bool
}
