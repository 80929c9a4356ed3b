/// The seam between the transport and a sans-IO protocol machine.
///
/// A handler is driven inline on its connection's loop thread: the loop reads into its own
/// reusable buffer and hands that memory straight to ``connection(_:didRead:)`` (no copy, no
/// thread hop); whatever the handler writes is queued and flushed with one gathered write
/// when the callback returns. The bytes are valid only during the call: a machine that keeps
/// a view beyond it must copy.
///
/// ```swift
/// final class Echo: ConnectionHandler {
///     func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
///         connection.write(bytes)
///     }
/// }
/// ```
public protocol ConnectionHandler: AnyObject {
    /// The connection is established (accepted, or its connect finished). With TLS this is
    /// the TCP connection: the handshake has not run yet, but writes may already be made (the
    /// engine holds them until the handshake completes).
    func connectionDidBecomeActive(_ connection: Connection)
    /// With TLS: the handshake completed; ``Connection/tlsEngine`` now reports the negotiated
    /// version, cipher suite, ALPN protocol and peer certificate. Runs before the first
    /// plaintext is delivered. Never called without TLS.
    func connectionDidCompleteTLSHandshake(_ connection: Connection)
    /// Bytes arrived; `bytes` points into the loop's read buffer and is valid only during the call.
    /// With TLS they are plaintext, in a loop-owned scratch buffer, valid for the call too.
    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer)
    /// The peer shut down its sending side (with TLS: its `close_notify` arrived; an end of
    /// stream without it closes the connection with ``TransportError/tls(_:)`` and
    /// `TLSError.truncated` instead). The default closes once queued writes are flushed.
    func connectionDidReadEOF(_ connection: Connection)
    /// ``Connection/isWritable`` flipped: the write queue crossed a watermark.
    func connectionWritabilityDidChange(_ connection: Connection)
    /// The server is shutting down gracefully. The default closes once queued writes are
    /// flushed; a protocol handler may instead finish its current message first.
    func connectionShouldDrain(_ connection: Connection)
    /// The connection closed; `error` is nil for a local, orderly close. Called exactly once.
    /// A TLS failure arrives here as ``TransportError/tls(_:)``.
    func connectionDidClose(_ connection: Connection, error: TransportError?)
}

extension ConnectionHandler {
    /// Does nothing.
    public func connectionDidBecomeActive(_ connection: Connection) {}
    /// Does nothing.
    public func connectionDidCompleteTLSHandshake(_ connection: Connection) {}
    /// Closes the connection once queued writes are flushed.
    public func connectionDidReadEOF(_ connection: Connection) { connection.closeAfterFlush() }
    /// Does nothing.
    public func connectionWritabilityDidChange(_ connection: Connection) {}
    /// Closes the connection once queued writes are flushed.
    public func connectionShouldDrain(_ connection: Connection) { connection.closeAfterFlush() }
    /// Does nothing.
    public func connectionDidClose(_ connection: Connection, error: TransportError?) {}
}

/// Write-queue thresholds for back-pressure: ``Connection/isWritable`` turns false above
/// `high` pending bytes and true again at or below `low`.
public struct WriteWatermarks: Sendable, Hashable {
    /// Pending bytes at or below which the connection is writable again.
    public var low: Int
    /// Pending bytes above which the connection stops being writable.
    public var high: Int
    /// Creates watermarks; `low` is clamped to at most `high`.
    public init(low: Int = 32 * 1024, high: Int = 64 * 1024) {
        self.high = max(high, 1)
        self.low = min(max(low, 0), self.high)
    }
}

/// Options applied to a stream socket (TCP or Unix).
public struct SocketOptions: Sendable {
    /// `TCP_NODELAY` (TCP only; ignored for Unix sockets). Default true.
    public var noDelay: Bool = true
    /// `SO_KEEPALIVE` with this idle time before the first probe; nil leaves keep-alive off.
    public var keepAlive: Duration? = nil
    /// `SO_RCVBUF`, if set.
    public var receiveBufferSize: Int? = nil
    /// `SO_SNDBUF`, if set.
    public var sendBufferSize: Int? = nil
    /// Back-pressure thresholds for the write queue.
    public var watermarks = WriteWatermarks()
    /// Stop reading while the write queue holds more than `watermarks.high` bytes and start
    /// again at `watermarks.low` (see ``Connection/pausesReadingAboveHighWatermark``). Default
    /// true, so a peer that never reads what it asked for cannot grow the queue without bound.
    public var pausesReadingAboveHighWatermark = true
    /// Close the connection after this long without reads or writes; nil: never.
    public var idleTimeout: Duration? = nil
    /// Run TLS on the connection (an engine between the socket and the handler); nil: plain.
    public var tls: TLSOptions? = nil
    /// Creates default options.
    public init() {}
}

/// Options for a listening socket.
public struct ListenerOptions: Sendable {
    /// `listen(2)` backlog. Default 4096 (the kernel caps it at `somaxconn`).
    public var backlog: Int32 = 4096
    /// `SO_REUSEADDR`. Default true.
    public var reuseAddress = true
    /// `SO_REUSEPORT`, so several loops can each own a listener on one port. Default false.
    public var reusePort = false
    /// Remove a stale Unix socket file before binding. Default true.
    public var removeStaleUnixSocket = true
    /// Options for each accepted connection.
    public var connection = SocketOptions()
    /// Creates default options.
    public init() {}
}
