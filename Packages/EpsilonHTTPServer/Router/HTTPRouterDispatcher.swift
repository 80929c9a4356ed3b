/// The dispatcher an ``HTTPServer`` runs: looks the request up in the router's table and runs
/// the route's target; answers `404`, `405` with `Allow`, and `OPTIONS *` itself.
final class HTTPRouterDispatcher: HTTPServerDispatcher {
    let table: HTTPRouteTable<HTTPRouteTarget>
    private let notFound = HTTPFixedResponse(status: 404, contentType: "text/plain", body: "not found\n")
    private let optionsAsterisk: HTTPFixedResponse
    /// Some route takes CONNECT (WebSocket routes do): the HTTP/2 session announces
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441).
    let servesExtendedConnect: Bool

    init(router: HTTPRouter) {
        table = router.table
        servesExtendedConnect = router.table.hasConnectRoutes
        optionsAsterisk = HTTPFixedResponse(status: 204, fields: [("Allow", "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS")])
    }

    func requestHead(_ head: HTTPRequestHeadView, exchange: HTTPExchangeID, sink: any HTTPResponseSink) -> (any HTTPServerExchange)? {
        switch table.lookup(method: head.method, path: head.path) {
        case .matched(let target, let parameters, _):
            return target.run(head, parameters, sink, exchange)
        case .methodNotAllowed(let allow):
            if head.isMethod("OPTIONS") {
                HTTPInlineResponder(sink: sink, exchange: exchange).respond(status: 204, fields: [("Allow", allow)], body: [])
            } else {
                HTTPInlineResponder(sink: sink, exchange: exchange)
                    .respond(status: 405, fields: [("Allow", allow), ("Content-Type", "text/plain")], text: "method not allowed\n")
            }
        case .notFound:
            if head.path.count == 1, head.path[0] == UInt8(ascii: "*"), head.isMethod("OPTIONS") {
                HTTPInlineResponder(sink: sink, exchange: exchange).respond(optionsAsterisk)
            } else {
                HTTPInlineResponder(sink: sink, exchange: exchange).respond(notFound)
            }
        }
        return nil
    }
}
