/// What ``HTTPRouter`` and ``HTTPRouteGroup`` share: adding a route of either tier (or a
/// prepared response) for a method, and the per-method shorthands built on that.
public protocol HTTPRouteMethods {
    /// Adds a route to a prepared response, for `method`.
    mutating func add(_ method: String, _ path: String, fixed response: HTTPFixedResponse) throws(HTTPRoutePatternError)

    /// Adds an inline route for `method`.
    mutating func add(_ method: String, _ path: String,
                      inline handler: @escaping @Sendable (HTTPInlineRequest, HTTPInlineResponder) -> Void) throws(HTTPRoutePatternError)

    /// Adds an async route for `method`.
    mutating func add(_ method: String, _ path: String,
                      handler: @escaping @Sendable (HTTPServerRequest, HTTPServerResponseWriter) async throws -> Void) throws(HTTPRoutePatternError)
}

extension HTTPRouteMethods {
    /// GET (and HEAD) to a prepared response.
    public mutating func get(_ path: String, fixed response: HTTPFixedResponse) throws(HTTPRoutePatternError) {
        try add("GET", path, fixed: response)
    }

    /// GET (and HEAD), inline.
    public mutating func get(_ path: String, inline handler: @escaping @Sendable (HTTPInlineRequest, HTTPInlineResponder) -> Void) throws(HTTPRoutePatternError) {
        try add("GET", path, inline: handler)
    }

    /// GET (and HEAD), async.
    public mutating func get(_ path: String, handler: @escaping @Sendable (HTTPServerRequest, HTTPServerResponseWriter) async throws -> Void) throws(HTTPRoutePatternError) {
        try add("GET", path, handler: handler)
    }

    /// POST, async.
    public mutating func post(_ path: String, handler: @escaping @Sendable (HTTPServerRequest, HTTPServerResponseWriter) async throws -> Void) throws(HTTPRoutePatternError) {
        try add("POST", path, handler: handler)
    }

    /// PUT, async.
    public mutating func put(_ path: String, handler: @escaping @Sendable (HTTPServerRequest, HTTPServerResponseWriter) async throws -> Void) throws(HTTPRoutePatternError) {
        try add("PUT", path, handler: handler)
    }

    /// DELETE, async.
    public mutating func delete(_ path: String, handler: @escaping @Sendable (HTTPServerRequest, HTTPServerResponseWriter) async throws -> Void) throws(HTTPRoutePatternError) {
        try add("DELETE", path, handler: handler)
    }

    /// PATCH, async.
    public mutating func patch(_ path: String, handler: @escaping @Sendable (HTTPServerRequest, HTTPServerResponseWriter) async throws -> Void) throws(HTTPRoutePatternError) {
        try add("PATCH", path, handler: handler)
    }
}
