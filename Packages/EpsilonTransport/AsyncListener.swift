import Synchronization

/// The connections an ``AsyncListener`` accepted and its consumer has not taken yet, with the
/// bound that stops accepting while it is full.
///
/// A listener reserves a place before each `accept` (``reserve()``); the place is held while
/// the connection waits here and given back when the consumer takes it (or the connection
/// failed before it became active). When no place is left the listeners stop accepting, so
/// further connections wait in the kernel's backlog (bounded by `ListenerOptions.backlog`);
/// the first place given back resumes them.
final class AcceptQueue: Sendable {
    typealias Waiter = CheckedContinuation<Result<AsyncConnection, TransportError>, Never>

    private struct State {
        /// Places reserved: connections being accepted or waiting in `ready`.
        var held = 0
        /// A reservation was refused: some listener holds its accepts.
        var listenersHeld = false
        var ready: [AsyncConnection] = []
        var head = 0
        var waiters: [(id: UInt64, continuation: Waiter)] = []
        var nextID: UInt64 = 0
        var closed = false
    }

    /// The bound on ``State/held``.
    let limit: Int
    private let state = Mutex(State())
    /// Resumes the listeners that held their accepts (set once the server is up). In a box: a
    /// closure kept in the Mutex itself is wrapped in one more reabstraction thunk by every
    /// `withLock` write-back, a chain that grows with each wake-up (as the HTTP/2 client's
    /// pool callback did).
    private let resumeListeners = Mutex<ResumeListeners?>(nil)

    init(limit: Int) { self.limit = max(1, limit) }

    func setResume(_ resume: @escaping @Sendable () -> Void) {
        let box = ResumeListeners(resume: resume)
        resumeListeners.withLock { $0 = box }
    }

    /// Reserves a place for one connection about to be accepted; false when the queue is full
    /// (the caller then stops accepting).
    func reserve() -> Bool {
        state.withLock { state -> Bool in
            guard state.held < limit && !state.closed else {
                state.listenersHeld = true
                return false
            }
            state.held += 1
            return true
        }
    }

    /// Gives back a place (the accept failed, or the connection closed before it was queued).
    func release() {
        let wake = state.withLock { state -> Bool in
            state.held -= 1
            return Self.takeWake(&state, limit: limit)
        }
        if wake { wakeListeners() }
    }

    private static func takeWake(_ state: inout State, limit: Int) -> Bool {
        guard state.listenersHeld && state.held < limit && !state.closed else { return false }
        state.listenersHeld = false
        return true
    }

    private func wakeListeners() {
        let box = resumeListeners.withLock { $0 }
        box?.resume()
    }

    /// A connection became active: hand it to a waiting consumer, or queue it.
    func deliver(_ connection: AsyncConnection) {
        let (waiter, wake) = state.withLock { state -> (Waiter?, Bool) in
            if state.closed {
                state.held -= 1
                return (nil, false)  // dropped here: its deinit closes it
            }
            if !state.waiters.isEmpty {
                state.held -= 1
                return (state.waiters.removeFirst().continuation, Self.takeWake(&state, limit: limit))
            }
            state.ready.append(connection)
            return (nil, false)
        }
        waiter?.resume(returning: .success(connection))
        if wake { wakeListeners() }
    }

    /// The next connection, waiting for one if none is queued.
    func take() async -> Result<AsyncConnection, TransportError> {
        let id = state.withLock { state -> UInt64 in
            state.nextID &+= 1
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let (immediate, wake) = state.withLock { state -> (Result<AsyncConnection, TransportError>?, Bool) in
                    if state.head < state.ready.count {
                        let connection = state.ready[state.head]
                        state.head += 1
                        if state.head == state.ready.count {
                            state.ready.removeAll(keepingCapacity: true)
                            state.head = 0
                        }
                        state.held -= 1
                        return (.success(connection), Self.takeWake(&state, limit: limit))
                    }
                    if state.closed { return (.failure(.closed), false) }
                    // Checked under the lock: a cancellation after this finds the waiter.
                    if Task.isCancelled { return (.failure(.cancelled), false) }
                    state.waiters.append((id, continuation))
                    return (nil, false)
                }
                if let immediate { continuation.resume(returning: immediate) }
                if wake { wakeListeners() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(returning: .failure(.cancelled))
        }
    }

    /// Ends the queue: waiting consumers get ``TransportError/closed``; queued connections are
    /// dropped (and so closed).
    func close() {
        let (waiters, dropped) = state.withLock { state -> ([Waiter], [AsyncConnection]) in
            state.closed = true
            let waiters = state.waiters.map(\.continuation)
            state.waiters = []
            let dropped = Array(state.ready[state.head...])
            state.held -= dropped.count
            state.ready = []
            state.head = 0
            return (waiters, dropped)
        }
        for waiter in waiters { waiter.resume(returning: .failure(.closed)) }
        _ = dropped
    }
}

/// Accepted connections as an `AsyncSequence`, on top of a ``TCPServer``.
///
/// Connections accepted and not yet taken wait in a bounded queue (`acceptQueueLimit`,
/// default 64): while it is full the listener stops accepting, so further connections wait
/// in the kernel's backlog (`ListenerOptions.backlog`) instead of in this process's memory,
/// and accepting resumes as soon as the consumer takes one. Each accept reserves its place
/// first (with io_uring the accepts are then single-shot), so the bound is exact.
///
/// ```swift
/// let listener = try await AsyncListener.bind(on: group, address: .ipv6("::1", port: 0))
/// for await connection in listener {
///     Task { while let bytes = try await connection.read() { try await connection.write(bytes) } }
/// }
/// ```
/// ``accept()`` and iteration honour task cancellation: a cancelled ``accept()`` throws
/// ``TransportError/cancelled`` at once and a cancelled iteration ends (returns nil); the
/// listener keeps accepting and queued connections wait for the next call.
public final class AsyncListener: AsyncSequence, Sendable {
    /// What iteration yields.
    public typealias Element = AsyncConnection
    /// Iteration never throws.
    public typealias Failure = Never

    /// The server underneath (its address, its graceful shutdown).
    public let server: TCPServer
    private let queue: AcceptQueue

    /// The bound address.
    public var localAddress: SocketEndpoint { server.localAddress }

    private init(server: TCPServer, queue: AcceptQueue) {
        self.server = server
        self.queue = queue
    }

    /// Binds `address` on `group` and starts accepting. At most `acceptQueueLimit` accepted
    /// connections wait for ``accept()`` at a time; each buffers up to `inboxLimit` unread
    /// bytes before its socket stops being read.
    public static func bind(on group: IOLoopGroup, address: SocketEndpoint, options: ListenerOptions = ListenerOptions(),
                            distribution: TCPServer.Distribution = .reusePort,
                            inboxLimit: Int = 256 * 1024,
                            acceptQueueLimit: Int = 64) async throws(TransportError) -> AsyncListener {
        let queue = AcceptQueue(limit: acceptQueueLimit)
        let server = try await TCPServer.start(on: group, address: address, options: options, distribution: distribution,
                                               admission: queue) {
            let state = AsyncBridgeState(inboxLimit: inboxLimit)
            return AsyncBridgeHandler(state: state, onActive: { connection in
                queue.deliver(AsyncConnection(connection: connection, state: state))
            }, onClosedBeforeActive: {
                queue.release()
            })
        }
        queue.setResume { [weak server] in server?.resumeAccepting() }
        return AsyncListener(server: server, queue: queue)
    }

    /// The next accepted connection. Throws ``TransportError/cancelled`` when the task is
    /// cancelled and ``TransportError/closed`` after ``close()``.
    public func accept() async throws(TransportError) -> AsyncConnection {
        try await queue.take().get()
    }

    /// Iterates over accepted connections; ends after ``close()`` or when its task is cancelled.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let listener: AsyncListener

        /// The next accepted connection, or nil once the listener is closed or the task cancelled.
        public mutating func next() async -> AsyncConnection? {
            try? await listener.accept()
        }
    }

    /// An iterator over accepted connections; ends after ``close()``.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(listener: self)
    }

    /// Stops accepting and ends the sequence; connections already handed out stay open, those
    /// accepted but not yet taken are closed.
    public func close() async {
        await server.stopAccepting()
        queue.close()
    }
}

/// The callback that resumes an ``AcceptQueue``'s listeners, held by reference.
private final class ResumeListeners: Sendable {
    let resume: @Sendable () -> Void

    init(resume: @escaping @Sendable () -> Void) { self.resume = resume }
}
