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
    /// the handshake (its response hooks do not see the `101`, nor an HTTP/2 `200`).
    func target<M: HTTPMiddleware>(_ middleware: M) -> HTTPRouteTarget {
        HTTPRouteTarget { head, parameters, sink, id in
            if M.self != HTTPNoMiddleware.self {
                let chain = HTTPMiddlewareSink(base: sink, middleware: middleware)
                if let response = chain.receive(head) {
                    HTTPInlineResponder(sink: chain, exchange: id).respond(response)
                    return nil
                }
            }
            return upgrade(head, parameters: parameters, sink: sink, exchange: id)
        }
    }

    /// What an accepted handshake agreed, for either protocol.
    struct Agreement {
        var request: WebSocketUpgradeRequest
        var negotiated: (response: WebSocketExtensionOffer, parameters: WebSocketDeflateParameters)?
        /// The response fields: RFC 6455's (Upgrade, Connection, Sec-WebSocket-Accept, the
        /// subprotocol and extension) and the hook's.
        var responseFields: [(name: String, value: String)]
    }

    /// Checks the opening handshake (RFC 6455 §4.2.1), asks the route and answers: over
    /// HTTP/1.1 `101` and the connection goes to a WebSocket driver; over HTTP/2 an extended
    /// CONNECT (RFC 8441) gets `200` and its stream goes to one (the returned exchange).
    /// Refusals are ordinary responses.
    func upgrade(_ head: HTTPRequestHeadView, parameters: HTTPRouteParameters, sink: any HTTPResponseSink,
                 exchange id: HTTPExchangeID) -> (any HTTPServerExchange)? {
        let responder = HTTPInlineResponder(sink: sink, exchange: id)
        if head.version == .http2 {
            return upgradeOverHTTP2(head, parameters: parameters, sink: sink, exchange: id)
        }
        guard let upgrader = sink as? any HTTPWebSocketUpgrading else {
            responder.respond(status: 400, fields: [("Content-Type", "text/plain")], text: "WebSocket needs HTTP/1.1 or HTTP/2 on this server\n")
            return nil
        }
        var fields: [(UnsafeRawBufferPointer, UnsafeRawBufferPointer)] = []
        head.fields.forEachFieldLine { (name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) in fields.append((name, value)) }
        let version = head.version == .http1_0 ? (1, 0) : (1, 1)
        guard let agreement = agree(head, method: head.method, version: version, fields: fields, parameters: parameters, responder: responder) else {
            return nil
        }
        let switched = upgrader.switchToWebSocket(id, fields: agreement.responseFields, session: makeDriver(agreement, sink: sink))
        if !switched {
            responder.respond(status: 500, fields: [("Content-Type", "text/plain")], text: "cannot switch protocols\n")
        }
        return nil
    }

    /// The rest of the handshake, the same for both protocols: RFC 6455's checks over
    /// `fields`, the origin check, the route's hook (refusal, subprotocol, fields) and the
    /// permessage-deflate negotiation. Nil when it answered a refusal through `responder`.
    /// The first `synthesized` fields are not the client's (HTTP/2: see
    /// WebSocketRoute+HTTP2.swift) and are left out of the request the hook sees.
    func agree(_ head: HTTPRequestHeadView, method: some Collection<UInt8>, version: (Int, Int),
               fields: [(UnsafeRawBufferPointer, UnsafeRawBufferPointer)], synthesized: Int = 0,
               parameters: HTTPRouteParameters, responder: HTTPInlineResponder) -> Agreement? {
        var target = Array(head.path)
        if let query = head.query {
            target.append(UInt8(ascii: "?"))
            target.append(contentsOf: query)
        }
        let handshake: WebSocketServerHandshake.Request
        do throws(WebSocketHandshakeError) {
            handshake = try WebSocketServerHandshake.validateRequest(method: method, target: target, version: version, fields: fields)
        } catch {
            let status = error.responseStatus ?? 400
            var extra = error.responseFields.map { (name: $0.name, value: $0.value) }
            extra.append(("Content-Type", "text/plain"))
            responder.respond(status: status, fields: extra, text: "WebSocket handshake refused: \(error)\n")
            return nil
        }
        // HTTP/1.1: no body; HTTP/2: no content-length (the stream's DATA is the WebSocket).
        guard head.version == .http2 ? head.contentLength == nil : head.contentLength == 0 else {
            responder.respond(status: 400, fields: [("Content-Type", "text/plain")], text: "a WebSocket handshake has no body\n")
            return nil
        }
        var request = WebSocketUpgradeRequest(
            path: head.string(head.path), query: head.query.map(head.string), host: handshake.host, origin: handshake.origin,
            subprotocols: handshake.subprotocols,
            fields: fields.dropFirst(synthesized).map { (name: String(decoding: $0.0, as: UTF8.self), value: String(decoding: $0.1, as: UTF8.self)) },
            parameters: Self.owned(parameters, path: head.path))
        if let allowed = options.allowedOrigins, !(handshake.origin.map(allowed.contains) ?? false) {
            responder.respond(status: 403, fields: [("Content-Type", "text/plain")], text: "origin not allowed\n")
            return nil
        }
        var subprotocol: String?
        var extra: [(name: String, value: String)] = []
        switch accept?(request) ?? .accept {
        case .refuse(let status, let reason):
            responder.respond(status: (400...599).contains(status) ? status : 403, fields: [("Content-Type", "text/plain")], text: reason + "\n")
            return nil
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
        return Agreement(request: request, negotiated: negotiated, responseFields: response)
    }

    /// Makes the driver of an accepted connection (or stream), on its loop.
    func makeDriver(_ agreement: Agreement, sink: any HTTPResponseSink) -> (any HTTPServerIO) -> any HTTPServerSession {
        let loopKey = ObjectIdentifier(sink.context)
        let options = self.options
        let accepted = agreement.request
        let handler = self.handler
        let parameters = agreement.negotiated?.parameters
        return { io in
            let delegate: any WebSocketDriverDelegate = switch handler {
            case .inline(let make): WebSocketInlineDelegate(make(accepted))
            case .async(let run): WebSocketAsyncDelegate(run)
            }
            return WebSocketServerDriver(io: io, loopKey: loopKey, options: options, request: accepted,
                                         parameters: parameters, delegate: delegate)
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
