/// Refuses a request whose declared body (`Content-Length`) is larger than `maxBytes` with
/// `413` before the handler runs. A body of unknown length (chunked, HTTP/2 DATA without
/// content-length) is bounded by ``HTTPServerConfiguration/maxBodyBytes`` in the session and
/// by the handler's own reading (``HTTPRequestBody/collect(upTo:)``).
public struct HTTPRequestSizeLimitMiddleware: HTTPMiddleware {
    /// The largest body let through.
    public let maxBytes: UInt64

    /// Refuses declared bodies over `maxBytes`.
    public init(maxBytes: UInt64) {
        self.maxBytes = maxBytes
    }

    /// `413` when the declared length is over the limit.
    public func receive(_ request: HTTPRequestHeadView, state: inout Void, context: inout HTTPMiddlewareContext) -> HTTPFixedResponse? {
        if let length = request.contentLength, length > maxBytes { return HTTPFixedResponse(status: 413) }
        return nil
    }
}

/// Gives async handlers a deadline: past `timeout` the handler is cancelled and the client
/// gets `503` (or a cut response, when its head had gone out). Inline handlers answer at
/// once and are not affected.
public struct HTTPRequestTimeoutMiddleware: HTTPMiddleware {
    /// The time an async handler may take.
    public let timeout: Duration

    /// Cancels async handlers after `timeout`.
    public init(timeout: Duration) {
        self.timeout = timeout
    }

    /// Sets the deadline for the handler.
    public func receive(_ request: HTTPRequestHeadView, state: inout Void, context: inout HTTPMiddlewareContext) -> HTTPFixedResponse? {
        context.timeout = min(context.timeout ?? timeout, timeout)
        return nil
    }
}
