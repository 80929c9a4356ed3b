import Synchronization

/// State shared between a connection's loop-side bridge and its async face.
private final class AsyncBridgeState: Sendable {
    struct Fields {
        var inbox: [UInt8] = []
        var eof = false
        var closed = false
        var error: TransportError?
        var waiter: CheckedContinuation<Result<[UInt8]?, TransportError>, Never>?
        var paused = false
    }

    let fields = Mutex(Fields())
    /// Bytes buffered for the reader before the loop stops reading from the socket.
    let inboxLimit: Int

    init(inboxLimit: Int) { self.inboxLimit = inboxLimit }
}

/// The loop-side handler that feeds an ``AsyncConnection``: it copies each read out of the
/// loop's buffer (the async reader runs on another thread), and pauses socket reads while
/// more than `inboxLimit` bytes wait unread.
private final class AsyncBridgeHandler: ConnectionHandler {
    let state: AsyncBridgeState
    let onActive: ((Connection) -> Void)?

    init(state: AsyncBridgeState, onActive: ((Connection) -> Void)?) {
        self.state = state
        self.onActive = onActive
    }

    func connectionDidBecomeActive(_ connection: Connection) { onActive?(connection) }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        let (waiter, chunk, pause) = state.fields.withLock { fields -> (CheckedContinuation<Result<[UInt8]?, TransportError>, Never>?, [UInt8], Bool) in
            if let waiter = fields.waiter {
                fields.waiter = nil
                return (waiter, Array(bytes), false)
            }
            fields.inbox.append(contentsOf: bytes)
            if !fields.paused && fields.inbox.count > state.inboxLimit {
                fields.paused = true
                return (nil, [], true)
            }
            return (nil, [], false)
        }
        waiter?.resume(returning: .success(chunk))
        if pause { connection.pauseReading() }
    }

    func connectionDidReadEOF(_ connection: Connection) {
        let waiter = state.fields.withLock { fields -> CheckedContinuation<Result<[UInt8]?, TransportError>, Never>? in
            fields.eof = true
            defer { fields.waiter = nil }
            return fields.waiter
        }
        waiter?.resume(returning: .success(nil))
    }

    func connectionDidClose(_ connection: Connection, error: TransportError?) {
        let waiter = state.fields.withLock { fields -> CheckedContinuation<Result<[UInt8]?, TransportError>, Never>? in
            fields.closed = true
            fields.error = error
            defer { fields.waiter = nil }
            return fields.waiter
        }
        if let error, error != .closed {
            waiter?.resume(returning: .failure(error))
        } else {
            waiter?.resume(returning: .success(nil))
        }
    }
}

/// The async/await face of a ``Connection``, for code that composes its own transport.
///
/// Reads copy bytes out of the loop (the inline ``ConnectionHandler`` seam is the zero-copy
/// path); each ``write(_:)`` returns once the kernel has taken the bytes, which gives natural
/// back-pressure. Dropping the last reference closes the connection.
///
/// ```swift
/// let connection = try await AsyncConnection.connect(to: .ipv4("127.0.0.1", port: 8080), on: group.next())
/// try await connection.write(Array("ping".utf8))
/// let reply = try await connection.read()
/// await connection.close()
/// ```
public final class AsyncConnection: Sendable {
    private let connection: LoopBound<Connection>
    private let state: AsyncBridgeState
    /// The loop driving this connection.
    public var loop: IOLoop { connection.loop }
    /// The local address.
    public let localAddress: SocketEndpoint?
    /// The peer address.
    public let remoteAddress: SocketEndpoint?

    fileprivate init(connection: Connection, state: AsyncBridgeState) {
        self.connection = LoopBound(connection, loop: connection.loop)
        self.state = state
        self.localAddress = connection.localAddress
        self.remoteAddress = connection.remoteAddress
    }

    deinit {
        let connection = self.connection
        connection.loop.execute { connection.value.close() }
    }

    /// Connects to `address` on `loop`, failing with ``TransportError/connectTimeout`` after `timeout`.
    public static func connect(to address: SocketEndpoint, on loop: IOLoop, options: SocketOptions = SocketOptions(),
                               timeout: Duration? = .seconds(10), inboxLimit: Int = 256 * 1024) async throws(TransportError) -> AsyncConnection {
        let state = AsyncBridgeState(inboxLimit: inboxLimit)
        let result: Result<AsyncConnection, TransportError> = await withCheckedContinuation { continuation in
            let accepted = loop.execute {
                let handler = AsyncBridgeHandler(state: state, onActive: nil)
                loop.connect(to: address, options: options, timeout: timeout, handler: handler) { result in
                    switch result {
                    case .success(let connection):
                        continuation.resume(returning: .success(AsyncConnection(connection: connection, state: state)))
                    case .failure(let error):
                        continuation.resume(returning: .failure(error))
                    }
                }
            }
            if !accepted { continuation.resume(returning: .failure(.loopStopped)) }
        }
        return try result.get()
    }

    /// Waits for bytes; returns nil once the peer has shut down its side (or the connection
    /// closed cleanly) and every buffered byte was returned.
    public func read() async throws(TransportError) -> [UInt8]? {
        let result: Result<[UInt8]?, TransportError> = await withCheckedContinuation { continuation in
            let (immediate, resume) = state.fields.withLock { fields -> (Result<[UInt8]?, TransportError>?, Bool) in
                if !fields.inbox.isEmpty {
                    var taken: [UInt8] = []
                    swap(&taken, &fields.inbox)
                    let resume = fields.paused
                    fields.paused = false
                    return (.success(taken), resume)
                }
                if let error = fields.error, error != .closed { return (.failure(error), false) }
                if fields.eof || fields.closed { return (.success(nil), false) }
                fields.waiter = continuation
                return (nil, false)
            }
            if let immediate { continuation.resume(returning: immediate) }
            if resume {
                let connection = self.connection
                connection.loop.execute { connection.value.resumeReading() }
            }
        }
        return try result.get()
    }

    /// Queues `bytes` and returns once the kernel has taken all of them.
    public func write(_ bytes: [UInt8]) async throws(TransportError) {
        let connection = self.connection
        let result: Result<Void, TransportError> = await withCheckedContinuation { continuation in
            let accepted = connection.loop.execute {
                connection.value.write(bytes) { error in
                    continuation.resume(returning: error.map { .failure($0) } ?? .success(()))
                }
            }
            if !accepted { continuation.resume(returning: .failure(.loopStopped)) }
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

    /// Closes with an RST (`SO_LINGER` 0), as a crashed peer would.
    public func reset() async {
        let connection = self.connection
        _ = try? await connection.loop.submit { connection.value.reset() }
    }
}

/// Accepted connections as an `AsyncSequence`, on top of a ``TCPServer``.
///
/// ```swift
/// let listener = try await AsyncListener.bind(on: group, address: .ipv6("::1", port: 0))
/// for await connection in listener {
///     Task { while let bytes = try await connection.read() { try await connection.write(bytes) } }
/// }
/// ```
/// Iterate from one task only.
public final class AsyncListener: AsyncSequence, Sendable {
    /// What iteration yields.
    public typealias Element = AsyncConnection
    /// Iteration never throws.
    public typealias Failure = Never

    /// The server underneath (its address, its graceful shutdown).
    public let server: TCPServer
    private let stream: AsyncStream<AsyncConnection>
    private let continuation: AsyncStream<AsyncConnection>.Continuation

    /// The bound address.
    public var localAddress: SocketEndpoint { server.localAddress }

    private init(server: TCPServer, stream: AsyncStream<AsyncConnection>, continuation: AsyncStream<AsyncConnection>.Continuation) {
        self.server = server
        self.stream = stream
        self.continuation = continuation
    }

    /// Binds `address` on `group` and starts accepting.
    public static func bind(on group: IOLoopGroup, address: SocketEndpoint, options: ListenerOptions = ListenerOptions(),
                            distribution: TCPServer.Distribution = .reusePort,
                            inboxLimit: Int = 256 * 1024) async throws(TransportError) -> AsyncListener {
        let (stream, continuation) = AsyncStream<AsyncConnection>.makeStream()
        let server = try await TCPServer.start(on: group, address: address, options: options, distribution: distribution) {
            let state = AsyncBridgeState(inboxLimit: inboxLimit)
            return AsyncBridgeHandler(state: state) { connection in
                continuation.yield(AsyncConnection(connection: connection, state: state))
            }
        }
        return AsyncListener(server: server, stream: stream, continuation: continuation)
    }

    /// An iterator over accepted connections; ends after ``close()``.
    public func makeAsyncIterator() -> AsyncStream<AsyncConnection>.AsyncIterator {
        stream.makeAsyncIterator()
    }

    /// Stops accepting and ends the sequence; connections already handed out stay open.
    public func close() async {
        await server.stopAccepting()
        continuation.finish()
    }
}
