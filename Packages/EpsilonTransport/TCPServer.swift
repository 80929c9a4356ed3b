import Synchronization

private let serverIDs = Atomic<UInt64>(1)

/// A TCP (or Unix) server spread over a loop group, with graceful shutdown.
///
/// With ``Distribution/reusePort`` every loop owns a listener on the same port and the kernel
/// spreads connections (`SO_REUSEPORT`); with ``Distribution/acceptOnFirstLoop`` one loop
/// accepts and hands descriptors round-robin to all loops (for Unix sockets and systems without
/// `SO_REUSEPORT`).
public final class TCPServer: Sendable {
    /// How accepted connections are spread across loops.
    public enum Distribution: Sendable {
        /// One `SO_REUSEPORT` listener per loop.
        case reusePort
        /// One listener on the first loop; accepted descriptors go round-robin to every loop.
        case acceptOnFirstLoop
    }

    /// The bound address (with the real port when port 0 was asked for).
    public let localAddress: SocketEndpoint
    /// The group serving connections.
    public let group: IOLoopGroup
    private let id: UInt64
    private let listeners: [LoopBound<Listener>]

    private init(localAddress: SocketEndpoint, group: IOLoopGroup, id: UInt64, listeners: [LoopBound<Listener>]) {
        self.localAddress = localAddress
        self.group = group
        self.id = id
        self.listeners = listeners
    }

    /// Binds and starts accepting; each connection is driven by a handler from `makeHandler`,
    /// called on the connection's loop.
    public static func start(on group: IOLoopGroup, address: SocketEndpoint,
                             options: ListenerOptions = ListenerOptions(),
                             distribution: Distribution = .reusePort,
                             makeHandler: @escaping @Sendable () -> any ConnectionHandler) async throws(TransportError) -> TCPServer {
        try await start(on: group, address: address, options: options, distribution: distribution, admission: nil,
                        makeHandler: makeHandler)
    }

    /// ``start(on:address:options:distribution:makeHandler:)`` with a bound on accepted
    /// connections not yet taken by their consumer (``AsyncListener``).
    static func start(on group: IOLoopGroup, address: SocketEndpoint, options: ListenerOptions,
                      distribution: Distribution, admission: AcceptQueue?,
                      makeHandler: @escaping @Sendable () -> any ConnectionHandler) async throws(TransportError) -> TCPServer {
        let id = serverIDs.wrappingAdd(1, ordering: .relaxed).oldValue
        var isUnix = false
        if case .unixPath = address { isUnix = true }
        let useReusePort = distribution == .reusePort && group.loops.count > 1 && !isUnix
        var listeners: [LoopBound<Listener>] = []
        var bound = address
        let loopsToListen = useReusePort ? group.loops : [group.loops[0]]
        var listenOptions = options
        if useReusePort { listenOptions.reusePort = true }
        let finalOptions = listenOptions
        do throws(TransportError) {
            for loop in loopsToListen {
                let target = bound
                let listener = try await loop.submit { () throws(TransportError) -> LoopBound<Listener> in
                    let listener = try Listener.open(on: loop, address: target, options: finalOptions, admission: admission)
                    listener.serverID = id
                    let connectionOptions = finalOptions.connection
                    let family = target.family
                    if useReusePort || group.loops.count == 1 {
                        listener.acceptor = { [unowned loop] fd in
                            Connection.apply(connectionOptions, to: fd, family: family)
                            _ = Connection.adopt(fd, on: loop, options: connectionOptions, handler: makeHandler(), serverID: id)
                        }
                    } else {
                        listener.acceptor = { [unowned loop] fd in
                            Connection.apply(connectionOptions, to: fd, family: family)
                            let target = group.next()
                            if target === loop {
                                _ = Connection.adopt(fd, on: loop, options: connectionOptions, handler: makeHandler(), serverID: id)
                            } else if !target.execute({
                                _ = Connection.adopt(fd, on: target, options: connectionOptions, handler: makeHandler(), serverID: id)
                            }) {
                                closeDescriptor(fd)
                                admission?.release()
                            }
                        }
                    }
                    return LoopBound(listener, loop: loop)
                }
                if listeners.isEmpty {
                    bound = try await loop.submit { listener.value.localAddress }
                }
                listeners.append(listener)
            }
        } catch {
            for listener in listeners {
                _ = try? await listener.loop.submit { listener.value.close() }
            }
            throw error
        }
        return TCPServer(localAddress: bound, group: group, id: id, listeners: listeners)
    }

    /// Open connections accepted by this server, summed over the group's loops.
    public func connectionCount() async -> Int {
        var total = 0
        let id = self.id
        for loop in group.loops {
            total += (try? await loop.submit { loop.core.serverConnections[id]?.count ?? 0 }) ?? 0
        }
        return total
    }

    /// Accepts again on every listener that held its accepts because the consumer's queue was
    /// full (see ``AsyncListener``). Thread-safe.
    func resumeAccepting() {
        for listener in listeners {
            listener.loop.execute { listener.value.resumeAccepting() }
        }
    }

    /// Stops accepting (closes the listeners) without touching open connections.
    public func stopAccepting() async {
        for listener in listeners {
            _ = try? await listener.loop.submit { listener.value.close() }
        }
    }

    /// Graceful shutdown: stop accepting, ask every connection to drain
    /// (``ConnectionHandler/connectionShouldDrain(_:)``), wait up to `gracePeriod` for them to
    /// close, then close whatever is left. Returns how many had to be closed by force. A
    /// cancelled task stops waiting for the grace period and closes the rest at once.
    @discardableResult
    public func shutdown(gracePeriod: Duration = .seconds(10)) async -> Int {
        await stopAccepting()
        let id = self.id
        for loop in group.loops {
            _ = try? await loop.submit {
                for connection in Array((loop.core.serverConnections[id] ?? [:]).values) {
                    connection.handler.connectionShouldDrain(connection)
                }
            }
        }
        let deadline = ContinuousClock.now.advanced(by: gracePeriod)
        while !Task.isCancelled, await connectionCount() > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        var forced = 0
        for loop in group.loops {
            forced += (try? await loop.submit { () -> Int in
                let left = Array((loop.core.serverConnections[id] ?? [:]).values)
                for connection in left { connection.close(error: .closed) }
                loop.core.serverConnections[id] = nil
                return left.count
            }) ?? 0
        }
        return forced
    }
}
