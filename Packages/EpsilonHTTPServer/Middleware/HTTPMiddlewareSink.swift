/// One request's way through a middleware stack: a sink that runs the response hooks of `M`
/// (the whole stack, one generic type) and forwards to the session's sink. One object per
/// request on a route with middleware; loop thread only.
final class HTTPMiddlewareSink<M: HTTPMiddleware>: HTTPResponseSink {
    let base: any HTTPResponseSink
    let middleware: M
    var state: M.State
    var middlewareContext = HTTPMiddlewareContext()

    init(base: any HTTPResponseSink, middleware: M) {
        self.base = base
        self.middleware = middleware
        state = middleware.makeState()
    }

    /// Runs the request hooks; a response when a middleware answered instead of the handler.
    func receive(_ request: HTTPRequestHeadView) -> HTTPFixedResponse? {
        middleware.receive(request, state: &state, context: &middlewareContext)
    }

    func sendHead(_ exchange: HTTPExchangeID, status: Int, fields: [(name: String, value: String)], bodyLength: UInt64?) {
        guard status >= 200 else {
            base.sendHead(exchange, status: status, fields: fields, bodyLength: bodyLength)
            return
        }
        var head = HTTPResponseHeadParts(status: status, fields: fields, bodyLength: bodyLength)
        middleware.responseHead(&head, state: &state)
        base.sendHead(exchange, status: head.status, fields: head.fields, bodyLength: head.bodyLength)
    }

    func sendBody(_ exchange: HTTPExchangeID, _ bytes: UnsafeRawBufferPointer) {
        let base = self.base
        middleware.responseBody(bytes, state: &state) { piece in
            if !piece.isEmpty { base.sendBody(exchange, piece) }
        }
    }

    func writableBytes(_ exchange: HTTPExchangeID) -> Int { base.writableBytes(exchange) }

    func sendEnd(_ exchange: HTTPExchangeID, trailers: [(name: String, value: String)]) {
        let base = self.base
        middleware.responseEnd(state: &state) { piece in
            if !piece.isEmpty { base.sendBody(exchange, piece) }
        }
        base.sendEnd(exchange, trailers: trailers)
    }

    func reset(_ exchange: HTTPExchangeID) { base.reset(exchange) }

    func bodyConsumed(_ exchange: HTTPExchangeID, count: Int) { base.bodyConsumed(exchange, count: count) }

    var executor: HTTPServerLoopExecutor { base.executor }

    var context: HTTPServerLoopContext { base.context }
}
