import EpsilonTransport

/// Drives one server connection's session over the transport: the ``ConnectionHandler`` the
/// listener makes per connection, and the ``HTTPServerIO`` its session writes through.
final class HTTPServerConnectionHandler: ConnectionHandler, HTTPServerIO {
    private var session: (any HTTPServerSession)?
    private let makeSession: (HTTPServerConnectionHandler) -> any HTTPServerSession
    /// Set in `connectionDidBecomeActive`, cleared in `connectionDidClose`. Strong, although the
    /// connection owns this handler: a weak reference gives every `Connection` a side table, and
    /// then each retain and release of it (every write of a broadcast's fan-out) takes the
    /// runtime's slow path. The close cuts the cycle.
    private(set) var connection: Connection?
    private var timer: LoopTimer?
    private var timerDeadline: UInt64?
    private var isClosed = false

    let writeHighWatermark: Int

    init(writeHighWatermark: Int, makeSession: @escaping (HTTPServerConnectionHandler) -> any HTTPServerSession) {
        self.writeHighWatermark = writeHighWatermark
        self.makeSession = makeSession
    }

    // MARK: ConnectionHandler

    func connectionDidBecomeActive(_ connection: Connection) {
        self.connection = connection
        let session = makeSession(self)
        self.session = session
        session.start()
    }

    func connectionDidCompleteTLSHandshake(_ connection: Connection) {
        session?.tlsHandshakeCompleted()
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        session?.receive(bytes)
    }

    func connectionDidReadEOF(_ connection: Connection) {
        session?.receiveEndOfStream()
    }

    func connectionWritabilityDidChange(_ connection: Connection) {
        session?.writabilityChanged(isWritable: connection.isWritable)
    }

    func connectionShouldDrain(_ connection: Connection) {
        session?.drain()
    }

    func connectionDidClose(_ connection: Connection, error: TransportError?) {
        isClosed = true
        setTimer(at: nil)
        let session = self.session
        self.session = nil
        session?.closed()
        self.connection = nil
    }

    // MARK: HTTPServerIO

    func write(_ body: (inout [UInt8]) -> Void) {
        connection?.write(body)
    }

    var pendingWriteBytes: Int { connection?.pendingWriteBytes ?? 0 }

    var isWritable: Bool { connection?.isWritable ?? false }

    func flushNow() { connection?.flush() }

    func closeAfterFlush() { connection?.closeAfterFlush() }

    func abort() { connection?.reset() }

    func shutdownOutput() { connection?.shutdownOutput() }

    func pauseReading() { connection?.pauseReading() }

    func resumeReading() { connection?.resumeReading() }

    var now: UInt64 { MonotonicClock.now() }

    var executor: HTTPServerLoopExecutor {
        let loop = connection?.loop
        return HTTPServerLoopExecutor { task in loop?.execute(task) ?? false }
    }

    var negotiatedApplicationProtocol: String? { connection?.tlsEngine?.applicationProtocol }

    var isSecure: Bool { connection?.tlsEngine != nil }

    func setTimer(at deadline: UInt64?) {
        guard let connection else { return }
        if let timer {
            connection.loop.cancelTimer(timer)
            self.timer = nil
        }
        timerDeadline = deadline
        guard let deadline, !isClosed else { return }
        let now = MonotonicClock.now()
        let delay = deadline > now ? Duration.nanoseconds(Int64(clamping: deadline - now)) : .zero
        timer = connection.loop.scheduleTimer(after: delay) { [weak self] in
            guard let self, !self.isClosed else { return }
            self.timer = nil
            self.timerDeadline = nil
            self.session?.handleTimer(now: MonotonicClock.now())
        }
    }

    func switchSession(to session: any HTTPServerSession, replaying bytes: UnsafeRawBufferPointer) {
        let carried = Array(bytes)
        self.session = session
        session.start()
        if !carried.isEmpty, !isClosed {
            carried.withUnsafeBytes { session.receive($0) }
        }
    }
}
