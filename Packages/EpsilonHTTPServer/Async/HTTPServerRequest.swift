public import HTTPTypes

/// What an async handler is given: the request head as owned swift-http-types values, the
/// route's parameters (percent-decoded copies), and the body as an async sequence.
public struct HTTPServerRequest: Sendable {
    /// The request head (method, scheme, authority, path with query, fields).
    public var head: HTTPRequest
    /// The route's parameters by name (`"id"` for `:id`, `"**"` for the catch-all), percent-decoded.
    public var parameters: [String: String]
    /// The request body; read it at your pace: the client is slowed down to it.
    public var body: HTTPRequestBody
    /// What middleware set (request id, timeout).
    public var context: HTTPMiddlewareContext

    /// The path without the query.
    public var path: String {
        let full = head.path ?? "/"
        guard let question = full.firstIndex(of: "?") else { return full }
        return String(full[..<question])
    }
}
