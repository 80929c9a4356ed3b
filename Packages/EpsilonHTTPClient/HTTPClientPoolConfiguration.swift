/// Limits of an ``HTTPClient``'s connection pool (one pool per origin and TLS configuration).
public struct HTTPClientPoolConfiguration: Sendable, Hashable {
    /// Connections open at once to one origin (scheme, host, port). Default 8.
    public var maxConnectionsPerHost = 8
    /// Connections open at once over all origins. Default 256.
    public var maxConnections = 256
    /// An idle connection is closed after this long unused. Default 60 s.
    public var idleTimeout: Duration = .seconds(60)
    /// A connection is not reused once it has been open this long; nil: no limit. Default nil.
    public var maxLifetime: Duration? = nil
    /// Requests that may wait for a connection at once; one more fails with
    /// ``HTTPClientError/poolExhausted``. Waiters are served first come, first served. Default 10,000.
    public var maxWaiters = 10_000

    /// The defaults above.
    public init() {}
}
