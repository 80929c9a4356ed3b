import HTTPTypes
import EpsilonHTTPTypes

/// What a route runs: one closure made when the route was added (middleware and handler
/// already composed, generically), called once per request on the loop thread.
struct HTTPRouteTarget: Sendable {
    let run: @Sendable (HTTPRequestHeadView, HTTPRouteParameters, any HTTPResponseSink, HTTPExchangeID) -> (any HTTPServerExchange)?

    /// A prepared response (no middleware): sent without allocating.
    static func fixed(_ response: HTTPFixedResponse) -> HTTPRouteTarget {
        HTTPRouteTarget { _, _, sink, id in
            HTTPInlineResponder(sink: sink, exchange: id).respond(response)
            return nil
        }
    }

    /// An inline handler behind middleware `M`.
    static func inline<M: HTTPMiddleware>(_ middleware: M,
                                          _ handler: @escaping @Sendable (HTTPInlineRequest, HTTPInlineResponder) -> Void) -> HTTPRouteTarget {
        if M.self == HTTPNoMiddleware.self {
            return HTTPRouteTarget { head, parameters, sink, id in
                handler(HTTPInlineRequest(head: head, parameters: parameters), HTTPInlineResponder(sink: sink, exchange: id))
                return nil
            }
        }
        return HTTPRouteTarget { head, parameters, sink, id in
            let chain = HTTPMiddlewareSink(base: sink, middleware: middleware)
            let responder = HTTPInlineResponder(sink: chain, exchange: id)
            if let response = chain.receive(head) {
                responder.respond(response)
            } else {
                handler(HTTPInlineRequest(head: head, parameters: parameters), responder)
            }
            return nil
        }
    }

    /// An async handler behind middleware `M`.
    static func async<M: HTTPMiddleware>(_ middleware: M,
                                         _ handler: @escaping @Sendable (HTTPServerRequest, HTTPServerResponseWriter) async throws -> Void) -> HTTPRouteTarget {
        HTTPRouteTarget { head, parameters, sink, id in
            var target: any HTTPResponseSink = sink
            var context = HTTPMiddlewareContext()
            if M.self != HTTPNoMiddleware.self {
                let chain = HTTPMiddlewareSink(base: sink, middleware: middleware)
                if let response = chain.receive(head) {
                    HTTPInlineResponder(sink: chain, exchange: id).respond(response)
                    return nil
                }
                context = chain.middlewareContext
                target = chain
            }
            guard let request = owned(head, parameters: parameters) else {
                HTTPInlineResponder(sink: target, exchange: id).respond(status: 400, body: [])
                return nil
            }
            let exchange = HTTPAsyncExchange(sink: target, id: id)
            let owned = HTTPServerRequest(head: request.head, parameters: request.parameters,
                                          body: HTTPRequestBody(exchange: exchange), context: context)
            exchange.start(timeout: context.timeout) { writer in
                try await handler(owned, writer)
            }
            return exchange
        }
    }

    /// The head and parameters as owned values; nil when swift-http-types refuses a part.
    private static func owned(_ head: HTTPRequestHeadView, parameters: HTTPRouteParameters) -> (head: HTTPRequest, parameters: [String: String])? {
        guard let method = HTTPRequest.Method(head.string(head.method)),
              let fields = try? HTTPFields(fieldLines: head.fields) else { return nil }
        var path = head.string(head.path)
        if let query = head.query { path += "?" + head.string(query) }
        let request = HTTPRequest(method: method, scheme: head.string(head.scheme),
                                  authority: head.authority.isEmpty ? nil : head.string(head.authority),
                                  path: path, headerFields: fields)
        var values: [String: String] = [:]
        for index in 0..<parameters.count {
            let name = parameters.name(at: index)
            if let value = parameters.string(of: name, in: head.path) { values[name] = value }
        }
        if parameters.catchAll != nil, let rest = parameters.string(of: "**", in: head.path) { values["**"] = rest }
        return (request, values)
    }
}
