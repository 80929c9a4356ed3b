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
