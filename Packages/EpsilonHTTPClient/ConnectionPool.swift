import EpsilonTransport
import Synchronization

/// The client's connections, per origin: idle ones to reuse, limits per origin and in total, and
/// a first-come-first-served queue of requests waiting for a connection, each with a timeout.
///
/// The pool never opens connections itself: ``lease(_:timeout:mayMultiplex:)`` returns an idle
/// connection, a stream on an HTTP/2 connection, or a reserved slot (``Lease/open``) the caller
/// fills by connecting and reports with ``opened(_:multiplexed:)`` (or ``openFailed(_:)``); an
/// HTTP/1.1 connection comes back with ``release(_:reusable:)``.
///
/// An HTTP/2 connection counts as one connection against the limits and serves as many
/// requests at once as its peer allows; when all its streams are taken, another connection is
/// opened within the limits. While the first connection to an origin that may speak HTTP/2 is
/// being opened, further requests to it wait for that connection instead of opening their own.
final class ConnectionPool: Sendable {
    enum Lease: Sendable {
        /// An idle connection, now the caller's.
        case connection(HTTP1ClientConnection)
        /// A stream slot reserved on an HTTP/2 connection, now the caller's to start.
        case multiplexed(HTTP2ClientConnection)
        /// A slot reserved for a connection the caller opens.
        case open
    }

    private typealias Continuation = CheckedContinuation<Result<Lease, HTTPClientError>, Never>

    private struct Waiter {
        var id: UInt64
        var origin: ClientOrigin
        var continuation: Continuation
    }

    private struct OriginState {
        var idle: [HTTP1ClientConnection] = []
        /// HTTP/2 connections that take new streams.
        var multiplexed: [HTTP2ClientConnection] = []
        /// Open or opening connections, idle ones included.
        var open = 0
        /// Connections being opened.
        var opening = 0
        /// The last connection opened to the origin spoke HTTP/1.1.
        var speaksHTTP1 = false
    }

    private struct State {
        var origins: [ClientOrigin: OriginState] = [:]
        var total = 0
        var waiters: [Waiter] = []
        var nextWaiterID: UInt64 = 0
        var sweepArmed = false
        var isShutDown = false
        var opened = 0
    }

    /// What the pool holds, for tests and monitoring.
    struct Statistics: Sendable {
        var openConnections: Int
        var idleConnections: Int
        var connectionsOpened: Int
        var waiters: Int
    }

    private let state = Mutex(State())
    private let configuration: HTTPClientPoolConfiguration
    /// The loop that runs the pool's timers (idle sweeps, waiter timeouts).
    private let timerLoop: IOLoop

    init(configuration: HTTPClientPoolConfiguration, timerLoop: IOLoop) {
        self.configuration = configuration
        self.timerLoop = timerLoop
    }

    var statistics: Statistics {
        state.withLock { state in
            Statistics(openConnections: state.total,
                       idleConnections: state.origins.values.reduce(0) {
                           $0 + $1.idle.count + $1.multiplexed.count(where: { $0.idleSince != nil })
                       },
                       connectionsOpened: state.opened, waiters: state.waiters.count)
        }
    }

    // MARK: Lease

    /// An idle connection to `origin`, a stream on an HTTP/2 connection, a slot to open one, or
    /// a wait of at most `timeout` for one of them. `mayMultiplex`: a connection to `origin` may
    /// turn out to be HTTP/2, so a request waits for one being opened.
    func lease(_ origin: ClientOrigin, timeout: Duration?, mayMultiplex: Bool = false) async throws(HTTPClientError) -> Lease {
        let now = MonotonicClock.now()
        var stale: [HTTP1ClientConnection] = []
        defer { for connection in stale { connection.close() } }
        enum Immediate { case lease(Lease), wait(UInt64), fail(HTTPClientError) }
        let immediate = state.withLock { state -> Immediate in
            if state.isShutDown { return .fail(.shutDown) }
            if let connection = takeStream(origin, &state, now: now) { return .lease(.multiplexed(connection)) }
            if let connection = takeIdle(origin, &state, now: now, stale: &stale) { return .lease(.connection(connection)) }
            let awaitOpening = mayMultiplex && (state.origins[origin]?.opening ?? 0) > 0
                && state.origins[origin]?.speaksHTTP1 != true
            if !awaitOpening && reserveSlot(origin, &state, evicting: &stale) { return .lease(.open) }
            guard state.waiters.count < configuration.maxWaiters else { return .fail(.poolExhausted) }
            state.nextWaiterID &+= 1
            return .wait(state.nextWaiterID)
        }
        let id: UInt64
        switch immediate {
        case .lease(let lease): return lease
        case .fail(let error): throw error
        case .wait(let waiterID): id = waiterID
        }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: Continuation) in
                let enqueued = state.withLock { state -> Bool in
                    if state.isShutDown { return false }
                    state.waiters.append(Waiter(id: id, origin: origin, continuation: continuation))
                    return true
                }
                guard enqueued else {
                    continuation.resume(returning: .failure(.shutDown))
                    return
                }
                if Task.isCancelled { resumeWaiter(id, with: .cancelled) }
                if let timeout {
                    timerLoop.schedule(after: timeout) { [self] in self.resumeWaiter(id, with: .poolWaitTimeout) }
                }
            }
        } onCancel: {
            resumeWaiter(id, with: .cancelled)
        }
        return try result.get()
    }

    /// Fails the waiter `id` with `error` if it still waits.
    private func resumeWaiter(_ id: UInt64, with error: HTTPClientError) {
        let waiter = state.withLock { state -> Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        waiter?.continuation.resume(returning: .failure(error))
    }

    /// A stream slot on an HTTP/2 connection to `origin` that has room, if any.
    private func takeStream(_ origin: ClientOrigin, _ state: inout State, now: UInt64) -> HTTP2ClientConnection? {
        guard let connections = state.origins[origin]?.multiplexed else { return nil }
        for connection in connections where !outlived(connection.openedAt, now: now) {
            if connection.reserveStream() { return connection }
        }
        return nil
    }

    private func takeIdle(_ origin: ClientOrigin, _ state: inout State, now: UInt64,
                          stale: inout [HTTP1ClientConnection]) -> HTTP1ClientConnection? {
        guard state.origins[origin] != nil else { return nil }
        while let connection = state.origins[origin]!.idle.popLast() {
            if isExpired(connection, now: now) {
                state.origins[origin]!.open -= 1
                state.total -= 1
                stale.append(connection)
                continue
            }
            return connection
        }
        return nil
    }

    private func isExpired(_ connection: HTTP1ClientConnection, now: UInt64) -> Bool {
        now &- connection.idleSince >= configuration.idleTimeout.nanoseconds || outlived(connection.openedAt, now: now)
    }

    private func outlived(_ openedAt: UInt64, now: UInt64) -> Bool {
        guard let lifetime = configuration.maxLifetime else { return false }
        return now &- openedAt >= lifetime.nanoseconds
    }

    /// Reserves a slot for a new connection to `origin` if the limits allow, closing an idle
    /// connection of another origin when only the total limit is in the way.
    private func reserveSlot(_ origin: ClientOrigin, _ state: inout State, evicting: inout [HTTP1ClientConnection]) -> Bool {
        let open = state.origins[origin]?.open ?? 0
        guard open < configuration.maxConnectionsPerHost else { return false }
        if state.total >= configuration.maxConnections {
            guard let victim = state.origins.first(where: { $0.key != origin && !$0.value.idle.isEmpty })?.key else {
                return false
            }
            evicting.append(state.origins[victim]!.idle.removeFirst())
            state.origins[victim]!.open -= 1
            state.total -= 1
        }
        state.origins[origin, default: OriginState()].open += 1
        state.origins[origin]!.opening += 1
        state.total += 1
        state.opened += 1
        return true
    }

    // MARK: Release

    /// Gives back a leased connection: kept for reuse (or handed to a waiter) when `reusable`,
    /// else closed and its slot freed.
    func release(_ connection: HTTP1ClientConnection, reusable: Bool) {
        let origin = connection.origin
        var handOff: (Continuation, Lease)?
        var toClose: [HTTP1ClientConnection] = []
        var armSweep: UInt64?
        state.withLock { state in
            if reusable && !state.isShutDown && !outlived(connection.openedAt, now: MonotonicClock.now()) {
                if let index = state.waiters.firstIndex(where: { $0.origin == origin }) {
                    handOff = (state.waiters.remove(at: index).continuation, .connection(connection))
                    return
                }
                // A waiter for another origin blocked by the total limit gets this slot instead.
                if state.total >= configuration.maxConnections, !state.waiters.isEmpty {
                    toClose.append(connection)
                    freeSlot(origin, &state)
                    handOff = wakeEligible(&state)
                    return
                }
                connection.idleSince = MonotonicClock.now()
                state.origins[origin, default: OriginState()].idle.append(connection)
                if !state.sweepArmed {
                    state.sweepArmed = true
                    armSweep = configuration.idleTimeout.nanoseconds
                }
                return
            }
            toClose.append(connection)
            freeSlot(origin, &state)
            handOff = wakeEligible(&state)
        }
        for connection in toClose { connection.close() }
        if let (continuation, lease) = handOff { continuation.resume(returning: .success(lease)) }
        if let armSweep { scheduleSweep(in: armSweep) }
    }

    /// A connection the caller was to open for a reserved slot failed to open.
    func openFailed(_ origin: ClientOrigin) {
        let handOffs = state.withLock { state -> [(Continuation, Lease)] in
            state.origins[origin]?.opening -= 1
            freeSlot(origin, &state)
            return wakeAll(&state)
        }
        for (continuation, lease) in handOffs { continuation.resume(returning: .success(lease)) }
    }

    /// The connection for a reserved slot is open: an HTTP/1.1 one (nil) stays the caller's; an
    /// HTTP/2 one (`multiplexed`, its first stream slot the caller's) joins the pool and takes
    /// the requests waiting for its origin.
    func opened(_ origin: ClientOrigin, multiplexed connection: HTTP2ClientConnection?) {
        let handOffs = state.withLock { state -> [(Continuation, Lease)] in
            state.origins[origin]?.opening -= 1
            guard let connection else {
                // Waiters held back for this connection may open their own.
                state.origins[origin]?.speaksHTTP1 = true
                return wakeAll(&state)
            }
            state.origins[origin]?.speaksHTTP1 = false
            state.origins[origin]?.multiplexed.append(connection)
            var handOffs = handStreams(on: connection, &state)
            if let another = openAnother(origin, &state) { handOffs.append(another) }
            return handOffs
        }
        for (continuation, lease) in handOffs { continuation.resume(returning: .success(lease)) }
        connection?.start { [weak self] connection, change in self?.changed(connection, change) }
    }

    /// An HTTP/2 connection freed a stream slot or stopped taking streams.
    private func changed(_ connection: HTTP2ClientConnection, _ change: HTTP2ClientConnection.Change) {
        let origin = connection.origin
        var armSweep: UInt64?
        let handOffs = state.withLock { state -> [(Continuation, Lease)] in
            switch change {
            case .capacity:
                // A connection the pool let go (idle sweep, shutdown) takes no more streams.
                guard !state.isShutDown,
                      state.origins[origin]?.multiplexed.contains(where: { $0 === connection }) == true else { return [] }
                if connection.idleSince != nil && !state.sweepArmed {
                    state.sweepArmed = true
                    armSweep = configuration.idleTimeout.nanoseconds
                }
                return handStreams(on: connection, &state)
            case .unusable:
                guard let index = state.origins[origin]?.multiplexed.firstIndex(where: { $0 === connection }) else { return [] }
                state.origins[origin]!.multiplexed.remove(at: index)
                freeSlot(origin, &state)
                return wakeAll(&state)
            }
        }
        for (continuation, lease) in handOffs { continuation.resume(returning: .success(lease)) }
        if let armSweep { scheduleSweep(in: armSweep) }
    }

    /// Gives streams on `connection` to the waiters for its origin, first come first served.
    private func handStreams(on connection: HTTP2ClientConnection, _ state: inout State) -> [(Continuation, Lease)] {
        var handOffs: [(Continuation, Lease)] = []
        while let index = state.waiters.firstIndex(where: { $0.origin == connection.origin }), connection.reserveStream() {
            handOffs.append((state.waiters.remove(at: index).continuation, .multiplexed(connection)))
        }
        return handOffs
    }

    /// When requests for `origin` still wait and every HTTP/2 connection to it is full, the first
    /// of them gets a slot to open another (within the limits).
    private func openAnother(_ origin: ClientOrigin, _ state: inout State) -> (Continuation, Lease)? {
        guard state.origins[origin]?.opening == 0, state.total < configuration.maxConnections,
              (state.origins[origin]?.open ?? 0) < configuration.maxConnectionsPerHost,
              let index = state.waiters.firstIndex(where: { $0.origin == origin }) else { return nil }
        let waiter = state.waiters.remove(at: index)
        state.origins[origin]!.open += 1
        state.origins[origin]!.opening += 1
        state.total += 1
        state.opened += 1
        return (waiter.continuation, .open)
    }

    /// Reserves slots for every waiter the limits now allow.
    private func wakeAll(_ state: inout State) -> [(Continuation, Lease)] {
        var handOffs: [(Continuation, Lease)] = []
        while let handOff = wakeEligible(&state) { handOffs.append(handOff) }
        return handOffs
    }

    private func freeSlot(_ origin: ClientOrigin, _ state: inout State) {
        state.origins[origin]?.open -= 1
        state.total -= 1
        if state.origins[origin]?.open == 0 && state.origins[origin]?.idle.isEmpty == true {
            state.origins[origin] = nil
        }
    }

    /// Reserves a slot for the first waiter the limits now allow.
    private func wakeEligible(_ state: inout State) -> (Continuation, Lease)? {
        guard state.total < configuration.maxConnections else { return nil }
        guard let index = state.waiters.firstIndex(where: {
            (state.origins[$0.origin]?.open ?? 0) < configuration.maxConnectionsPerHost
        }) else { return nil }
        let waiter = state.waiters.remove(at: index)
        state.origins[waiter.origin, default: OriginState()].open += 1
        state.origins[waiter.origin]!.opening += 1
        state.total += 1
        state.opened += 1
        return (waiter.continuation, .open)
    }

    // MARK: Idle sweep

    private func scheduleSweep(in nanoseconds: UInt64) {
        timerLoop.schedule(after: .nanoseconds(Int64(min(nanoseconds, UInt64(Int64.max))))) { [self] in
            self.sweep()
        }
    }

    /// Closes idle connections past their idle timeout or lifetime; re-arms for the next expiry.
    private func sweep() {
        let now = MonotonicClock.now()
        var expired: [HTTP1ClientConnection] = []
        var closing: [HTTP2ClientConnection] = []
        let next = state.withLock { state -> UInt64? in
            state.sweepArmed = false
            var earliest: UInt64?
            for origin in Array(state.origins.keys) {
                var kept: [HTTP1ClientConnection] = []
                for connection in state.origins[origin]!.idle {
                    if isExpired(connection, now: now) {
                        expired.append(connection)
                        freeSlot(origin, &state)
                    } else {
                        kept.append(connection)
                        let due = connection.idleSince &+ configuration.idleTimeout.nanoseconds
                        earliest = min(earliest ?? due, due)
                    }
                }
                if state.origins[origin] != nil { state.origins[origin]!.idle = kept }
                for connection in state.origins[origin]?.multiplexed ?? [] {
                    guard let idleSince = connection.idleSince else { continue }
                    if now &- idleSince >= configuration.idleTimeout.nanoseconds || outlived(connection.openedAt, now: now) {
                        state.origins[origin]!.multiplexed.removeAll { $0 === connection }
                        closing.append(connection)
                        freeSlot(origin, &state)
                    } else {
                        let due = idleSince &+ configuration.idleTimeout.nanoseconds
                        earliest = min(earliest ?? due, due)
                    }
                }
                if state.origins[origin]?.open == 0 { state.origins[origin] = nil }
            }
            guard let earliest, !state.isShutDown else { return nil }
            state.sweepArmed = true
            return earliest > now ? earliest - now : 0
        }
        for connection in expired { connection.close() }
        for connection in closing { connection.close() }
        if let next { scheduleSweep(in: next) }
    }

    // MARK: Shutdown

    /// Closes idle connections and fails every waiter; leased connections close when released.
    func shutdown() {
        var multiplexed: [HTTP2ClientConnection] = []
        let (idle, waiters) = state.withLock { state -> ([HTTP1ClientConnection], [Waiter]) in
            state.isShutDown = true
            var idle: [HTTP1ClientConnection] = []
            for origin in Array(state.origins.keys) {
                let connections = state.origins[origin]!.multiplexed
                state.origins[origin]!.multiplexed = []
                multiplexed += connections
                for _ in connections { freeSlot(origin, &state) }
            }
            for origin in Array(state.origins.keys) {
                for connection in state.origins[origin]!.idle {
                    idle.append(connection)
                    freeSlot(origin, &state)
                }
                state.origins[origin]?.idle = []
            }
            let waiters = state.waiters
            state.waiters = []
            return (idle, waiters)
        }
        for connection in idle { connection.close() }
        for connection in multiplexed { connection.close() }
        for waiter in waiters { waiter.continuation.resume(returning: .failure(.shutDown)) }
    }
}
