public import EpsilonHTTPServer
public import EpsilonTLS
public import EpsilonTransport
public import ServiceLifecycle

/// An ``HTTPServer`` as a swift-service-lifecycle `Service`: `run()` binds and serves until
/// graceful shutdown is triggered (or the task is cancelled), then drains — in-flight requests
/// get `gracePeriod` to finish — and returns.
///
/// ```swift
/// let group = try IOLoopGroup()
/// let service = HTTPServerService(group: group, address: try .ipv4("127.0.0.1", port: 8080),
///                                 router: HTTPServerDemoRoutes.router())
/// let runner = ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
/// try await runner.run()
/// ```
public struct HTTPServerService: Service {
    /// The loops the server runs on (owned by the caller).
    public let group: IOLoopGroup
    /// Where it listens.
    public let address: SocketEndpoint
    /// What it serves.
    public let router: HTTPRouter
    /// Its limits and timeouts.
    public let configuration: HTTPServerConfiguration
    /// TLS, when set.
    public let tls: TLSContext?
    /// How long in-flight requests may take to finish once shutdown starts.
    public let gracePeriod: Duration
    /// Called once the server listens, with its bound address (port 0 resolved).
    public let onListening: @Sendable (SocketEndpoint) -> Void

    /// A service serving `router` on `address`.
    public init(group: IOLoopGroup, address: SocketEndpoint, router: HTTPRouter,
                configuration: HTTPServerConfiguration = HTTPServerConfiguration(), tls: TLSContext? = nil,
                gracePeriod: Duration = .seconds(10), onListening: @escaping @Sendable (SocketEndpoint) -> Void = { _ in }) {
        self.group = group
        self.address = address
        self.router = router
        self.configuration = configuration
        self.tls = tls
        self.gracePeriod = gracePeriod
        self.onListening = onListening
    }

    /// Serves until graceful shutdown or cancellation, then drains.
    public func run() async throws {
        let server = try await HTTPServer.start(on: group, address: address, router: router,
                                                configuration: configuration, tls: tls)
        onListening(server.localAddress)
        // Returns when shutdown is triggered; throws when the task is cancelled.
        try? await gracefulShutdown()
        await server.shutdown(gracePeriod: Task.isCancelled ? .zero : gracePeriod)
    }
}
