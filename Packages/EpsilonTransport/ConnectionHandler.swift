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
    /// ``Connection/isWritable`` flipped: the write queue crossed a watermark. While it is false
    /// the connection does not read (unless ``Connection/pausesReadingAboveHighWatermark`` was
    /// turned off), so a handler need not pause reading itself.
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
