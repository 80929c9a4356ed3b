@_spi(EpsilonInternal) import EpsilonBytes
import EpsilonTransport
public import EpsilonWebSocket
import Synchronization

/// One open WebSocket connection of the client: read messages with ``receive()`` (or
/// ``inbound``), send with ``send(_:)``, end with ``close(code:reason:)``.
///
/// Made by ``WebSocketClient/open(_:configuration:group:)`` or handed to the body of
/// ``WebSocketClient/connect(to:configuration:group:_:)``. One task reads; any number may send:
/// frames leave in the order the sends were made (compressed ones too, whose order matters
/// to the server's window), and each `send` returns once its frame was taken by the kernel.
public final class WebSocketClientConnection: Sendable {
    /// What the reader and the senders share, behind one lock: the sans-IO session and the
    /// bytes waiting for the socket.
    struct Core {
        var session: WebSocketClientSession
        var pending: [UInt8] = []
        var writing = false
        var waiters: [CheckedContinuation<SendOutcome, Never>] = []
        var writeError: WebSocketClientError?
        /// Why the connection was ended from this side (a dead heartbeat).
        var endError: WebSocketClientError?
        var closeTimer: Task<Void, Never>?
        var heartbeat: Task<Void, Never>?
        var closedTransport = false
    }

    enum SendOutcome: Sendable {
        case writer
        case done(WebSocketClientError?)
    }

    let transport: AsyncConnection
    let core: Mutex<Core>
    let closeTimeout: Duration
    /// The subprotocol the server chose, if any.
    public let subprotocol: String?
    /// The extensions the server accepted, with its parameters.
    public let extensions: [WebSocketExtensionOffer]
    /// Whether permessage-deflate is in use.
    public let isCompressed: Bool

    init(transport: AsyncConnection, session: sending WebSocketClientSession, configuration: WebSocketClientConfiguration) {
        self.transport = transport
        self.subprotocol = session.accepted?.subprotocol
        self.extensions = session.accepted?.extensions ?? []
        self.isCompressed = session.negotiatedCompression
        self.closeTimeout = configuration.closeTimeout
        self.core = Mutex(Core(session: session))
        if let heartbeat = configuration.heartbeat { startHeartbeat(heartbeat) }
    }

    deinit {
        core.withLock { core in
            core.heartbeat?.cancel()
            core.closeTimer?.cancel()
        }
    }

    /// The inbound messages as an `AsyncSequence` (one consumer).
    public var inbound: WebSocketClientInbound { WebSocketClientInbound(connection: self) }

    /// The server's Close, once it arrived: its code (nil when it sent none) and reason.
    public var serverClose: (code: WebSocketCloseCode?, reason: String)? {
        core.withLock { $0.session.peerClose }
    }

    // MARK: Receiving

    /// The next message, or nil once the close handshake is over.
    ///
    /// - Throws: ``WebSocketClientError/protocolViolation(_:)`` when the server broke a rule
    ///   (the Close reporting it was sent), ``WebSocketClientError/connectionLost(_:)`` when the
    ///   connection ended without a Close, ``WebSocketClientError/heartbeatTimeout`` when the
    ///   heartbeat declared it dead. Messages that arrived before the failure come first.
    public func receive() async throws(WebSocketClientError) -> WebSocketClientMessage? {
        while true {
            let (message, failure, finished) = core.withLock { core in
                (core.session.nextMessage(), core.endError ?? core.session.failure, core.session.isFinished)
            }
            if let message { return message }
            if let failure {
                await finish(waitForServer: true)
                throw failure
            }
            if finished {
                await finish(waitForServer: true)
                return nil
            }
            let bytes: [UInt8]?
            do throws(TransportError) {
                bytes = try await transport.read()
            } catch {
                if let endError = core.withLock({ $0.endError }) { throw endError }
                if error == .cancelled { throw .cancelled }
                await finish(waitForServer: false)
                throw .connectionLost(error)
            }
            guard let bytes else {
                let (endError, closing) = core.withLock { core -> (WebSocketClientError?, Bool) in
                    if case .closeSent = core.session.machine.state { return (core.endError, true) }
                    return (core.endError, core.closedTransport)
                }
                if let endError { throw endError }
                await finish(waitForServer: false)
                // Our Close went out and the server (or our close timer) ended the connection.
                if closing { return nil }
                throw .connectionLost(nil)
            }
            let now = MonotonicClock.now()
            let becameWriter = core.withLock { core -> Bool in
                try? bytes.withBytes { (raw) throws(WebSocketClientError) in try core.session.receive(raw, now: now) }
                core.session.writeOutput(into: &core.pending)
                if core.pending.isEmpty || core.writing { return false }
                core.writing = true
                return true
            }
            if becameWriter { await drain() }
        }
    }

    /// After the close handshake or a failure: sends what is left, waits (bounded by the close
    /// timeout) for the server to close the TCP connection first (RFC 6455 §7.1.1), closes it.
    func finish(waitForServer: Bool) async {
        let first = core.withLock { core -> Bool in
            core.heartbeat?.cancel()
            core.closeTimer?.cancel()
            defer { core.closedTransport = true }
            return !core.closedTransport
        }
        guard first else { return }
        await flush()
        if waitForServer {
            let deadline = WebSocketDeadline(after: closeTimeout, closing: transport)
            // The server closes first; anything it still sends is ignored.
            while let _ = try? await transport.read() {}
            deadline.cancel()
        }
        await transport.close()
    }

    // MARK: Sending

    /// Sends a message; returns once its frames were taken by the kernel.
    ///
    /// - Throws: ``WebSocketClientError/closed`` after our Close (or the server's),
    ///   ``WebSocketClientError/connectionLost(_:)`` when the connection broke.
    public func send(_ message: WebSocketClientMessage) async throws(WebSocketClientError) {
        try await submit { (session) throws(WebSocketClientError) in try session.send(message) }
    }

    /// Sends a Ping with `payload` (at most 125 bytes).
    public func ping(_ payload: [UInt8] = []) async throws(WebSocketClientError) {
        try await submit { (session) throws(WebSocketClientError) in try session.sendPing(payload) }
    }

    /// Starts the close handshake: sends a Close, then ``receive()`` returns the messages still
    /// in flight and nil once the server answered (or after the close timeout).
    ///
    /// - Parameters:
    ///   - code: the status code (default 1000), or nil for an empty Close.
    ///   - reason: UTF-8, at most 123 bytes; needs a code.
    public func close(code: WebSocketCloseCode? = .normalClosure, reason: String = "") async throws(WebSocketClientError) {
        let now = MonotonicClock.now()
        try await submit { (session) throws(WebSocketClientError) in try session.sendClose(code: code, reason: reason, now: now) }
        let timeout = closeTimeout
        let transport = self.transport
        let timer = Task { [weak self] in
            do { try await Task.sleep(for: timeout) } catch { return }
            self?.core.withLock { $0.closedTransport = true }
            await transport.close()
        }
        core.withLock { core in
            core.closeTimer?.cancel()
            core.closeTimer = timer
        }
    }

    /// Frames something under the lock, then writes it (or leaves it to the task writing).
    func submit(_ frame: @escaping @Sendable (inout WebSocketClientSession) throws(WebSocketClientError) -> Void) async throws(WebSocketClientError) {
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<SendOutcome, Never>) in
            let immediate = core.withLock { core -> SendOutcome? in
                if let error = core.endError ?? core.writeError { return .done(error) }
                do throws(WebSocketClientError) {
                    try frame(&core.session)
                } catch {
                    return .done(error)
                }
                core.session.writeOutput(into: &core.pending)
                if core.writing {
                    core.waiters.append(continuation)
                    return nil
                }
                core.writing = true
                return .writer
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
        switch outcome {
        case .writer:
            if let error = await drain() { throw error }
        case .done(let error):
            if let error { throw error }
        }
    }

    /// Writes whatever the machine produced that nobody is writing yet.
    func flush() async {
        let becameWriter = core.withLock { core -> Bool in
            core.session.writeOutput(into: &core.pending)
            if core.pending.isEmpty || core.writing { return false }
            core.writing = true
            return true
        }
        if becameWriter { await drain() }
    }

    /// The writer's loop: writes the pending bytes batch by batch until none are left, waking
    /// the senders whose frames each batch carried. Returns the write error, if any.
    @discardableResult
    func drain() async -> WebSocketClientError? {
        var firstError: WebSocketClientError?
        while true {
            let (batch, waiters, failed) = core.withLock { core -> ([UInt8], [CheckedContinuation<SendOutcome, Never>], WebSocketClientError?) in
                if core.pending.isEmpty {
                    core.writing = false
                    return ([], [], nil)
                }
                var batch: [UInt8] = []
                swap(&batch, &core.pending)
                let waiters = core.waiters
                core.waiters.removeAll()
                return (batch, waiters, core.writeError)
            }
            if batch.isEmpty { return firstError }
            var error = failed
            if error == nil {
                do throws(TransportError) {
                    try await transport.write(batch)
                } catch let failure {
                    let mapped: WebSocketClientError = core.withLock { $0.endError } ?? .connectionLost(failure)
                    core.withLock { core in if core.writeError == nil { core.writeError = mapped } }
                    error = mapped
                }
            }
            for waiter in waiters { waiter.resume(returning: .done(error)) }
            if firstError == nil { firstError = error }
        }
    }

    // MARK: Heartbeat

    func startHeartbeat(_ heartbeat: WebSocketClientHeartbeat) {
        let task = Task { [weak self] in
            var counter: UInt64 = 0
            while !Task.isCancelled {
                do { try await Task.sleep(for: heartbeat.interval) } catch { return }
                guard let connection = self else { return }
                let before = connection.core.withLock { $0.session.pongCount }
                counter &+= 1
                do throws(WebSocketClientError) {
                    try await connection.ping(withUnsafeBytes(of: counter.bigEndian) { Array($0) })
                } catch {
                    return
                }
                do { try await Task.sleep(for: heartbeat.pongTimeout) } catch { return }
                let answered = connection.core.withLock { $0.session.pongCount != before }
                if !answered {
                    await connection.declareDead()
                    return
                }
            }
        }
        core.withLock { $0.heartbeat = task }
    }

    /// Ends a connection whose peer stopped answering: no Close handshake, the TCP connection
    /// is reset so a blocked reader wakes with ``WebSocketClientError/heartbeatTimeout``.
    func declareDead() async {
        core.withLock { core in
            if core.endError == nil { core.endError = .heartbeatTimeout }
            core.closedTransport = true
        }
        // Senders waiting on the writer wake when its write fails on the reset connection.
        await transport.reset()
    }

    /// Drops the connection at once without a Close handshake (for example when the task using
    /// it is cancelled, or a reconnecting client is shut down).
    public func abort() async {
        core.withLock { core in
            core.heartbeat?.cancel()
            core.closeTimer?.cancel()
            core.closedTransport = true
            if core.endError == nil { core.endError = .closed }
        }
        await transport.close()
    }
}
