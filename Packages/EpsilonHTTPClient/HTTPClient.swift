public import EpsilonTransport
import EpsilonTLS
import Synchronization

/// An HTTP/1.1 client over Epsilon's transport: a connection pool per origin, TLS, streaming
/// bodies with back-pressure, transparent `gzip`/`deflate` decoding, timeouts with typed errors
/// and cancellation.
///
/// ```swift
/// let response = try await HTTPClient.shared.get("https://api.example.com/data",
///                                                headers: ["Authorization": "Bearer …"])
/// let data = try await response.body.collect(upTo: 1 << 20)
///
/// let client = HTTPClient(configuration: configuration)    // an owned client…
/// defer { Task { await client.shutdown() } }               // …is shut down when done
/// try await client.post("https://api.example.com/items", json: item)
/// ```
///
/// Every method is safe to call from any task, concurrently. Cancelling the calling task
/// cancels the request: the connection is closed and its pool slot freed.
public final class HTTPClient: Sendable {
    /// A client with the default configuration, for simple use: it is never shut down.
    public static let shared = HTTPClient()

    /// The configuration the client was made with.
    public let configuration: HTTPClientConfiguration
    let group: IOLoopGroup
    private let ownsGroup: Bool
    let pool: ConnectionPool
    /// Opens connections: TCP, proxy tunnels, TLS with session resumption.
    let connector: ClientConnector

    /// A client with its own event loops (``HTTPClientConfiguration/loopCount``); call
    /// ``shutdown()`` when done with it.
    public convenience init(configuration: HTTPClientConfiguration = HTTPClientConfiguration()) {
        // The loops need epoll (or poll): a system that refuses both cannot run any client.
        let group = (try? IOLoopGroup(loopCount: max(1, configuration.loopCount)))
            ?? (try! IOLoopGroup(loopCount: max(1, configuration.loopCount), backend: .poll))
        self.init(configuration: configuration, group: group, ownsGroup: true)
    }

    /// A client on the caller's event loops (not stopped by ``shutdown()``).
    public convenience init(configuration: HTTPClientConfiguration = HTTPClientConfiguration(), group: IOLoopGroup) {
        self.init(configuration: configuration, group: group, ownsGroup: false)
    }

    private init(configuration: HTTPClientConfiguration, group: IOLoopGroup, ownsGroup: Bool) {
        self.configuration = configuration
        self.group = group
        self.ownsGroup = ownsGroup
        pool = ConnectionPool(configuration: configuration.pool, timerLoop: group.next())
        connector = ClientConnector(configuration: configuration, group: group)
    }

    /// Closes idle connections, fails waiting requests with ``HTTPClientError/shutDown``, and
    /// stops the client's own loops. Requests in flight on a client's own loops fail.
    public func shutdown() async {
        pool.shutdown()
        if ownsGroup { await group.shutdown() }
    }

    /// What the connection pool holds now.
    public var poolStatistics: HTTPClientPoolStatistics {
        let statistics = pool.statistics
        return HTTPClientPoolStatistics(openConnections: statistics.openConnections,
                                        idleConnections: statistics.idleConnections,
                                        connectionsOpened: statistics.connectionsOpened,
                                        waitingRequests: statistics.waiters)
    }
}

/// A snapshot of an ``HTTPClient``'s connection pool.
public struct HTTPClientPoolStatistics: Sendable, Hashable {
    /// Connections open or being opened, idle ones included.
    public var openConnections: Int
    /// Connections waiting in the pool for a request.
    public var idleConnections: Int
    /// Connections opened since the client was made.
    public var connectionsOpened: Int
    /// Requests waiting for a connection.
    public var waitingRequests: Int
}
