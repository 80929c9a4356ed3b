/// The time limits of an ``HTTPClient``; nil turns one off. Each limit that fires fails the
/// request with its own ``HTTPClientError`` case.
public struct HTTPClientTimeouts: Sendable, Hashable {
    /// Establishing the TCP connection (``HTTPClientError/connectTimeout``). Default 10 s.
    public var connect: Duration? = .seconds(10)
    /// The TLS handshake, from the moment TCP is up (``HTTPClientError/tlsHandshakeTimeout``). Default 10 s.
    public var tlsHandshake: Duration? = .seconds(10)
    /// Waiting for a pooled connection (``HTTPClientError/poolWaitTimeout``). Default 30 s.
    public var poolWait: Duration? = .seconds(30)
    /// From the end of the request to the response head: time to first byte
    /// (``HTTPClientError/responseHeadTimeout``). Default 60 s.
    public var responseHead: Duration? = .seconds(60)
    /// The longest silence while reading the response body (``HTTPClientError/readTimeout``). Default 60 s.
    public var read: Duration? = .seconds(60)
    /// The whole request, from the call to the end of the response head, retries and
    /// redirects included; the body read is bounded by ``read`` (``HTTPClientError/requestTimeout``).
    /// Default: none.
    public var request: Duration? = nil

    /// The defaults above.
    public init() {}
}

extension Duration {
    /// Whole nanoseconds, saturating (durations here are short and positive).
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? UInt64.max : whole &+ UInt64(attoseconds / 1_000_000_000)
    }
}
