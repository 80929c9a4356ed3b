/// The limits, timeouts and identity of an ``HTTPServer``; every limit has a safe default.
///
/// Timeouts close (HTTP/1.1: after a `408` when a request was under way) a connection whose
/// client is too slow: `headTimeout` from the first byte of a request to the end of its head
/// (slow-loris), `bodyTimeout` from the end of a head to the end of its body, `idleTimeout`
/// between keep-alive requests, `silentTimeout` for a connection that never sends a byte or
/// never finishes its TLS handshake.
public struct HTTPServerConfiguration: Sendable {
    /// The `Server` field value of every response; nil sends none. Default `epsilon`.
    public var serverName: String? = "epsilon"
    /// Time allowed from the first byte of a request to the end of its head. Default 10 s.
    public var headTimeout: Duration = .seconds(10)
    /// Time allowed from the end of a request head to the end of its body. Default 30 s. On
    /// HTTP/2 per stream: `408` (or RST_STREAM once a response began), the connection goes on.
    public var bodyTimeout: Duration = .seconds(30)
    /// Time a keep-alive connection may stay idle between requests, and a response writer
    /// may wait for a client that does not read (HTTP/2: a connection whose client reads
    /// nothing that long is aborted). Default 60 s.
    public var idleTimeout: Duration = .seconds(60)
    /// Time a connection may stay open without sending a byte (or finishing TLS). Default 30 s.
    public var silentTimeout: Duration = .seconds(30)
    /// The largest request head (request line and fields), in bytes; larger gets `431`. Over
    /// HTTP/2 the decoded fields count, each as `name: value` and CRLF. Default 16 KiB.
    public var maxHeaderBytes = 16 * 1024
    /// The most field lines in a request head; more gets `431`. Default 100.
    public var maxHeaderCount = 100
    /// The largest request body, in bytes; larger gets `413`. Default 1 GiB.
    public var maxBodyBytes: UInt64 = 1 << 30
    /// Requests served on one connection before it closes (HTTP/1.1 `Connection: close`,
    /// HTTP/2 GOAWAY). Default 10,000.
    public var maxRequestsPerConnection = 10_000
    /// Concurrent HTTP/2 streams per connection. Default 100.
    public var maxConcurrentStreams = 100
    /// Request body bytes delivered to a handler and not yet consumed before the session
    /// stops reading (HTTP/1.1) or withholds flow-control credit (HTTP/2). Default 64 KiB.
    public var requestBodyBuffer = 64 * 1024
    /// Serve HTTP/2 in cleartext: prior knowledge (the preface) and `Upgrade: h2c`. Default off.
    public var allowsCleartextHTTP2 = false

    /// The defaults.
    public init() {}
}
