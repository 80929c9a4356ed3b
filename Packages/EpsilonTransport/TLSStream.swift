import EpsilonTLS

/// The TLS layer of a ``Connection``: the engine between the socket and the handler, and
/// everything only a TLS connection has (the handshake deadline, writes waiting for the
/// handshake, `close_notify`).
///
/// The connection delegates to it at five points and otherwise does not know TLS exists:
/// received bytes (``receive(_:on:)``), the end of the stream, writes (``write(_:on:completion:)``),
/// the closing calls (``sendCloseNotify(on:)``) and the close itself. Plaintext reaches the
/// handler from a loop-owned scratch buffer; ciphertext goes straight into the connection's
/// write queue. A TLS failure closes the connection with ``TransportError/tls(_:)``.
/// Loop thread only, like its connection.
final class TLSStream {
    let engine: TLSEngine
    private let handshakeTimeout: Duration?
    private let sessionHandler: (@Sendable (TLSSession) -> Void)?
    private var handshakeTimer: LoopTimer?
    /// Completions of writes made before the handshake completed: the engine holds their
    /// bytes until then, so they join the write queue only when the handshake is done.
    private var completionsAwaitingHandshake: [(TransportError?) -> Void] = []
    /// The peer's `close_notify` arrived and the handler was told.
    private(set) var closeNotifyReported = false

    init(engine: TLSEngine, options: TLSOptions?) {
        self.engine = engine
        self.handshakeTimeout = options?.handshakeTimeout
        self.sessionHandler = options?.sessionHandler
    }

    // MARK: Handshake deadline

    /// The TCP connection is up: the handshake must complete within ``TLSOptions/handshakeTimeout``.
    func startDeadline(on connection: Connection) {
        guard let handshakeTimeout, handshakeTimer == nil else { return }
        handshakeTimer = connection.loop.scheduleTimer(after: handshakeTimeout) { [weak self, weak connection] in
            self?.handshakeTimer = nil
            connection?.close(error: .tlsHandshakeTimeout)
        }
    }

    /// The handshake completed or the connection closed.
    func cancelDeadline(on loop: IOLoop) {
        guard let timer = handshakeTimer else { return }
        loop.cancelTimer(timer)
        handshakeTimer = nil
    }

    /// The connection closed: the writes still waiting for the handshake will never go out.
    func takeCompletionsAwaitingHandshake() -> [(TransportError?) -> Void] {
        defer { completionsAwaitingHandshake = [] }
        return completionsAwaitingHandshake
    }

    // MARK: Reading

    /// Ciphertext arrived (in a loop-owned buffer): the engine copies it, so the buffer is free
    /// again when this returns.
    func receive(_ bytes: UnsafeRawBufferPointer, on connection: Connection) {
        engine.receive(bytes)
        process(on: connection)
    }

    /// The peer's FIN: clean only after `close_notify` (already reported); otherwise the
    /// engine reports truncation and the connection closes with it.
    func receiveEndOfStream(on connection: Connection) {
        engine.receiveEndOfStream()
        process(on: connection)
    }

    /// Advances the engine on what it has received: handshake output goes to the write queue,
    /// plaintext to the handler (from the loop's scratch buffer), `close_notify` becomes
    /// ``ConnectionHandler/connectionDidReadEOF(_:)``, and a failure closes the connection.
    func process(on connection: Connection) {
        guard connection.state == .active else { return }
        // Taken out of the loop for the call: a handler that reaches another connection's read
        // path from inside `didRead` gets an empty scratch of its own instead of this one.
        var plaintext = connection.core.takeTLSScratch()
        defer { connection.core.returnTLSScratch(&plaintext) }
        var events: TLSEngine.Events = []
        var failure: TLSError?
        do { events = try engine.process(into: &plaintext) } catch { failure = error }
        takeOutput(into: connection)
        if events.contains(.handshakeCompleted) {
            cancelDeadline(on: connection.loop)
            // The bytes written before the handshake were encrypted by this call; their
            // completions follow them in the queue.
            for completion in completionsAwaitingHandshake { connection.queue.appendCompletion(completion) }
            completionsAwaitingHandshake = []
            connection.handler.connectionDidCompleteTLSHandshake(connection)
        }
        if events.contains(.sessionReceived), let sessionHandler, let session = engine.session {
            sessionHandler(session)
        }
        // Plaintext decrypted before a failure is still delivered, then the failure closes.
        if !plaintext.isEmpty && connection.state == .active {
            plaintext.withUnsafeBytes { connection.handler.connection(connection, didRead: $0) }
        }
        if let failure {
            fail(failure, on: connection)
            return
        }
        if events.contains(.closeNotifyReceived) && !closeNotifyReported && connection.state == .active {
            closeNotifyReported = true
            connection.handler.connectionDidReadEOF(connection)
        }
    }

    // MARK: Writing

    /// Encrypts `bytes` into the write queue (after the handshake; until then the engine holds
    /// them and their completion waits for it).
    func write(_ bytes: UnsafeRawBufferPointer, on connection: Connection, completion: ((TransportError?) -> Void)?) {
        guard !engine.hasSentCloseNotify else {
            // closeAfterFlush() already queued close_notify; nothing may follow it.
            completion?(.outputShutdown)
            return
        }
        do {
            try engine.send(bytes)
        } catch {
            completion?(.tls(error))
            fail(error, on: connection)
            return
        }
        if let completion {
            if engine.isHandshakeComplete {
                takeOutput(into: connection)
                connection.queue.appendCompletion(completion)
            } else {
                completionsAwaitingHandshake.append(completion)
            }
        } else {
            takeOutput(into: connection)
        }
    }

    /// Moves the engine's output (handshake messages, records, alerts) into the write queue,
    /// copied by the engine straight into the queue's chunks.
    func takeOutput(into connection: Connection) {
        let count = engine.pendingOutputCount
        guard count > 0 else { return }
        let engine = self.engine
        connection.queue.append(count: count) { room in engine.takeOutput(into: room) }
        connection.queueDidGrow()
    }

    // MARK: Closing

    /// Queues `close_notify` (once; after any plaintext the engine still holds).
    func sendCloseNotify(on connection: Connection) {
        guard !engine.hasSentCloseNotify else { return }
        engine.close()
        takeOutput(into: connection)
    }

    /// Sends what the engine queued (its alert) if the kernel takes it now, then closes with
    /// the engine's error.
    func fail(_ error: TLSError, on connection: Connection) {
        guard connection.state != .closed else { return }
        connection.closingError = .tls(error)
        takeOutput(into: connection)
        if connection.state == .active && !connection.queue.isEmpty { connection.flush() }
        connection.close(error: .tls(error))
    }
}
