/// Code that runs around a route's handler, for both tiers: it sees the request head first
/// (and may answer instead of the handler), then the response on its way out (head, body
/// pieces, end) and may change it.
///
/// Middleware compose as generic values (``HTTPMiddlewareChain``), never as an array of
/// existentials walked per request: a group's whole stack is one concrete type, and a
/// request through it costs one object holding every middleware's ``State``.
///
/// A response that a middleware answers with (a short-circuit) passes through the response
/// hooks of the whole stack; the middleware that did not see the request hold their
/// ``makeState()`` value, so each must treat that state as "nothing to do".
///
/// ```swift
/// struct PoweredBy: HTTPMiddleware {
///     func responseHead(_ head: inout HTTPResponseHeadParts, state: inout Void) {
///         head.fields.append(("X-Powered-By", "epsilon"))
///     }
/// }
/// ```
public protocol HTTPMiddleware: Sendable {
    /// What the middleware keeps about one request between its hooks.
    associatedtype State = Void
    /// The state of a request not seen yet.
    func makeState() -> State
    /// The request head arrived (views valid during the call). Return a response to answer
    /// instead of the handler; nil lets the request through.
    func receive(_ request: HTTPRequestHeadView, state: inout State, context: inout HTTPMiddlewareContext) -> HTTPFixedResponse?
    /// The response head is on its way out.
    func responseHead(_ head: inout HTTPResponseHeadParts, state: inout State)
    /// A piece of the response body is on its way out: pass on what the client should get.
    func responseBody(_ bytes: UnsafeRawBufferPointer, state: inout State, emit: (UnsafeRawBufferPointer) -> Void)
    /// The response ends: pass on any last bytes.
    func responseEnd(state: inout State, emit: (UnsafeRawBufferPointer) -> Void)
}

extension HTTPMiddleware where State == Void {
    /// No state.
    public func makeState() {}
}

extension HTTPMiddleware {
    /// Lets every request through.
    public func receive(_ request: HTTPRequestHeadView, state: inout State, context: inout HTTPMiddlewareContext) -> HTTPFixedResponse? {
        nil
    }
    /// Leaves the head as it is.
    public func responseHead(_ head: inout HTTPResponseHeadParts, state: inout State) {}
    /// Passes the bytes on unchanged.
    public func responseBody(_ bytes: UnsafeRawBufferPointer, state: inout State, emit: (UnsafeRawBufferPointer) -> Void) {
        emit(bytes)
    }
    /// Adds nothing.
    public func responseEnd(state: inout State, emit: (UnsafeRawBufferPointer) -> Void) {}
}

/// A response head as middleware see it on its way out.
public struct HTTPResponseHeadParts: Sendable {
    /// The status code.
    public var status: Int
    /// The fields (the server adds `Date`, `Server` and the framing).
    public var fields: [(name: String, value: String)]
    /// The body length; nil when streamed. A middleware that changes the body must set it.
    public var bodyLength: UInt64?

    /// A head with these parts.
    public init(status: Int, fields: [(name: String, value: String)], bodyLength: UInt64?) {
        self.status = status
        self.fields = fields
        self.bodyLength = bodyLength
    }

    /// The first value of a field (ignoring ASCII case in the name).
    public func value(of name: String) -> String? {
        fields.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// What middleware tell the rest of the stack and the handler about one request.
public struct HTTPMiddlewareContext: Sendable {
    /// The request's id (set by ``HTTPRequestIDMiddleware``).
    public var requestID: String?
    /// A deadline for an async handler (set by ``HTTPRequestTimeoutMiddleware``): past it the
    /// handler is cancelled and, if it sent nothing yet, the client gets `503`.
    public var timeout: Duration?

    /// Nothing set.
    public init() {}
}

/// Two middleware as one: `outer` sees the request first and the response last.
public struct HTTPMiddlewareChain<Outer: HTTPMiddleware, Inner: HTTPMiddleware>: HTTPMiddleware {
    /// The middleware that runs first on the request.
    public let outer: Outer
    /// The middleware that runs after it.
    public let inner: Inner

    /// Chains `outer` around `inner`.
    public init(_ outer: Outer, _ inner: Inner) {
        self.outer = outer
        self.inner = inner
    }

    /// Both states.
    public func makeState() -> (Outer.State, Inner.State) { (outer.makeState(), inner.makeState()) }

    /// The outer middleware first; the inner one only when the outer let the request through.
    public func receive(_ request: HTTPRequestHeadView, state: inout (Outer.State, Inner.State),
                        context: inout HTTPMiddlewareContext) -> HTTPFixedResponse? {
        if let response = outer.receive(request, state: &state.0, context: &context) { return response }
        return inner.receive(request, state: &state.1, context: &context)
    }

    /// The inner middleware first, then the outer.
    public func responseHead(_ head: inout HTTPResponseHeadParts, state: inout (Outer.State, Inner.State)) {
        inner.responseHead(&head, state: &state.1)
        outer.responseHead(&head, state: &state.0)
    }

    /// Through the inner middleware, then the outer.
    public func responseBody(_ bytes: UnsafeRawBufferPointer, state: inout (Outer.State, Inner.State),
                             emit: (UnsafeRawBufferPointer) -> Void) {
        var outerState = state.0
        inner.responseBody(bytes, state: &state.1) { piece in
            outer.responseBody(piece, state: &outerState, emit: emit)
        }
        state.0 = outerState
    }

    /// The inner middleware's last bytes go through the outer one, then the outer's own.
    public func responseEnd(state: inout (Outer.State, Inner.State), emit: (UnsafeRawBufferPointer) -> Void) {
        var outerState = state.0
        inner.responseEnd(state: &state.1) { piece in
            outer.responseBody(piece, state: &outerState, emit: emit)
        }
        outer.responseEnd(state: &outerState, emit: emit)
        state.0 = outerState
    }
}

/// No middleware: the start of every chain.
public struct HTTPNoMiddleware: HTTPMiddleware {
    /// Nothing to configure.
    public init() {}
}
