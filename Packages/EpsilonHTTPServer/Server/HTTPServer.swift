public import EpsilonTLS
public import EpsilonTransport

/// An HTTP server: HTTP/1.1 (and HTTP/2, by ALPN over TLS or in cleartext when configured)
/// on an ``IOLoopGroup``, serving an ``HTTPRouter``'s routes.
///
/// ```swift
/// let group = try IOLoopGroup()
/// var router = HTTPRouter()
/// try router.get("/hello", fixed: HTTPFixedResponse(status: 200, contentType: "text/plain", body: "Hello, World!"))
/// let server = try await HTTPServer.start(on: group, address: .ipv4("127.0.0.1", port: 8080), router: router)
/// print("listening on \(server.localAddress)")
/// // ...
/// await server.shutdown(gracePeriod: .seconds(10))
/// ```
public final class HTTPServer: Sendable {
    /// The bound address (with the real port when port 0 was asked for).
    public var localAddress: SocketEndpoint { listener.localAddress }
    /// The configuration it serves with.
    public let configuration: HTTPServerConfiguration
    /// Whether connections run TLS.
    public let isSecure: Bool
    private let listener: TCPServer

    private init(listener: TCPServer, configuration: HTTPServerConfiguration, isSecure: Bool) {
        self.listener = listener
        self.configuration = configuration
        self.isSecure = isSecure
    }

    /// Binds `address` and serves `router` on every loop of `group` (one `SO_REUSEPORT`
    /// listener per loop). With `tls` every connection runs TLS (make the context with
    /// ``tlsContext(certificateFile:privateKeyFile:)`` for ALPN `h2` and `http/1.1`); its
    /// handshake must finish within ``HTTPServerConfiguration/silentTimeout``.
    public static func start(on group: IOLoopGroup, address: SocketEndpoint, router: HTTPRouter,
                             configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
                             tls: TLSContext? = nil,
                             options: ListenerOptions = ListenerOptions()) async throws(TransportError) -> HTTPServer {
        var options = options
        if let tls {
            var tlsOptions = TLSOptions.server(tls)
            tlsOptions.handshakeTimeout = configuration.silentTimeout
            options.connection.tls = tlsOptions
        }
        let dispatcher = HTTPRouterDispatcher(router: router)
        var contexts: [LoopBound<HTTPServerLoopContext>] = []
        for loop in group.loops {
            contexts.append(try await loop.submit {
                LoopBound(HTTPServerLoopContext(configuration: configuration, dispatcher: dispatcher), loop: loop)
            })
        }
        let loopContexts = contexts
        let highWatermark = options.connection.watermarks.high
        let listener = try await TCPServer.start(on: group, address: address, options: options) {
            // Called on the connection's loop: take that loop's context.
            let context = loopContexts.first { $0.loop.inEventLoop }!.value
            return HTTPServerConnectionHandler(writeHighWatermark: highWatermark) { io in
                HTTPServerSessions.makeInitial(io: io, context: context)
            }
        }
        return HTTPServer(listener: listener, configuration: configuration, isSecure: tls != nil)
    }

    /// The server TLS context for `--cert/--key`: the chain (PEM, leaf first) and key, TLS 1.2
    /// and 1.3 with forward-secret suites, ALPN `h2` preferred over `http/1.1`.
    public static func tlsContext(certificateFile: String, privateKeyFile: String) throws(TLSError) -> TLSContext {
        try TLSContext(server: TLSServerConfiguration(
            identity: TLSIdentity(certificateFile: certificateFile, privateKeyFile: privateKeyFile),
            applicationProtocols: ["h2", "http/1.1"]))
    }

    /// Open connections.
    public func connectionCount() async -> Int {
        await listener.connectionCount()
    }

    /// Stops accepting without touching open connections.
    public func stopAccepting() async {
        await listener.stopAccepting()
    }

    /// Graceful shutdown: stop accepting; in-flight requests finish (HTTP/1.1 with
    /// `Connection: close`, HTTP/2 after GOAWAY), idle connections close at once; whatever is
    /// still open after `gracePeriod` is closed. Returns how many connections were closed by force.
    @discardableResult
    public func shutdown(gracePeriod: Duration = .seconds(10)) async -> Int {
        await listener.shutdown(gracePeriod: gracePeriod)
    }
}
