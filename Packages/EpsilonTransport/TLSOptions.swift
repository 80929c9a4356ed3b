import EpsilonTLS

/// TLS for a stream connection: the connection puts a `TLSEngine` made from these options
/// between its socket and its handler.
///
/// Set it as ``SocketOptions/tls`` (for a client connection) or
/// `ListenerOptions.connection.tls` (for every connection a server accepts). The handler then
/// reads and writes plaintext; ``Connection/tlsEngine`` tells it the negotiated version, ALPN
/// protocol and peer certificate once
/// ``ConnectionHandler/connectionDidCompleteTLSHandshake(_:)`` has run.
///
/// ```swift
/// var options = ListenerOptions()
/// options.connection.tls = .server(try TLSContext(server: TLSServerConfiguration(
///     identity: TLSIdentity(certificateFile: "chain.pem", privateKeyFile: "key.pem"),
///     applicationProtocols: ["http/1.1"])))
///
/// var client = SocketOptions()
/// client.tls = .client(try TLSContext(client: TLSClientConfiguration()), serverName: "example.com")
/// ```
public struct TLSOptions: Sendable {
    /// The context every engine is made from; its role says whether the connection is the TLS
    /// client or the TLS server.
    public var context: TLSContext
    /// Client only: the host to reach, sent as SNI and checked against the certificate (see
    /// `TLSEngine.init(context:serverName:resuming:)`).
    public var serverName: String?
    /// Client only: a session from an earlier connection to resume (`TLSEngine.session`).
    public var session: TLSSession?
    /// How long the handshake may take, from the moment the TCP connection is up; past it the
    /// connection is closed with ``TransportError/tlsHandshakeTimeout``. Default 10 seconds, so
    /// a peer that connects and sends nothing (or half a handshake) cannot hold a descriptor
    /// and the engine's memory for long; nil: no deadline.
    public var handshakeTimeout: Duration? = .seconds(10)
    /// Client only: called on the connection's loop with each session the server issues (a
    /// TLS 1.3 ticket after the handshake, a TLS 1.2 session at its end), to offer on a later
    /// connection to the same server as ``session``. Nil: sessions are not reported.
    public var sessionHandler: (@Sendable (TLSSession) -> Void)?

    /// Options for engines made from `context`, with the client-only values.
    public init(context: TLSContext, serverName: String? = nil, resuming session: TLSSession? = nil) {
        self.context = context
        self.serverName = serverName
        self.session = session
    }

    /// The TLS server side, with a server context.
    public static func server(_ context: TLSContext) -> TLSOptions {
        TLSOptions(context: context)
    }

    /// The TLS client side: `serverName` is sent as SNI and, with full verification, must
    /// match the server's certificate.
    public static func client(_ context: TLSContext, serverName: String?, resuming session: TLSSession? = nil) -> TLSOptions {
        TLSOptions(context: context, serverName: serverName, resuming: session)
    }

    /// A fresh engine for one connection.
    func makeEngine() throws(TLSError) -> TLSEngine {
        try TLSEngine(context: context, serverName: serverName, resuming: session)
    }
}
