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
