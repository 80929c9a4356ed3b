@_spi(EpsilonInternal) import EpsilonBytes

/// Method + path routes, matched on raw request bytes without building a `String`.
///
/// A trie of path segments. At each segment a literal is tried first, then a named
/// parameter, then the one-segment wildcard, then the catch-all; when a branch leads nowhere
/// the lookup backtracks to the next one. The first route found (in that order) whose method
/// matches wins; HEAD falls back to the node's GET route when the node has no HEAD route. When
/// the path matches routes but none has the method, the answer is 405 with the `Allow` value
/// of the first such node. Lookups allocate nothing.
///
/// ```swift
/// var routes = HTTPRouteTable<Int>()
/// try routes.add(method: "GET", pattern: HTTPRoutePattern("/users/:id"), value: 1)
/// switch routes.lookup(method: methodBytes, path: pathBytes) {
/// case .matched(let handler, let parameters, let isHeadFromGet): ...
/// case .methodNotAllowed(let allow): ...   // 405, Allow: allow
/// case .notFound: ...                       // 404
/// }
/// ```
public struct HTTPRouteTable<Value: Sendable>: Sendable {
    var nodes: [RouteNode] = [RouteNode()]
    var values: [Value] = []
    /// The number of routes added.
    public var count: Int { values.count }

    /// Creates an empty table.
    public init() {}

    /// Adds a route.
    ///
    /// - Parameter method: the method token as sent on the wire, case-sensitive ("GET").
    /// - Throws: ``HTTPRoutePatternError`` for a method that is not a token, or when the same
    ///   method already has a route with this pattern (parameter names aside).
    public mutating func add(method: String, pattern: HTTPRoutePattern, value: Value) throws(HTTPRoutePatternError) {
        let methodBytes = Array(method.utf8)
        guard ASCII.isToken(methodBytes) else {
            throw HTTPRoutePatternError(reason: "method \"\(method)\" is not a token", pattern: pattern.description)
        }
        var node = 0
        for segment in pattern.segments {
            node = child(of: node, for: segment)
        }
        guard !nodes[node].endpoints.contains(where: { $0.method == methodBytes }) else {
            throw HTTPRoutePatternError(reason: "\(method) already has a route with this pattern", pattern: pattern.description)
        }
        nodes[node].endpoints.append(RouteEndpoint(method: methodBytes, value: values.count, names: pattern.parameterNames))
        nodes[node].computeAllow()
        values.append(value)
    }

    /// The child of `node` for `segment`, created when missing.
    mutating func child(of node: Int, for segment: HTTPRoutePattern.Segment) -> Int {
        let next = nodes.count
        switch segment {
        case .literal(let bytes):
            let position = nodes[node].literalPosition(bytes)
            if position < nodes[node].literals.count && nodes[node].literals[position].bytes == bytes {
                return nodes[node].literals[position].node
            }
            nodes[node].literals.insert(RouteLiteralEdge(bytes: bytes, node: next), at: position)
        case .parameter:
            if let existing = nodes[node].parameter { return existing }
            nodes[node].parameter = next
        case .wildcard:
            if let existing = nodes[node].wildcard { return existing }
            nodes[node].wildcard = next
        case .catchAll:
            if let existing = nodes[node].catchAll { return existing }
            nodes[node].catchAll = next
        }
        nodes.append(RouteNode())
        return next
    }

    /// Finds the route for a request.
    ///
    /// - Parameters:
    ///   - method: the request's method bytes.
    ///   - path: the request target's path, raw (no query); must start with `/` to match.
    /// - Returns: the match with its parameters (ranges into `path`), or 405 / 404. Allocates nothing.
    public func lookup(method: UnsafeRawBufferPointer, path: UnsafeRawBufferPointer) -> HTTPRouteLookup<Value> {
        guard path.first == UInt8(ascii: "/") else { return .notFound }
        var search = RouteSearch(method: method, path: path)
        nodes.withUnsafeBufferPointer { nodes in
            _ = search.run(nodes, node: 0, at: 1)
        }
        if let found = search.found {
            let endpoint = nodes[found.node].endpoints[found.endpoint]
            var parameters = search.parameters
            parameters.names = endpoint.names
            return .matched(values[endpoint.value], parameters, isHeadFromGet: found.isHeadFromGet)
        }
        if let node = search.firstPathMatch { return .methodNotAllowed(allow: nodes[node].allow) }
        return .notFound
    }
}

/// One lookup's walk through the trie (depth-first, in precedence order, backtracking).
struct RouteSearch {
    let method: UnsafeRawBufferPointer
    let path: UnsafeRawBufferPointer
    let isHead: Bool
    var parameters = HTTPRouteParameters()
    var found: (node: Int, endpoint: Int, isHeadFromGet: Bool)?
    var firstPathMatch: Int?

    init(method: UnsafeRawBufferPointer, path: UnsafeRawBufferPointer) {
        self.method = method
        self.path = path
        isHead = method.elementsEqual("HEAD".utf8)
    }

    /// Matches the segments from `start` (just after a `/`; past the end when none are left)
    /// against `node`'s subtree; true once a route with the method is found.
    mutating func run(_ nodes: UnsafeBufferPointer<RouteNode>, node: Int, at start: Int) -> Bool {
        if start > path.count { return arrive(at: nodes[node], index: node) }
        var end = start
        while end < path.count && path[end] != UInt8(ascii: "/") { end += 1 }
        let segment = UnsafeRawBufferPointer(rebasing: path[start..<end])
        if let next = nodes[node].literalChild(segment), run(nodes, node: next, at: end + 1) { return true }
        if !segment.isEmpty {
            if let next = nodes[node].parameter, parameters.count < HTTPRouteParameters.capacity {
                parameters.push(start, end)
                if run(nodes, node: next, at: end + 1) { return true }
                parameters.captured -= 1
            }
            if let next = nodes[node].wildcard, run(nodes, node: next, at: end + 1) { return true }
        }
        if let next = nodes[node].catchAll {
            parameters.catchAllBounds = (start, path.count)
            if arrive(at: nodes[next], index: next) { return true }
            parameters.catchAllBounds = (-1, -1)
        }
        return false
    }

    /// The whole path matched `node`: true when it has a route for the method.
    mutating func arrive(at node: RouteNode, index: Int) -> Bool {
        if node.endpoints.isEmpty { return false }
        if firstPathMatch == nil { firstPathMatch = index }
        var get: Int?
        for (position, endpoint) in node.endpoints.enumerated() {
            if endpoint.method.elementsEqual(method) {
                found = (index, position, false)
                return true
            }
            if isHead && endpoint.method.elementsEqual("GET".utf8) { get = position }
        }
        if let get {
            found = (index, get, true)
            return true
        }
        return false
    }
}
