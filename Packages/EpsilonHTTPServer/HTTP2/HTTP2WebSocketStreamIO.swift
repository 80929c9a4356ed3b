/// One HTTP/2 stream seen as a connection by the WebSocket driver that serves it (RFC 8441):
/// the driver's ``HTTPServerIO`` on one side, the stream's ``HTTPServerExchange`` on the
/// session's.
///
/// - Writes become DATA on the stream (the session's response path: the peer's stream and
///   connection windows, and the write queue's watermark); ``pendingWriteBytes`` and
///   ``isWritable`` are what waits on this stream.
/// - ``shutdownOutput()`` and ``closeAfterFlush()`` end the stream (END_STREAM); ``abort()``
///   resets it (RST_STREAM CANCEL).
/// - The peer's DATA is credited back as the driver takes it; while reading is paused it is
///   held here and not credited, so a peer that floods is bounded by the stream's window.
/// - The stream's end (END_STREAM, RST_STREAM, GOAWAY, the connection's loss) reaches the
///   driver as the transport's end. Loop thread only.
final class HTTP2WebSocketStreamIO: HTTPServerIO, HTTPServerExchange {
    private weak var session: HTTP2ServerSession?
    let id: UInt32
    /// The driver, until the stream is over (it holds this object as its I/O).
    private(set) var driver: (any HTTPServerSession)?
    /// When the driver's timer is due (the session's one timer covers it).
    var deadline: UInt64?
    private var paused = false
    /// The peer's bytes that came while reading was paused: at most the stream's window.
    private var held: [UInt8] = []
    /// The peer's END_STREAM came while reading was paused.
    private var endHeld = false
    /// Output gathered from one `write` (handed to the session at once).
    private var scratch: [UInt8] = []

    init(session: HTTP2ServerSession, id: UInt32) {
        self.session = session
        self.id = id
        executor = session.io.executor
    }

    private var exchangeID: HTTPExchangeID { HTTPExchangeID(UInt64(id)) }

    /// Starts `driver` on this stream.
    func start(_ driver: any HTTPServerSession) {
        self.driver = driver
        driver.start()
    }

    // MARK: HTTPServerIO (the driver's side)

    func write(_ body: (inout [UInt8]) -> Void) {
        guard let session, driver != nil else { return }
        body(&scratch)
        guard !scratch.isEmpty else { return }
        scratch.withUnsafeBytes { session.sendBody(exchangeID, $0) }
        scratch.removeAll(keepingCapacity: scratch.capacity <= 64 * 1024)
    }

    var pendingWriteBytes: Int { session?.streams[id]?.pendingCount ?? 0 }

    var writeHighWatermark: Int { HTTP2ServerSession.streamBufferLimit }

    /// Whether the stream holds less than its buffer; when not, the driver hears
    /// `writabilityChanged` once it drained to half.
    var isWritable: Bool { (session?.writableBytes(exchangeID) ?? 0) > 0 }

    func flushNow() { session?.io.flushNow() }

    func closeAfterFlush() { shutdownOutput() }

    /// Both sides' `abort`: the driver's resets the stream (RST_STREAM CANCEL); the
    /// session's comes once the stream left its table (the reset then finds nothing). Either
    /// way the driver hears the transport closed.
    func abort() {
        session?.resetTunnel(id)
        streamEnded()
    }

    func shutdownOutput() {
        session?.sendEnd(exchangeID, trailers: [])
    }

    func pauseReading() { paused = true }

    func resumeReading() {
        guard paused else { return }
        paused = false
        if !held.isEmpty {
            let bytes = held
            held = []
            bytes.withUnsafeBytes { deliver($0) }
        }
        if endHeld, !paused {
            endHeld = false
            driver?.receiveEndOfStream()
        }
    }

    func setTimer(at deadline: UInt64?) {
        self.deadline = deadline
        guard let session, deadline != nil else { return }
        session.armTimer(now: session.io.now)
    }

    var now: UInt64 { session?.io.now ?? 0 }

    let executor: HTTPServerLoopExecutor

    var negotiatedApplicationProtocol: String? { session?.io.negotiatedApplicationProtocol }

    var isSecure: Bool { session?.io.isSecure ?? false }

    /// A stream cannot change protocols again.
    func switchSession(to session: any HTTPServerSession, replaying bytes: UnsafeRawBufferPointer) {}

    // MARK: HTTPServerExchange (the session's side)

    func receiveBody(_ bytes: UnsafeRawBufferPointer) {
        guard driver != nil else { return }
        if paused {
            held.append(contentsOf: bytes)
            return
        }
        deliver(bytes)
    }

    func receiveEnd(trailers: HTTPRequestFieldLines?) {
        if paused {
            endHeld = true
            return
        }
        driver?.receiveEndOfStream()
    }

    func responseWritable() {
        driver?.writabilityChanged(isWritable: true)
    }

    // MARK: Internals

    /// Hands bytes to the driver and returns their credit to the peer.
    private func deliver(_ bytes: UnsafeRawBufferPointer) {
        driver?.receive(bytes)
        session?.bodyConsumed(exchangeID, count: bytes.count)
    }

    /// Lets go of the driver after telling it the transport closed (once).
    private func streamEnded() {
        session?.tunnels[id] = nil
        deadline = nil
        held = []
        guard let driver else { return }
        self.driver = nil
        driver.closed()
    }

    /// The driver's timer is due.
    func fire(now: UInt64) {
        deadline = nil
        driver?.handleTimer(now: now)
    }

    /// Server shutdown: the driver closes with 1001.
    func drain() { driver?.drain() }
}
