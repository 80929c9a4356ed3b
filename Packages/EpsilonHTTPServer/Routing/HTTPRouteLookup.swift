/// The outcome of ``HTTPRouteTable/lookup(method:path:)``.
public enum HTTPRouteLookup<Value: Sendable>: Sendable {
    /// A route matched: its value, the captured parameters, and whether a HEAD request is
    /// served by the GET route (the server then sends the GET head without the body).
    case matched(Value, HTTPRouteParameters, isHeadFromGet: Bool)
    /// The path matched but not the method: `allow` is the precomputed `Allow` field value for
    /// the 405 response ("GET, HEAD, POST"), sorted, HEAD included when GET is.
    case methodNotAllowed(allow: String)
    /// No route has this path (or the path does not start with `/`): 404.
    case notFound
}
