import EpsilonHTTP2

/// What the HTTP/2 session reports per request stream, on the loop thread; the dispatcher
/// (routing, handlers) implements it and answers through the session's response calls
/// (``HTTP2ServerSession/sendHead(streamID:_:endStream:)`` and the rest).
///
/// Rules: a stream's calls come in order — `requestHead`, zero or more `requestBody`, then
/// exactly one of `requestEnd` or `requestAborted` (an abort may also follow `requestEnd`,
/// while the response is still unfinished: the client reset the stream or the connection
/// went). Views are valid during the call only. Body bytes count against the peer's window
/// until the delegate calls ``HTTP2ServerSession/bodyConsumed(streamID:count:)``: a handler
/// that stops reading stops the peer. The delegate may answer from inside any call.
protocol HTTP2StreamDelegate: AnyObject {
    /// A request head arrived (a pushed request, too: then `requestEnd` follows at once).
    func requestHead(_ head: HTTP2RequestHead, streamID: UInt32)
    /// Request body bytes arrived.
    func requestBody(_ bytes: UnsafeRawBufferPointer, streamID: UInt32)
    /// The request ended, with its trailers if it had any.
    func requestEnd(trailers: HTTP2HeaderList?, streamID: UInt32)
    /// The stream is gone before its exchange finished: reset by the peer or by us, or the
    /// connection closed. Cancel the handler; the session forgot the stream.
    func requestAborted(streamID: UInt32)
    /// A response writer that was told to wait may write again.
    func responseWritable(streamID: UInt32)
}
