extension HTTPInlineResponder {
    /// Promises a pushed response for `GET path` (same scheme and authority as the request
    /// being answered) with the request fields `headers`, and serves it through the router as
    /// if the client had asked — HTTP/2 server push (RFC 9113 §8.4). Call it before this
    /// response ends.
    ///
    /// Refused (the response is not affected) when the connection is not HTTP/2, when the
    /// client disabled push (`SETTINGS_ENABLE_PUSH` 0, what most clients send), when its
    /// stream limit is reached, or when the path is not an origin-form path.
    /// - Throws: ``HTTP2ServerPushError``.
    public func push(path: String, headers: [(name: String, value: String)] = []) throws(HTTP2ServerPushError) {
        guard let pusher = sink as? any HTTPServerPushSink else { throw .notHTTP2 }
        _ = try pusher.push(from: exchange, path: path, fields: headers)
    }
}
