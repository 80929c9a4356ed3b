public import EpsilonHTTPClient
public import EpsilonTLS
public import EpsilonWebSocketDeflate

/// How a WebSocket client connects: handshake fields, subprotocols, permessage-deflate, TLS,
/// limits, time limits and the heartbeat.
///
/// ```swift
/// var configuration = WebSocketClientConfiguration()
/// configuration.subprotocols = ["chat.v2"]
/// configuration.compression = WebSocketDeflateClientOffer(clientMaxWindowBits: 0)
/// configuration.heartbeat = WebSocketClientHeartbeat(interval: .seconds(20), pongTimeout: .seconds(5))
/// ```
public struct WebSocketClientConfiguration: Sendable {
    /// Extra request fields (for example `Authorization`, `Origin`). The handshake's own fields
    /// (Host, Upgrade, Connection, Sec-WebSocket-*) are set by the client and must not be here.
    public var headers: [(name: String, value: String)] = []
    /// Subprotocols offered, in order of preference (Sec-WebSocket-Protocol).
    public var subprotocols: [String] = []
    /// The permessage-deflate offer with its parameters, or nil (the default) not to offer it.
    public var compression: WebSocketDeflateClientOffer?
    /// TLS for `wss://`: trust roots (default: the system store), verification, client identity,
    /// version policy. The URL's host is sent as SNI (IP literals aside).
    public var tls = TLSClientConfiguration(applicationProtocols: ["http/1.1"])
    /// The SNI and certificate name to use instead of the URL's host, if any.
    public var serverName: String?
    /// An HTTP proxy to open a `CONNECT` tunnel through, or nil.
    public var proxy: HTTPClientProxy?
    /// The longest frame payload accepted from the server. Default 16 MiB.
    public var maxFrameSize: UInt64 = 16 << 20
    /// The longest message accepted from the server, inflated size included. Default 16 MiB.
    public var maxMessageSize: Int = 16 << 20
    /// How long the TCP (and TLS) connect may take. Default 10 s.
    public var connectTimeout: Duration = .seconds(10)
    /// How long the opening handshake may take after the connect. Default 10 s.
    public var handshakeTimeout: Duration = .seconds(10)
    /// How long the server has to answer our Close before the TCP connection is dropped. Default 5 s.
    public var closeTimeout: Duration = .seconds(5)
    /// Pings on an interval and a pong deadline, or nil (the default) for none.
    public var heartbeat: WebSocketClientHeartbeat?
    /// Bytes read from the socket but not yet taken by the application before reading pauses
    /// (back-pressure). Default 256 KiB.
    public var receiveBufferLimit = 256 * 1024

    /// The defaults: no subprotocol, no compression, system trust, no heartbeat.
    public init() {}
}

/// Keep-alive and dead-peer detection: a Ping every ``interval``; when no Pong arrives within
/// ``pongTimeout`` the connection is declared dead (``WebSocketClientError/heartbeatTimeout``)
/// and closed, and a ``ReconnectingWebSocket`` reconnects.
///
/// Pongs are seen as the connection is read: a ``ReconnectingWebSocket`` and `epsilon ws` read
/// all the time; with ``WebSocketClient/connect(to:configuration:group:_:)`` keep iterating
/// the inbound messages for the heartbeat to see the Pongs.
public struct WebSocketClientHeartbeat: Sendable, Hashable {
    /// Time between Pings.
    public var interval: Duration
    /// How long a Ping may stay unanswered.
    public var pongTimeout: Duration

    /// Creates a heartbeat.
    public init(interval: Duration, pongTimeout: Duration) {
        self.interval = interval
        self.pongTimeout = pongTimeout
    }
}
