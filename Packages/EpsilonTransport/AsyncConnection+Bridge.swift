import Synchronization

/// State shared between a connection's loop-side bridge and its async face.
final class AsyncBridgeState: Sendable {
    // Unchecked: a waiter is stored, taken and resumed only under `fields`' lock (taking it
    // clears it), so it is resumed exactly once; the checked kind costs an allocation and
    // atomics on every read of a small exchange.
    typealias ReadContinuation = UnsafeContinuation<Result<[UInt8]?, TransportError>, Never>

    struct Fields {
        var inbox = AsyncInbox()
        var eof = false
        var closed = false
        var error: TransportError?
        /// The read waiting for bytes (only while the inbox is empty), with the number that lets
        /// its cancellation find it.
        var waiter: (id: UInt64, continuation: ReadContinuation)?
        var nextReadID: UInt64 = 0
        var paused = false
    }

    let fields = Mutex(Fields())
    /// The TLS handshake's outcome (AsyncConnection+TLS.swift).
    let handshake = TLSHandshakeWait()
    /// Bytes buffered for the reader before the loop stops reading from the socket; it reads
    /// again once the reader has taken the inbox down to half of this.
    let inboxLimit: Int

    init(inboxLimit: Int) { self.inboxLimit = max(inboxLimit, 1) }

    /// Takes the waiting read, if any.
    func takeWaiter(_ fields: inout Fields) -> ReadContinuation? {
        defer { fields.waiter = nil }
        return fields.waiter?.continuation
    }

    /// Takes the oldest chunk for a read; `resume` says the loop must read from the socket again.
    func take(_ fields: inout Fields) -> (chunk: [UInt8], resume: Bool)? {
        guard let chunk = fields.inbox.take() else { return nil }
        guard fields.paused && fields.inbox.count <= inboxLimit / 2 else { return (chunk, false) }
        fields.paused = false
        return (chunk, true)
    }
}

/// The loop-side handler that feeds an ``AsyncConnection``. The async reader runs on another
/// thread, so each read is handed on as an array of its own:
/// - a short read is copied out of the loop's buffer;
/// - a read that filled the loop's buffer (a download: the socket likely holds more) is copied
///   into a chunk of up to `inboxLimit` bytes, and the rest of the chunk is read from the socket
///   straight into it, so a bulk transfer costs one copy of the first 64 KiB and one hand-over
///   per chunk rather than a copy and a hand-over per 64 KiB;
/// - while `inboxLimit` bytes wait unread, socket reads pause (back-pressure reaches the peer).
final class AsyncBridgeHandler: ConnectionHandler {
    let state: AsyncBridgeState
    let onActive: ((Connection) -> Void)?
    /// Called instead when the connection closes before it became active (an accepted
    /// connection whose registration or TLS engine failed).
    let onClosedBeforeActive: (() -> Void)?
    private var active = false

    init(state: AsyncBridgeState, onActive: ((Connection) -> Void)?, onClosedBeforeActive: (() -> Void)? = nil) {
        self.state = state
        self.onActive = onActive
        self.onClosedBeforeActive = onClosedBeforeActive
    }

    func connectionDidBecomeActive(_ connection: Connection) {
        active = true
        // Each async write waits until the kernel took its bytes, so the caller bounds the
        // queue; pausing reads on a full queue could instead deadlock two peers that both write
        // more than they read (each waiting for the other to read).
        connection.pausesReadingAboveHighWatermark = false
        if connection.tlsEngine == nil { state.handshake.complete(.success(nil)) }
        onActive?(connection)
    }

    func connectionDidCompleteTLSHandshake(_ connection: Connection) {
        guard let engine = connection.tlsEngine else { return }
        state.handshake.complete(.success(TLSHandshakeSummary(engine: engine)))
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        if bytes.count >= connection.loopReadSize && connection.canReadAhead {
            let room = state.inboxLimit - state.fields.withLock { $0.inbox.count }
            if room > bytes.count {
                readAhead(after: bytes, room: room, on: connection)
                return
            }
        }
        let (waiter, chunk, pause) = state.fields.withLock { fields -> (AsyncBridgeState.ReadContinuation?, [UInt8], Bool) in
            if let waiter = state.takeWaiter(&fields) {
                return (waiter, Array(bytes), false)
            }
            fields.inbox.append(bytes)
            return (nil, [], pauses(&fields))
        }
        waiter?.resume(returning: .success(chunk))
        if pause { connection.pauseReading() }
    }

    /// Copies `bytes` into a chunk of up to `room` bytes, fills the rest from the socket
    /// until it has no more, and hands the chunk on.
    private func readAhead(after bytes: UnsafeRawBufferPointer, room: Int, on connection: Connection) {
        var failure: TransportError?
        let chunk = [UInt8](unsafeUninitializedCapacity: room) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            raw.copyMemory(from: bytes)
            initialized = bytes.count
            reading: while initialized < raw.count {
                switch connection.readAhead(into: UnsafeMutableRawBufferPointer(rebasing: raw[initialized...])) {
                case .read(let count): initialized += count
                case .nothing: break reading
                case .failed(let error):
                    failure = error
                    break reading
                }
            }
        }
        let (waiter, pause) = state.fields.withLock { fields -> (AsyncBridgeState.ReadContinuation?, Bool) in
            if let waiter = state.takeWaiter(&fields) { return (waiter, false) }
            fields.inbox.append(chunk: chunk)
            return (nil, pauses(&fields))
        }
        waiter?.resume(returning: .success(chunk))
        if let failure {
            connection.close(error: failure)
        } else if pause {
            connection.pauseReading()
        }
    }

    /// Whether the inbox just reached its limit, so reading must pause.
    private func pauses(_ fields: inout AsyncBridgeState.Fields) -> Bool {
        guard !fields.paused && fields.inbox.count >= state.inboxLimit else { return false }
        fields.paused = true
        return true
    }

    func connectionDidReadEOF(_ connection: Connection) {
        let waiter = state.fields.withLock { fields -> AsyncBridgeState.ReadContinuation? in
            fields.eof = true
            return state.takeWaiter(&fields)
        }
        waiter?.resume(returning: .success(nil))
    }

    func connectionDidClose(_ connection: Connection, error: TransportError?) {
        let waiter = state.fields.withLock { fields -> AsyncBridgeState.ReadContinuation? in
            fields.closed = true
            fields.error = error
            return state.takeWaiter(&fields)
        }
        state.handshake.complete(.failure(error ?? .closed))
        if let error, error != .closed {
            waiter?.resume(returning: .failure(error))
        } else {
            waiter?.resume(returning: .success(nil))
        }
        if !active { onClosedBeforeActive?() }
    }
}
