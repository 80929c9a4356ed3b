import Synchronization

/// Resumes a continuation exactly once, whichever comes first: the operation's result or its
/// task's cancellation (which may even come before the continuation exists).
final class ResumeOnce<Value: Sendable>: Sendable {
    private enum State {
        case empty
        case waiting(CheckedContinuation<Value, Never>)
        case done(Value)
        case resumed
    }

    private let state = Mutex(State.empty)

    /// Installs the continuation, resuming it at once if the result is already known.
    func install(_ continuation: CheckedContinuation<Value, Never>) {
        let ready = state.withLock { state -> Value? in
            if case .done(let value) = state {
                state = .resumed
                return value
            }
            state = .waiting(continuation)
            return nil
        }
        if let ready { continuation.resume(returning: ready) }
    }

    /// Delivers `value` unless a result was delivered before; returns whether it was taken.
    @discardableResult
    func resume(_ value: Value) -> Bool {
        let (taken, continuation) = state.withLock { state -> (Bool, CheckedContinuation<Value, Never>?) in
            switch state {
            case .empty:
                state = .done(value)
                return (true, nil)
            case .waiting(let continuation):
                state = .resumed
                return (true, continuation)
            case .done, .resumed:
                return (false, nil)
            }
        }
        continuation?.resume(returning: value)
        return taken
    }
}

/// The async/await face of a ``Connection``, for code that composes its own transport.
///
/// Each ``read()`` returns an array of its own: short reads are copied out of the loop's buffer
/// (the inline ``ConnectionHandler`` seam is the zero-copy path); in a bulk transfer, the rest of
/// a chunk of up to `inboxLimit` bytes is read from the socket straight into it. At most about
/// `inboxLimit` bytes wait unread before the loop stops reading from the socket. Each
/// ``write(_:)`` returns once the kernel has taken the bytes, which gives natural back-pressure.
/// Dropping the last reference closes the connection.
///
/// Every call that waits on the network honours task cancellation: a cancelled
/// ``connect(to:on:options:timeout:inboxLimit:)``, ``read()`` or ``write(_:)`` returns at once
/// with ``TransportError/cancelled``. What that leaves behind:
/// - a cancelled **connect** closes the connection it was opening;
/// - a cancelled **read** takes nothing: bytes that arrive later wait for the next ``read()``,
///   and the connection stays open and consistent;
/// - a cancelled **write** no longer waits, but its bytes stay queued and still go out in
///   order (a stream cannot take back half a write); the connection stays open. Close it if
///   the cancellation means giving up on the peer.
///
/// ```swift
/// let connection = try await AsyncConnection.connect(to: .ipv4("127.0.0.1", port: 8080), on: group.next())
/// try await connection.write(Array("ping".utf8))
/// let reply = try await connection.read()
/// await connection.close()
/// ```
public final class AsyncConnection: Sendable {
    let connection: LoopBound<Connection>
    let state: AsyncBridgeState
    /// The loop driving this connection.
    public var loop: IOLoop { connection.loop }
    /// The local address.
    public let localAddress: SocketEndpoint?
    /// The peer address.
    public let remoteAddress: SocketEndpoint?

    init(connection: Connection, state: AsyncBridgeState) {
        self.connection = LoopBound(connection, loop: connection.loop)
        self.state = state
        self.localAddress = connection.localAddress
        self.remoteAddress = connection.remoteAddress
    }

    deinit {
        let connection = self.connection
        connection.loop.execute { connection.value.close() }
    }

    /// Connects to `address` on `loop`, failing with ``TransportError/connectTimeout`` after
    /// `timeout`, or with ``TransportError/cancelled`` at once if the task is cancelled (the
    /// half-open connection is closed).
    public static func connect(to address: SocketEndpoint, on loop: IOLoop, options: SocketOptions = SocketOptions(),
                               timeout: Duration? = .seconds(10), inboxLimit: Int = 256 * 1024) async throws(TransportError) -> AsyncConnection {
        let state = AsyncBridgeState(inboxLimit: inboxLimit)
        let once = ResumeOnce<Result<AsyncConnection, TransportError>>()
        let attempt = Mutex<(connection: LoopBound<Connection>?, cancelled: Bool)>((nil, false))
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                once.install(continuation)
                if Task.isCancelled {
                    once.resume(.failure(.cancelled))
                    return
                }
                let accepted = loop.execute {
                    let handler = AsyncBridgeHandler(state: state, onActive: nil)
                    let opened = Connection.connect(on: loop, to: address, options: options, timeout: timeout,
                                                    handler: handler) { result in
                        // Dropped (and so closed by its deinit) when the task was cancelled first.
                        once.resume(result.map { AsyncConnection(connection: $0, state: state) })
                    }
                    guard let opened else { return }
                    let cancelled = attempt.withLock { attempt -> Bool in
                        attempt.connection = LoopBound(opened, loop: loop)
                        return attempt.cancelled
                    }
                    if cancelled { opened.close(error: .cancelled) }
                }
                if !accepted { once.resume(.failure(.loopStopped)) }
            }
        } onCancel: {
            once.resume(.failure(.cancelled))
            let opened = attempt.withLock { attempt -> LoopBound<Connection>? in
                attempt.cancelled = true
                return attempt.connection
            }
            if let opened {
                opened.loop.execute {
                    let connection = opened.value
                    if connection.state == .connecting { connection.close(error: .cancelled) }
                }
            }
        }
        return try result.get()
    }

    /// Waits for bytes; returns nil once the peer has shut down its side (or the connection
    /// closed cleanly) and every buffered byte was returned. Throws ``TransportError/cancelled``
    /// at once when the task is cancelled; no byte is lost (the next read returns it).
    public func read() async throws(TransportError) -> [UInt8]? {
        let state = self.state
        let id = state.fields.withLock { fields -> UInt64 in
            fields.nextReadID &+= 1
            return fields.nextReadID
        }
        let result: Result<[UInt8]?, TransportError> = await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                let (immediate, resume) = state.fields.withLock { fields -> (Result<[UInt8]?, TransportError>?, Bool) in
                    if let (chunk, resume) = state.take(&fields) { return (.success(chunk), resume) }
                    if let error = fields.error, error != .closed { return (.failure(error), false) }
                    if fields.eof || fields.closed { return (.success(nil), false) }
                    // Checked under the lock: a cancellation after this finds the waiter.
                    if Task.isCancelled { return (.failure(.cancelled), false) }
                    fields.waiter = (id, continuation)
                    return (nil, false)
                }
                if let immediate { continuation.resume(returning: immediate) }
                if resume {
                    let connection = self.connection
                    connection.loop.execute { connection.value.resumeReading() }
                }
            }
        } onCancel: {
            let waiter = state.fields.withLock { fields -> AsyncBridgeState.ReadContinuation? in
                guard fields.waiter?.id == id else { return nil }
                return state.takeWaiter(&fields)
            }
            waiter?.resume(returning: .failure(.cancelled))
        }
        return try result.get()
    }

    /// Queues `bytes` and returns once the kernel has taken all of them. When the task is
    /// cancelled it returns at once with ``TransportError/cancelled``; the bytes stay queued and
    /// still go out in order.
    public func write(_ bytes: [UInt8]) async throws(TransportError) {
        let connection = self.connection
        let once = ResumeOnce<Result<Void, TransportError>>()
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                once.install(continuation)
                if Task.isCancelled {
                    once.resume(.failure(.cancelled))
                    return
                }
                let accepted = connection.loop.execute {
                    connection.value.write(bytes) { error in
                        once.resume(error.map { .failure($0) } ?? .success(()))
                    }
                }
                if !accepted { once.resume(.failure(.loopStopped)) }
            }
        } onCancel: {
            once.resume(.failure(.cancelled))
        }
        try result.get()
    }

    /// Half-close: sends FIN after queued writes; reads continue until the peer closes.
    public func shutdownOutput() async throws(TransportError) {
        let connection = self.connection
        try await connection.loop.submit { () throws(TransportError) in
            let value = connection.value
            if value.isClosed { throw .closed }
            value.shutdownOutput()
        }
    }

    /// Closes now (queued bytes are dropped; `write` already waited for its bytes).
    public func close() async {
        let connection = self.connection
        _ = try? await connection.loop.submit { connection.value.close() }
    }

    /// Closes now, from the connection's loop thread (a loop timer's action): unlike
    /// ``close()`` it needs no task, so a deadline closes the connection even when every
    /// cooperative thread is busy.
    package func closeOnLoop() {
        connection.value.close()
    }

    /// Closes with an RST (`SO_LINGER` 0), as a crashed peer would.
    public func reset() async {
        let connection = self.connection
        _ = try? await connection.loop.submit { connection.value.reset() }
    }
}
