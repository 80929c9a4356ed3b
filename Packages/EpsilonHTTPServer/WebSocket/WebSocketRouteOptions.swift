public import EpsilonWebSocket
public import EpsilonWebSocketDeflate

/// What a WebSocket route does when a message does not fit its connection's outbound queue
/// (the peer reads slower than the server writes).
public enum WebSocketBackpressurePolicy: Sendable, Hashable {
    /// The async writer waits until the queue has room. Sends that cannot wait (the inline
    /// tier outside an answer to input, broadcast deliveries) drop the message instead, so a
    /// slow member never holds up its loop or the publisher.
    case wait
    /// The message is dropped (``WebSocketServerSendResult/dropped``); the connection stays open.
    case drop
    /// The connection is closed with this code (1008 policy violation or 1013 try again
    /// later are the usual ones); the Close frame is queued behind what is already queued.
    case close(WebSocketCloseCode)
}

/// Limits, timers and policies of one WebSocket route.
public struct WebSocketRouteOptions: Sendable {
    /// The largest message accepted, after decompression (default 16 MiB; larger: Close 1009).
    public var maxMessageSize = 16 << 20
    /// The largest frame payload accepted (default 16 MiB).
    public var maxFramePayload = 16 << 20
    /// permessage-deflate (RFC 7692) as the server accepts it; nil never compresses. The
    /// default accepts a client's offer with the parameters it asks for.
    public var compression: WebSocketDeflateServerPolicy? = WebSocketDeflateServerPolicy()
    /// zlib memLevel for the server's compressor; nil picks it from the negotiated window
    /// (``WebSocketDeflateCompressor/memoryLevel(forWindowBits:)``).
    public var compressionMemoryLevel: Int32?
    /// A Ping is sent after this long without input (nil: no heartbeat; default 30 s).
    public var pingInterval: Duration? = .seconds(30)
    /// After a heartbeat Ping, how long the peer has to send anything (a Pong or any frame)
    /// before the connection is dropped without a Close handshake (reported as 1006).
    public var pongTimeout: Duration = .seconds(10)
    /// The connection is closed (1000) after this long without a data message either way
    /// (nil: never; default nil).
    public var idleTimeout: Duration?
    /// How long the peer has to answer the server's Close (default 5 s), after which the
    /// connection is closed anyway.
    public var closeTimeout: Duration = .seconds(5)
    /// The most bytes queued for the socket and not yet written (default 1 MiB). A message that
    /// would go beyond is handled by ``backpressure``.
    public var maxQueuedBytes = 1 << 20
    /// What happens to a message that does not fit (default ``WebSocketBackpressurePolicy/wait``).
    public var backpressure = WebSocketBackpressurePolicy.wait
    /// Inbound messages the async tier buffers before reading pauses (default 64; the
    /// inline tier buffers none).
    public var inboundBufferCount = 64
    /// Origins allowed to connect (`Origin` header, compared exactly, e.g.
    /// `"https://example.com"`); nil allows any, including none. A refused origin gets 403.
    public var allowedOrigins: Set<String>?

    /// The defaults.
    public init() {}
}

/// What became of a message handed to a WebSocket connection.
public enum WebSocketServerSendResult: Sendable, Hashable {
    /// Queued for the socket.
    case sent
    /// Dropped by ``WebSocketBackpressurePolicy/drop`` (or ``WebSocketBackpressurePolicy/wait``
    /// where waiting is not possible).
    case dropped
    /// Not sent: the connection is closing or closed (or the policy closed it now).
    case closed
}
