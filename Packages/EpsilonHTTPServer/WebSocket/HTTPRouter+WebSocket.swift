extension HTTPRouter {
    /// Adds a WebSocket endpoint served by an inline handler (loop-thread callbacks, no
    /// task hop): `GET path` with `Upgrade: websocket` switches protocols, and over HTTP/2 an
    /// extended CONNECT with `:protocol websocket` (RFC 8441; the server then announces
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL) opens a WebSocket on its stream; any other request
    /// to it is refused (400, or 426 for a version other than 13).
    ///
    /// - Parameters:
    ///   - accept: decides on each handshake (origin, authentication, subprotocol); nil
    ///     accepts every valid one without a subprotocol.
    ///   - inline: makes the handler of each accepted connection, on its loop.
    public mutating func webSocket(_ path: String, options: WebSocketRouteOptions = WebSocketRouteOptions(),
                                   accept: WebSocketUpgradeHook? = nil,
                                   inline: @escaping @Sendable (WebSocketUpgradeRequest) -> any WebSocketInlineHandler) throws(HTTPRoutePatternError) {
        let route = WebSocketRoute(options: options, accept: accept, handler: .inline(inline))
        try table.addWebSocket(pattern: HTTPRoutePattern(path), value: route.target(HTTPNoMiddleware()))
    }

    /// Adds a WebSocket endpoint served by an async handler: it gets the inbound messages as
    /// an `AsyncSequence` and a writer; the connection closes when it returns (1000) or
    /// throws (1011).
    ///
    /// ```swift
    /// try router.webSocket("/ws/upper") { inbound, outbound, _ in
    ///     for await case .text(let text) in inbound { await outbound.send(text: text.uppercased()) }
    /// }
    /// ```
    public mutating func webSocket(_ path: String, options: WebSocketRouteOptions = WebSocketRouteOptions(),
                                   accept: WebSocketUpgradeHook? = nil,
                                   handler: @escaping @Sendable (WebSocketServerInbound, WebSocketServerOutbound, WebSocketUpgradeRequest) async throws -> Void) throws(HTTPRoutePatternError) {
        let route = WebSocketRoute(options: options, accept: accept, handler: .async(handler))
        try table.addWebSocket(pattern: HTTPRoutePattern(path), value: route.target(HTTPNoMiddleware()))
    }
}

extension HTTPRouteGroup {
    /// Adds a WebSocket endpoint with an inline handler under the group's prefix; the
    /// group's middleware sees the handshake request (and may refuse it).
    public mutating func webSocket(_ path: String, options: WebSocketRouteOptions = WebSocketRouteOptions(),
                                   accept: WebSocketUpgradeHook? = nil,
                                   inline: @escaping @Sendable (WebSocketUpgradeRequest) -> any WebSocketInlineHandler) throws(HTTPRoutePatternError) {
        let route = WebSocketRoute(options: options, accept: accept, handler: .inline(inline))
        try table.addWebSocket(pattern: HTTPRoutePattern(fullPath(path)), value: route.target(middleware))
    }

    /// Adds a WebSocket endpoint with an async handler under the group's prefix.
    public mutating func webSocket(_ path: String, options: WebSocketRouteOptions = WebSocketRouteOptions(),
                                   accept: WebSocketUpgradeHook? = nil,
                                   handler: @escaping @Sendable (WebSocketServerInbound, WebSocketServerOutbound, WebSocketUpgradeRequest) async throws -> Void) throws(HTTPRoutePatternError) {
        let route = WebSocketRoute(options: options, accept: accept, handler: .async(handler))
        try table.addWebSocket(pattern: HTTPRoutePattern(fullPath(path)), value: route.target(middleware))
    }

    /// `path` under the group's prefix.
    func fullPath(_ path: String) -> String { path == "/" && !prefix.isEmpty ? prefix : prefix + path }
}

extension HTTPRouteTable<HTTPRouteTarget> {
    /// A WebSocket route: `GET` (HTTP/1.1 upgrade) and `CONNECT` (HTTP/2 extended CONNECT).
    mutating func addWebSocket(pattern: HTTPRoutePattern, value: HTTPRouteTarget) throws(HTTPRoutePatternError) {
        try add(method: "GET", pattern: pattern, value: value)
        try add(method: "CONNECT", pattern: pattern, value: value)
    }
}
