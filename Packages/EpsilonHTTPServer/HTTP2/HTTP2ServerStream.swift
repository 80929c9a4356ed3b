import EpsilonHTTP2

/// What the HTTP/2 session keeps per request stream: the dispatcher's exchange, how far the
/// request and the response have come, response bytes the peer's windows do not let out yet,
/// and request bytes handed to the exchange but not yet read (the credit the peer gets back
/// when the handler reads them).
struct HTTP2ServerStream {
    /// Receives the rest of the request; nil when the dispatcher wanted only the head (its
    /// body is then credited back as it comes) or once the exchange is over.
    var exchange: (any HTTPServerExchange)?
    /// The request's END_STREAM (or trailers) arrived.
    var requestEnded: Bool
    /// The final response head went into the machine.
    var headSent = false
    /// The response is complete in the machine (END_STREAM written).
    var responseEnded = false
    /// The dispatcher ended the response; it ends on the wire once `pending` is out.
    var endRequested = false
    /// Trailers to send once `pending` is out.
    var trailers: HTTP2HeaderList?
    /// Response body octets still to come when the head declared a length (END_STREAM then
    /// rides on the last DATA frame); nil for a streamed body.
    var remainingLength: UInt64?
    /// Response body bytes accepted and waiting for window or for the write queue. Bounded:
    /// ``HTTPResponseSink/writableBytes(_:)`` is 0 once it holds the session's stream buffer.
    var pending: [UInt8] = []
    /// Where the unsent part of `pending` begins (a partial send moves no bytes).
    var pendingStart = 0
    /// Request body octets delivered to the exchange and not yet consumed: at most the
    /// stream's receive window, since the peer cannot send beyond it.
    var unconsumed = 0
    /// Request body octets received so far (for the body size limit).
    var received: UInt64 = 0
    /// The writer saw `writableBytes` at 0 and waits for `responseWritable()`.
    var writerWaiting = false
    /// When the request body must be complete (the session's `bodyTimeout` after the head,
    /// as on HTTP/1.1); 0 when the head ended the request or the stream is a tunnel.
    var bodyDeadline: UInt64 = 0
    /// The request was refused for its declared size: once answered, RST_STREAM NO_ERROR
    /// stops the body rather than reading it.
    var resetWhenAnswered = false
    /// No response body goes out (a `HEAD` request, a 204 or 304): bytes given are dropped.
    var bodyless = false
    /// The stream carries a WebSocket (RFC 8441): its request side is the peer's frames, so
    /// no body size limit applies, and it ends when either side ends.
    var isTunnel = false

    /// The request's `:scheme` and authority, kept (copied) only when the peer accepts
    /// pushes: a promised request has the same origin.
    var origin: Origin?

    /// Where a request was addressed.
    struct Origin {
        var scheme: String
        var authority: String

        init(scheme: String, authority: String) {
            self.scheme = scheme
            self.authority = authority
        }

        init(_ list: HTTP2HeaderList, _ summary: HTTP2RequestHead.Summary) {
            let authorityIndex = summary.authority >= 0 ? summary.authority : summary.host
            scheme = summary.scheme >= 0 ? list.withField(at: summary.scheme) { String(decoding: $1, as: UTF8.self) } : "https"
            authority = authorityIndex >= 0 ? list.withField(at: authorityIndex) { String(decoding: $1, as: UTF8.self) } : ""
        }
    }

    init(requestEnded: Bool) {
        self.requestEnded = requestEnded
    }

    /// Octets accepted and not yet written.
    var pendingCount: Int { pending.count &- pendingStart }

    /// Nothing is left to do on the stream: both directions are finished.
    var isFinished: Bool { requestEnded && responseEnded }
}
