// The dispatch seam: what a protocol session (HTTP/1.1 or HTTP/2) and the request dispatcher
// (router, middleware, the two handler tiers) say to each other.
//
// RULES (the HTTP/1.1 session and the HTTP/2 session both follow them):
//
// 1. Everything here runs on the connection's loop thread. Nothing blocks. An async handler
//    runs in its own task and comes back to the loop through `HTTPResponseSink.executor`
//    before it touches the sink (the exchange objects do this; sessions never see a task).
//
// 2. Session → dispatcher, once per request, when its head is complete:
//      `dispatcher.requestHead(head, exchange: id, sink: self) -> (any HTTPServerExchange)?`
//    `head` (``HTTPRequestHeadView``) is borrowed: its views are valid only during the call.
//    `id` is chosen by the session and unique on that connection while the exchange lives
//    (HTTP/1.1: a counter; HTTP/2: the stream ID). The dispatcher may answer at once through
//    `sink` (the inline tier: head, body, end written before `requestHead` returns).
//    - Return `nil`: the dispatcher wants nothing more of this request. The session discards
//      any request body itself (HTTP/1.1: keeps reading; HTTP/2: returns the flow-control
//      credit at once) and must still accept sink calls for `id` until the response ended.
//    - Return an exchange: the session delivers, in order,
//        `exchange.receiveBody(bytes)`   (bytes borrowed for the call: the exchange copies),
//        `exchange.receiveEnd(trailers:)` (trailers borrowed too, nil when there were none),
//      or, when the request can never complete or its response can never be delivered
//      (RST_STREAM, connection closed, a timeout, a protocol error), exactly one
//        `exchange.abort()`  — after which the session calls nothing more on it and ignores
//      sink calls for `id` (the async handler's task is cancelled by the exchange).
//      `exchange.responseWritable()` when `sink.writableBytes(id)` went from 0 to more.
//
// 3. Dispatcher → session (`HTTPResponseSink`), for an `id` the session gave:
//    `sendHead(id, status:, fields:, bodyLength:)` once (1xx aside), then any number of
//    `sendBody(id, bytes)`, then `sendEnd(id, trailers:)`; or `reset(id)` at any point
//    (HTTP/2: RST_STREAM INTERNAL_ERROR or NO_ERROR; HTTP/1.1: a 500 if no head went out,
//    else close the connection). The session adds `Date` and `Server` to every head, frames
//    the body (`bodyLength` nil: chunked / DATA until END_STREAM), drops body bytes for a
//    HEAD request and for 204/304, and never lets `fields` carry framing (Content-Length,
//    Transfer-Encoding, Connection): the dispatcher does not send them.
//    `sendBody` always takes all the bytes it is given, but a writer must not give more
//    than `writableBytes(id)` (0 = wait for `responseWritable()`, which the session MUST then
//    call once it is above 0 again): HTTP/1.1 answers 0 only while the transport reports its
//    write queue above the high watermark (it reports the drain), HTTP/2 from the stream and
//    connection windows and its own bounded buffer. That is how a client that does not read slows the
//    handler that writes.
//
// 4. Request-body back-pressure: `bodyConsumed(id, count:)` tells the session that the
//    handler has taken `count` bytes of those delivered by `receiveBody`. HTTP/1.1 pauses
//    reading while more than `configuration.requestBodyBuffer` bytes are delivered and not
//    consumed, and resumes below it; HTTP/2 sends WINDOW_UPDATE for consumed bytes only.
//    So a handler that stops reading stops the peer, and nothing buffers without bound.
//
// 5. A session serialises exchanges as its protocol needs: HTTP/1.1 dispatches the next
//    pipelined request only after the previous response ended (answers go out in order);
//    HTTP/2 dispatches streams concurrently up to its stream limit.
//
// 6. Sessions and the socket: a session sees the connection only as `HTTPServerIO`
//    (HTTPServerIO.swift), so every session runs in memory too (`HTTPServerMemoryIO`, the
//    fuzzer's `HTTPServerFuzzDriver`). `HTTPServerSessions.makeInitial` picks a new
//    connection's first session (protocol selection lives behind it); a session hands the
//    connection on with `io.switchSession(to:replaying:)` (the HTTP/1.1 session does so after
//    answering `Upgrade: h2c` with 101, through `HTTPServerSessions.makeUpgradedHTTP2`).

/// Names one request/response exchange on one connection (chosen by the session).
struct HTTPExchangeID: Hashable, Sendable, CustomStringConvertible {
    /// HTTP/1.1: the request's sequence number on the connection; HTTP/2: the stream ID.
    var rawValue: UInt64

    init(_ rawValue: UInt64) { self.rawValue = rawValue }

    var description: String { "#\(rawValue)" }
}

/// What a session calls for every request head (see the rules at the top of this file).
/// One dispatcher serves every connection of a server, on every loop: it is immutable.
protocol HTTPServerDispatcher: AnyObject, Sendable {
    /// A request head is complete; answer inline through `sink`, or return the exchange that
    /// receives the rest of the request.
    func requestHead(_ head: HTTPRequestHeadView, exchange: HTTPExchangeID,
                     sink: any HTTPResponseSink) -> (any HTTPServerExchange)?
}

/// The dispatcher's side of one exchange that wants more than its head (the async tier).
/// Loop thread only; see rule 2.
protocol HTTPServerExchange: AnyObject {
    /// A piece of the request body, borrowed for the call.
    func receiveBody(_ bytes: UnsafeRawBufferPointer)
    /// The request ended; `trailers` (borrowed) when it had a trailer section.
    func receiveEnd(trailers: HTTPRequestFieldLines?)
    /// The exchange is over without a complete response: stop, cancel the handler.
    func abort()
    /// ``HTTPResponseSink/writableBytes(_:)`` is above 0 again.
    func responseWritable()
}

/// What a session offers the dispatcher to answer one of its requests (rule 3). Loop thread only.
protocol HTTPResponseSink: AnyObject {
    /// Sends the response head (the session adds `Date`, `Server` and the framing).
    /// `bodyLength` nil streams the body (chunked, or DATA until END_STREAM).
    /// A status below 200 (but 101) is an interim response and may precede the final one.
    func sendHead(_ exchange: HTTPExchangeID, status: Int, fields: [(name: String, value: String)], bodyLength: UInt64?)
    /// Sends a piece of the response body (always taken; see ``writableBytes(_:)``).
    func sendBody(_ exchange: HTTPExchangeID, _ bytes: UnsafeRawBufferPointer)
    /// How many body bytes the session can take now without buffering beyond its bound.
    func writableBytes(_ exchange: HTTPExchangeID) -> Int
    /// Ends the response, with trailers when the body was streamed (ignored otherwise).
    func sendEnd(_ exchange: HTTPExchangeID, trailers: [(name: String, value: String)])
    /// Gives up on the exchange (a handler failed after its head went out, or a timeout).
    func reset(_ exchange: HTTPExchangeID)
    /// The handler consumed `count` bytes of request body delivered by `receiveBody`.
    func bodyConsumed(_ exchange: HTTPExchangeID, count: Int)
    /// Whether ``sendFileRegion(_:descriptor:offset:count:completion:)`` would take a region now.
    func canSendFileRegion(_ exchange: HTTPExchangeID) -> Bool
    /// Sends `count` body bytes of the file `descriptor` from `offset` zero-copy (taking the
    /// descriptor); `completion` runs once, with true when all went out. False, taking nothing,
    /// when the session cannot now (HTTP/2, TLS, inside `receive`): write the bytes instead.
    /// A default in HTTPServerIO+FileRegion.swift says no; the HTTP/1.1 session says yes.
    func sendFileRegion(_ exchange: HTTPExchangeID, descriptor: Int32, offset: UInt64, count: UInt64,
                        completion: @escaping (_ sent: Bool) -> Void) -> Bool
    /// Runs closures on this sink's loop thread (for async handlers coming back).
    var executor: HTTPServerLoopExecutor { get }
    /// The loop's shared state: configuration, the Date cache.
    var context: HTTPServerLoopContext { get }
}

/// Runs closures on one loop's thread; what an async handler uses to come back to its session.
struct HTTPServerLoopExecutor: Sendable {
    /// Queues `task` on the loop; false (task dropped) once the loop has stopped.
    let execute: @Sendable (_ task: @escaping @Sendable () -> Void) -> Bool
}
