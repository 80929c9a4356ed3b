import EpsilonTLS
import Synchronization

/// The outcome of a connection's TLS handshake, for the tasks waiting on it: set once by the
/// loop (the handshake completed, the connection has no TLS, or it closed first).
final class TLSHandshakeWait: Sendable {
    typealias Outcome = Result<TLSHandshakeSummary?, TransportError>

    private struct Fields {
        var outcome: Outcome?
        var waiters: [UInt64: CheckedContinuation<Outcome, Never>] = [:]
        var nextID: UInt64 = 0
    }

    private let fields = Mutex(Fields())

    /// Records `outcome` (unless one is already known) and wakes every waiter.
    func complete(_ outcome: Outcome) {
        let waiters = fields.withLock { fields -> [CheckedContinuation<Outcome, Never>] in
            guard fields.outcome == nil else { return [] }
            fields.outcome = outcome
            defer { fields.waiters = [:] }
            return Array(fields.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: outcome) }
    }

    /// Forgets a "no TLS" outcome: TLS is being started on the plaintext connection.
    func restart() {
        fields.withLock { fields in
            if case .success(nil) = fields.outcome { fields.outcome = nil }
        }
    }

    /// Waits for the outcome; a cancelled task gets ``TransportError/cancelled`` at once.
    func wait() async -> Outcome {
        let id = fields.withLock { fields -> UInt64 in
            fields.nextID &+= 1
            return fields.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready = fields.withLock { fields -> Outcome? in
                    if let outcome = fields.outcome { return outcome }
                    if Task.isCancelled { return .failure(.cancelled) }
                    fields.waiters[id] = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = fields.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: .failure(.cancelled))
        }
    }
}

extension AsyncConnection {
    /// Waits until the connection's TLS handshake is complete and returns what it agreed on,
    /// or nil for a connection without TLS. Throws the error that closed the connection first
    /// (``TransportError/tls(_:)``, ``TransportError/tlsHandshakeTimeout``, ...), or
    /// ``TransportError/cancelled`` when the task is cancelled.
    public func tlsHandshake() async throws(TransportError) -> TLSHandshakeSummary? {
        try await state.handshake.wait().get()
    }

    /// Starts TLS over this open plaintext connection (inside an HTTP `CONNECT` tunnel, say)
    /// and waits for the handshake; see ``Connection/startTLS(_:)``.
    ///
    /// Call it when the peer has nothing more to say in plaintext: a byte it sent that was
    /// not read yet fails the call with a `TLSError.protocolViolation`.
    public func startTLS(_ options: TLSOptions) async throws(TransportError) -> TLSHandshakeSummary {
        let connection = self.connection
        let state = self.state
        try await connection.loop.submit { () throws(TransportError) in
            // Checked on the loop, where reads are delivered: nothing can slip in between.
            let unread = state.fields.withLock { !$0.inbox.isEmpty }
            if unread {
                throw .tls(.protocolViolation(reason: "plaintext arrived before the TLS handshake", alertSent: nil))
            }
            state.handshake.restart()
            try connection.value.startTLS(options)
        }
        guard let summary = try await tlsHandshake() else { throw .closed }
        return summary
    }
}
