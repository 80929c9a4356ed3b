public import EpsilonTLS

/// How an ``HTTPClient`` behaves: limits, timeouts, TLS, decoding, redirects, retries, cookies.
///
/// ```swift
/// var configuration = HTTPClientConfiguration()
/// configuration.timeouts.responseHead = .seconds(5)
/// configuration.tls.trustRoots = try .bundle(file: "ca.pem")
/// let client = HTTPClient(configuration: configuration)
/// ```
public struct HTTPClientConfiguration: Sendable {
    /// The HTTP version: HTTP/2 by ALPN over TLS and HTTP/1.1 in cleartext (the default),
    /// HTTP/1.1 only, or HTTP/2 only (h2c with prior knowledge for `http://`).
    public var httpVersion = HTTPClientHTTPVersion.automatic
    /// The connection pool's limits.
    public var pool = HTTPClientPoolConfiguration()
    /// The time limits.
    public var timeouts = HTTPClientTimeouts()
    /// TLS for `https://` origins: trust roots (default: the system store), verification
    /// (default: chain and host name), a client identity, version policy. Each connection sends
    /// the origin's host as SNI (IP addresses aside). The ALPN offer follows ``httpVersion``.
    public var tls = TLSClientConfiguration(applicationProtocols: ["http/1.1"])
    /// Ask for `gzip, deflate` (unless the request names its own `Accept-Encoding`) and decode
    /// such response bodies transparently. Default true.
    public var decompression = true
    /// The most bytes a decoded body may grow to; past it the body fails with
    /// ``HTTPClientError/decodingFailed(_:)`` (decompression bombs). Default 1 GiB.
    public var maxDecodedBodyBytes = 1 << 30
    /// Which redirects are followed (default: up to 10, never https → http).
    public var redirectPolicy = HTTPRedirectPolicy.follow
    /// Which failures are retried, how often and after what delay (default: 3 attempts,
    /// idempotent methods only, full-jitter backoff from 100 ms).
    public var retryPolicy = HTTPRetryPolicy.default
    /// The cookie jar, or nil (the default) for no cookies. A jar may be shared between clients.
    public var cookieJar: HTTPCookieJar?
    /// An HTTP proxy for every request, or nil.
    public var proxy: HTTPClientProxy?
    /// Event loops of the client's own loop group (ignored when a group is passed in). Default 1.
    public var loopCount = 1
    /// Bytes a response may hold unread in the client before it stops reading from the socket
    /// (back-pressure: a slow consumer slows the server). Default 256 KiB. It is also the largest
    /// body chunk an HTTP/1.1 download hands over: a larger limit means fewer, larger chunks.
    public var receiveBufferLimit = 256 * 1024

    /// The defaults.
    public init() {}
}
