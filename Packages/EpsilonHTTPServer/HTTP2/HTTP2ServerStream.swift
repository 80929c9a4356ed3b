import EpsilonHTTP2

/// What the HTTP/2 session keeps per request stream: how far the request and the response
/// have come, response bytes the peer's windows do not let out yet, and request bytes handed
/// to the handler but not yet read by it (the credit the peer gets back when it reads them).
struct HTTP2ServerStream {
    /// The request's END_STREAM (or trailers) arrived, or the stream was reset.
    var requestEnded: Bool
    /// The response head was written into the machine.
    var headSent = false
    /// The response is complete in the machine (END_STREAM written).
    var responseEnded = false
    /// The handler asked to end the response; it ends once `pending` is out.
    var endRequested = false
    /// Trailers to send once `pending` is out (with `endRequested`).
    var trailers: HTTP2HeaderList?
    /// Response body bytes accepted from the handler and waiting for window. Bounded: the
    /// handler is told to wait once it holds ``HTTP2ServerSession/streamBufferLimit``.
    var pending: [UInt8] = []
    /// Where the unsent part of `pending` begins (so a partial send moves no bytes).
    var pendingStart = 0
    /// Request body bytes delivered to the handler and not yet reported read: at most the
    /// stream's receive window, since the peer cannot send beyond it.
    var unconsumed = 0
    /// The handler was told to wait and must hear when it may write again.
    var writerWaiting = false
    /// The request was `HEAD`: the response carries no body whatever the handler writes.
    var isHead = false
    /// The request's `:scheme` and `:authority`, for the requests a push promises.
    var scheme: String = "http"
    var authority: String = ""

    init(requestEnded: Bool) {
        self.requestEnded = requestEnded
    }

    /// Octets accepted and not yet written.
    var pendingCount: Int { pending.count &- pendingStart }

    /// Nothing is left to do on the stream: both directions are finished.
    var isFinished: Bool { requestEnded && responseEnded }
}
