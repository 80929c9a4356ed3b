/// The routes of an ``HTTPServer``: method + path patterns (``HTTPRoutePattern``: literal
/// segments, `:name` parameters, `*` one segment, `**` the rest) mapped to handlers of either
/// tier, in groups that share a path prefix and a middleware stack.
///
/// - Inline handlers run on the loop thread with borrowed views and answer at once (no task,
///   no copy; a ``HTTPFixedResponse`` allocates nothing).
/// - Async handlers get owned swift-http-types values, a streaming body and a writer; they
///   are cancelled when the client goes away.
///
/// No route matches: `404`; the path matches another method: `405` with `Allow`; HEAD is
/// answered by the GET route (without the body); `OPTIONS *` gets `204` with `Allow`.
///
/// ```swift
/// var router = HTTPRouter()
/// try router.get("/hello", fixed: HTTPFixedResponse(status: 200, contentType: "text/plain", body: "Hello, World!"))
/// try router.group("/api", middleware: HTTPRequestIDMiddleware()) { api in
///     try api.get("/users/:id", inline: { request, responder in
///         responder.respond(status: 200, text: request.parameterString("id") ?? "")
///     })
/// }
/// try router.post("/echo") { request, writer in
///     try await writer.writeHead(status: 200, bodyLength: nil)
///     for try await piece in request.body { try await writer.write(piece) }
///     try await writer.end()
/// }
/// ```
public struct HTTPRouter: HTTPRouteMethods, Sendable {
    var table = HTTPRouteTable<HTTPRouteTarget>()

    /// No routes.
    public init() {}

    /// Adds routes under `prefix` that run behind `middleware` (which wraps this group only).
    public mutating func group<M: HTTPMiddleware>(_ prefix: String, middleware: M,
                                                  _ body: (inout HTTPRouteGroup<M>) throws(HTTPRoutePatternError) -> Void) throws(HTTPRoutePatternError) {
        var group = HTTPRouteGroup(prefix: prefix, middleware: middleware, table: table)
        try body(&group)
        table = group.table
    }

    /// Adds a route to a prepared response, for `method`.
    public mutating func add(_ method: String, _ path: String, fixed response: HTTPFixedResponse) throws(HTTPRoutePatternError) {
        try table.add(method: method, pattern: HTTPRoutePattern(path), value: .fixed(response))
    }

    /// Adds an inline route for `method`.
    public mutating func add(_ method: String, _ path: String,
                             inline handler: @escaping @Sendable (HTTPInlineRequest, HTTPInlineResponder) -> Void) throws(HTTPRoutePatternError) {
        try table.add(method: method, pattern: HTTPRoutePattern(path), value: .inline(HTTPNoMiddleware(), handler))
    }

    /// Adds an async route for `method`.
    public mutating func add(_ method: String, _ path: String,
                             handler: @escaping @Sendable (HTTPServerRequest, HTTPServerResponseWriter) async throws -> Void) throws(HTTPRoutePatternError) {
        try table.add(method: method, pattern: HTTPRoutePattern(path), value: .async(HTTPNoMiddleware(), handler))
    }
}

/// Routes under one path prefix behind one middleware stack (see ``HTTPRouter/group(_:middleware:_:)``).
public struct HTTPRouteGroup<Middleware: HTTPMiddleware>: HTTPRouteMethods {
    let prefix: String
    let middleware: Middleware
    var table: HTTPRouteTable<HTTPRouteTarget>

    init(prefix: String, middleware: Middleware, table: HTTPRouteTable<HTTPRouteTarget>) {
        self.prefix = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        self.middleware = middleware
        self.table = table
    }

    private func full(_ path: String) -> String { path == "/" && !prefix.isEmpty ? prefix : prefix + path }

    /// A nested group: its middleware runs inside this group's.
    public mutating func group<M: HTTPMiddleware>(_ prefix: String, middleware inner: M,
                                                  _ body: (inout HTTPRouteGroup<HTTPMiddlewareChain<Middleware, M>>) throws(HTTPRoutePatternError) -> Void) throws(HTTPRoutePatternError) {
        var group = HTTPRouteGroup<HTTPMiddlewareChain<Middleware, M>>(
            prefix: full(prefix), middleware: HTTPMiddlewareChain(middleware, inner), table: table)
        try body(&group)
        table = group.table
    }

    /// Adds a route to a prepared response (it passes through the group's middleware).
    public mutating func add(_ method: String, _ path: String, fixed response: HTTPFixedResponse) throws(HTTPRoutePatternError) {
        try table.add(method: method, pattern: HTTPRoutePattern(full(path)),
                      value: .inline(middleware) { _, responder in responder.respond(response) })
        try addOptions(for: path)
    }

    /// An `OPTIONS` route through the group's middleware for each path, so that a middleware
    /// such as CORS sees preflight requests (unless the group routes OPTIONS itself).
    private mutating func addOptions(for path: String) throws(HTTPRoutePatternError) {
        guard Middleware.self != HTTPNoMiddleware.self else { return }
        let pattern = try HTTPRoutePattern(full(path))
        let noContent = HTTPFixedResponse(status: 204)
        do throws(HTTPRoutePatternError) {
            try table.add(method: "OPTIONS", pattern: pattern, value: .inline(middleware) { _, responder in responder.respond(noContent) })
        } catch {
            // Already there (another method of the same path, or an explicit OPTIONS route).
        }
    }

    /// Adds an inline route.
    public mutating func add(_ method: String, _ path: String,
                             inline handler: @escaping @Sendable (HTTPInlineRequest, HTTPInlineResponder) -> Void) throws(HTTPRoutePatternError) {
        try table.add(method: method, pattern: HTTPRoutePattern(full(path)), value: .inline(middleware, handler))
        if method != "OPTIONS" { try addOptions(for: path) }
    }

    /// Adds an async route.
    public mutating func add(_ method: String, _ path: String,
                             handler: @escaping @Sendable (HTTPServerRequest, HTTPServerResponseWriter) async throws -> Void) throws(HTTPRoutePatternError) {
        try table.add(method: method, pattern: HTTPRoutePattern(full(path)), value: .async(middleware, handler))
        if method != "OPTIONS" { try addOptions(for: path) }
    }
}
