// How a protocol session talks to its socket, so that sessions are sans-IO-testable: the
// transport's Connection satisfies this through `HTTPServerConnectionHandler`, and
// `HTTPServerMemoryIO` satisfies it in memory (unit tests, the fuzzer).

import EpsilonTransport

/// The socket side of one connection, as a session sees it. Loop thread only.
protocol HTTPServerIO: AnyObject {
    /// Appends output in place to the write queue (`body` must only append). Nothing is
    /// written once the connection is closed.
    func write(_ body: (inout [UInt8]) -> Void)
    /// Bytes queued and not yet handed to the kernel.
    var pendingWriteBytes: Int { get }
    /// The write queue's high watermark: a session keeps what it queues near or below it.
    var writeHighWatermark: Int { get }
    /// False from when the write queue went above its high watermark until it drained to its
    /// low one (then ``HTTPServerSession/writabilityChanged(isWritable:)`` reports it).
    var isWritable: Bool { get }
    /// Hands the queued bytes to the kernel now instead of at the end of the loop tick (so
    /// an interim `100 Continue` leaves in its own segment; some proxies lose a request body
    /// when the `100` and the final head arrive together).
    func flushNow()
    /// Closes once the queued bytes are written.
    func closeAfterFlush()
    /// Closes now, dropping queued bytes (RST).
    func abort()
    /// Half-closes: FIN once the queued bytes are written; reading goes on (a WebSocket
    /// server closes first, RFC 6455 §7.1.1).
    func shutdownOutput()
    /// Stops delivering reads until ``resumeReading()``.
    func pauseReading()
    /// Delivers reads again.
    func resumeReading()
    /// The session's one timer: ``HTTPServerSession/handleTimer(now:)`` runs at (or soon
    /// after) `deadline` on ``now``'s clock; a later call replaces it, nil cancels it.
    func setTimer(at deadline: UInt64?)
    /// Now, in nanoseconds on the monotonic clock timers use.
    var now: UInt64 { get }
    /// Runs closures on this connection's loop thread.
    var executor: HTTPServerLoopExecutor { get }
    /// With TLS: the ALPN protocol agreed in the handshake (nil before it or without ALPN).
    var negotiatedApplicationProtocol: String? { get }
    /// Whether the connection runs TLS.
    var isSecure: Bool { get }
    /// Hands the connection to another session (protocol selection, `Upgrade: h2c`): it
    /// receives `start()`, then `bytes` (copied: read bytes the old session did not consume,
    /// may be empty), then every later event. The old session gets no more events.
    func switchSession(to session: any HTTPServerSession, replaying bytes: UnsafeRawBufferPointer)
    /// Whether ``sendFile(descriptor:offset:count:progress:completion:)`` works here (cleartext
    /// on a readiness loop; a default in HTTPServerIO+FileRegion.swift says no).
    var canSendFiles: Bool { get }
    /// Queues a file part after the queued bytes, sent zero-copy; takes `descriptor` (closed
    /// when done or on close), calls `progress` after each partial send and `completion` once.
    /// False, taking nothing, when it cannot.
    func sendFile(descriptor: Int32, offset: UInt64, count: UInt64, progress: @escaping () -> Void,
                  completion: @escaping (_ sent: Bool) -> Void) -> Bool
    /// Queues `shared` after the queued bytes, by reference where the socket can (a broadcast
    /// frame that many connections send), unless the write queue is above its high watermark
    /// and would then hold more than `limit` bytes: false then, and nothing is queued. A
    /// default in WebSocket/HTTPServerIO+SharedBytes.swift copies the bytes with ``write(_:)``.
    func write(shared: ConnectionSharedBytes, limit: Int) -> Bool
}

/// One connection's protocol driver (HTTP/1.1, HTTP/2, or a selector that picks one), fed by
/// an ``HTTPServerIO``. Loop thread only.
protocol HTTPServerSession: AnyObject {
    /// The connection is open (with TLS: before the handshake).
    func start()
    /// With TLS: the handshake completed (ALPN is known now).
    func tlsHandshakeCompleted()
    /// Bytes arrived, borrowed for the call.
    func receive(_ bytes: UnsafeRawBufferPointer)
    /// The peer finished sending.
    func receiveEndOfStream()
    /// The write queue fell below its low watermark (after having been above the high one).
    func writabilityChanged(isWritable: Bool)
    /// The timer set with ``HTTPServerIO/setTimer(at:)`` is due.
    func handleTimer(now: UInt64)
    /// Graceful shutdown: finish what is in flight, then close (HTTP/2: GOAWAY).
    func drain()
    /// The connection closed (orderly or not): abort every exchange still open.
    func closed()
}
