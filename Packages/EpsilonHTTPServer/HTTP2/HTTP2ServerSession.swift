import EpsilonHTTP2

/// Drives one server-role ``HTTP2Connection`` for one connection, on its loop thread (an
/// ``HTTPServerSession``): bytes in, one exchange per request stream through the
/// dispatcher, responses back through the ``HTTPResponseSink`` calls, bytes out through
/// ``HTTPServerIO``. Sans-IO: tests and the fuzzer run it over ``HTTPServerMemoryIO``.
///
/// Flow control both ways follows the application. Request DATA is credited back to the peer
/// only when the handler reports it read (``bodyConsumed(_:count:)``), so a handler that stops
/// reading closes its stream's window and the session holds at most that window (the
/// connection window bounds all streams together). Response bytes leave as the peer's windows
/// allow and while the write queue is below its high watermark; a stream buffers at most
/// ``streamBufferLimit`` beyond that (``writableBytes(_:)`` is then 0, and the exchange hears
/// ``HTTPServerExchange/responseWritable()`` when it may go on). Every defence of the machine
/// (flood bounds, stream limits, header sizes) applies unchanged.
///
/// The dispatcher may answer from inside its calls: while the machine is receiving, the
/// session routes answers into the connection the machine lent to its event handler, so
/// frames leave in the order of the input that caused them.
final class HTTP2ServerSession: HTTPServerSession, HTTPResponseSink {
    /// Response octets a stream may hold beyond what the windows let out.
    static var streamBufferLimit: Int { 64 * 1024 }

    var machine: HTTP2Connection
    var streams: [UInt32: HTTP2ServerStream] = [:]
    let io: any HTTPServerIO
    let context: HTTPServerLoopContext
    /// While the machine is receiving, the connection it lent to the event handler: every
    /// machine call made meanwhile goes there (`self.machine` is in use).
    var lent: UnsafeMutablePointer<HTTP2Connection>?
    /// A response head being built (reused: a response allocates no list).
    var headScratch = HTTP2HeaderList()
    /// The request an `Upgrade: h2c` hand-off brought: stream 1, dispatched on `start()`.
    private var upgradedRequest: HTTP2HeaderList?
    /// The connection is finished: error, close, or quiescent after GOAWAY.
    private(set) var isClosed = false
    /// The peer shut its sending side.
    private var peerEnded = false
    /// Some byte came from the peer (before that the silent timeout applies).
    private var receivedAnything = false
    /// When the last stream ended or the connection opened (for the idle timeout).
    private var idleSince: UInt64 = 0
    /// A graceful shutdown began at this time (nil: none).
    private var drainStarted: UInt64?
    /// The peer's GOAWAY arrived at this time (nil: none). The peer closes next; we close a
    /// second after it once no stream is left, still answering meanwhile (a PING sent after
    /// a GOAWAY gets its ACK, as h2spec 7/2 checks).
    private var peerGoawayAt: UInt64?
    /// The deadline given to ``HTTPServerIO/setTimer(at:)``; re-armed only when it fires or
    /// an earlier one is needed, so a request schedules no timer.
    private var timerDeadline: UInt64?
    /// Since when the write queue has stayed above its high watermark (the peer reads
    /// nothing); after `idleTimeout` of it the connection is aborted, as HTTP/1.1 aborts a
    /// stalled writer. Nil while the queue drains.
    private var unwritableSince: UInt64?
    /// The WebSocket streams (RFC 8441) open on this connection, by stream id: their own
    /// timers and drain.
    var tunnels: [UInt32: HTTP2WebSocketStreamIO] = [:]

    /// A session for a connection that speaks HTTP/2 from its first byte (prior knowledge,
    /// or ALPN `h2`).
    init(io: any HTTPServerIO, context: HTTPServerLoopContext) {
        self.io = io
        self.context = context
        machine = HTTP2Connection(role: .server, configuration: Self.machineConfiguration(context))
    }

    /// A session taking over from HTTP/1.1 after `101 Switching Protocols` (RFC 7540 §3.2):
    /// the request's `HTTP2-Settings` are the client's first SETTINGS, and the request itself
    /// is stream 1, served when the session starts.
    /// - Throws: ``HTTP2ConnectionError`` when the settings payload is not valid.
    init(io: any HTTPServerIO, context: HTTPServerLoopContext, upgrade: HTTPServerH2CUpgrade) throws(HTTP2ConnectionError) {
        self.io = io
        self.context = context
        machine = try HTTP2Connection(
            upgradedServerWith: Self.machineConfiguration(context),
            http2Settings: HTTP2UpgradeSettings.base64URL(upgrade.settingsPayload))
        upgradedRequest = HTTP2UpgradeSettings.headerList(of: upgrade)
        receivedAnything = true
    }

    /// The machine's configuration for the server's limits: stream and request counts,
    /// window sizes from the request body buffer, manual credit (back-pressure), and
    /// extended CONNECT (RFC 8441) when the router serves WebSocket routes.
    static func machineConfiguration(_ context: HTTPServerLoopContext) -> HTTP2Configuration {
        machineConfiguration(context.configuration,
                             extendedConnect: (context.dispatcher as? HTTPRouterDispatcher)?.servesExtendedConnect ?? false)
    }

    /// The machine's configuration for `configuration`'s limits, with extended CONNECT or not.
    static func machineConfiguration(_ configuration: HTTPServerConfiguration, extendedConnect: Bool = false) -> HTTP2Configuration {
        var machine = HTTP2Configuration()
        machine.enableConnectProtocol = extendedConnect
        machine.maxConcurrentStreams = configuration.maxConcurrentStreams
        machine.maxStreamsPerConnection = configuration.maxRequestsPerConnection
        machine.windowReplenishment = .manual
        let window = min(max(configuration.requestBodyBuffer, 16 * 1024), 0x7fff_ffff)
        machine.initialWindowSize = window
        // Room for several streams' windows, so one handler that stops reading does not
        // stall the others; still a bound on what the connection buffers.
        machine.connectionWindowSize = max(65_535, min(window &* 16, 0x7fff_ffff))
        return machine
    }

    /// Runs `body` on the machine: the lent one inside an event, `self.machine` otherwise.
    @inline(__always)
    func withMachine<Result>(_ body: (inout HTTP2Connection) -> Result) -> Result {
        if let lent { return body(&lent.pointee) }
        return body(&machine)
    }

    /// Reads a value of the machine, lent or not.
    func machineValue<Value>(_ path: KeyPath<HTTP2Connection, Value>) -> Value {
        if let lent { return lent.pointee[keyPath: path] }
        return machine[keyPath: path]
    }

    /// Whether the write queue can take more response DATA.
    var ioIsWritable: Bool { io.pendingWriteBytes < io.writeHighWatermark }

    // MARK: HTTPServerSession

    func start() {
        let now = io.now
        idleSince = now
        try? machine.handleTimeouts(now: now)  // starts the SETTINGS timer from now
        if let request = upgradedRequest {
            upgradedRequest = nil
            dispatch(streamID: 1, request, endStream: true)
        }
        flush()
        armTimer(now: now)
    }

    func tlsHandshakeCompleted() {}

    func receive(_ bytes: UnsafeRawBufferPointer) {
        guard !isClosed else { return }
        if !receivedAnything {
            // From now on the idle timeout applies, not the silent one.
            receivedAnything = true
            idleSince = io.now
            armTimer(now: idleSince, force: true)
        }
        var router = HTTP2SessionEventRouter(session: self)
        do {
            try machine.receive(bytes, now: io.now, handler: &router)
        } catch {
            // The machine queued GOAWAY with the error's code: send it, close, abort.
            fail()
            return
        }
        flush()
        closeIfQuiescent()
    }

    func receiveEndOfStream() {
        // No request can start or finish now; responses in flight still go out on the
        // half-open socket, then the connection closes.
        peerEnded = true
        for (id, stream) in streams where !stream.requestEnded {
            streams[id] = nil
            abandon(id, stream)
        }
        flush()
        closeIfQuiescent()
    }

    func writabilityChanged(isWritable: Bool) {
        guard !isClosed else { return }
        guard isWritable else {
            noteUnwritable(now: io.now)
            return
        }
        unwritableSince = nil
        pumpAll()
        flushAfterSend()
    }

    func handleTimer(now: UInt64) {
        timerDeadline = nil
        guard !isClosed else { return }
        var now = now
        if !tunnels.isEmpty {
            fireTunnelTimers(now: now)
            guard !isClosed else { return }
            // A stream that ended meanwhile set `idleSince` from the clock, which has moved on.
            now = max(now, io.now)
        }
        if let deadline = machine.nextDeadline, now >= deadline {
            do {
                try machine.handleTimeouts(now: now)
            } catch {
                fail()  // SETTINGS_TIMEOUT: GOAWAY queued
                return
            }
        }
        if io.isWritable {
            unwritableSince = nil
        } else if let since = unwritableSince, now >= since &+ Self.nanoseconds(context.configuration.idleTimeout) {
            // The peer has read nothing for the idle timeout: a GOAWAY could not get out either.
            isClosed = true
            io.abort()
            closed()
            return
        } else {
            noteUnwritable(now: now)
        }
        if !streams.isEmpty {
            expireSlowBodies(now: now)
            guard !isClosed else { return }
            // As for tunnels: a stream cut here set `idleSince` from the clock.
            now = max(now, io.now)
        }
        if streams.isEmpty {
            let limit = receivedAnything ? context.configuration.idleTimeout : context.configuration.silentTimeout
            if now &- idleSince >= Self.nanoseconds(limit) {
                closeWithGoaway()
                return
            }
            // A drain whose PING is never answered still ends, a second after it began; so
            // does a connection whose peer said GOAWAY and did not close.
            if let started = drainStarted ?? peerGoawayAt, now &- started >= 1_000_000_000 {
                closeWithGoaway()
                return
            }
        }
        armTimer(now: now)
    }

    func drain() {
        guard !isClosed, drainStarted == nil else { return }
        drainStarted = io.now
        withMachine { $0.beginGracefulShutdown() }
        drainTunnels()
        flushAfterSend()
        if !isClosed { armTimer(now: io.now, force: true) }
    }

    func closed() {
        isClosed = true
        let ids = streams.keys.sorted()
        let table = streams
        streams.removeAll()
        for id in ids { table[id]?.exchange?.abort() }
    }

    // MARK: HTTPResponseSink (the rest is in HTTP2ServerSession+Responses.swift)

    var executor: HTTPServerLoopExecutor { io.executor }

    // MARK: Closing

    /// The machine failed (its GOAWAY is queued) or a timer expired: flush, close, abort.
    private func fail() {
        flush()
        isClosed = true
        io.closeAfterFlush()
        closed()
    }

    /// Sends GOAWAY NO_ERROR (if none went yet) and closes.
    private func closeWithGoaway() {
        if machine.goawaySentLastStreamID == nil || drainStarted != nil { machine.sendGoaway(code: .noError) }
        fail()
    }

    /// Closes once no stream is left and GOAWAY went (either way) or the peer stopped sending.
    func closeIfQuiescent() {
        guard !isClosed, lent == nil, streams.isEmpty else { return }
        let done: Bool
        if peerEnded || machine.isClosed {
            done = true
        } else if let last = machine.goawaySentLastStreamID {
            // A graceful shutdown's first GOAWAY (last id 2^31-1) waits for its PING's ACK,
            // which makes the machine send the final one: streams opened meanwhile are served.
            done = last != 0x7fff_ffff
        } else {
            done = false
        }
        guard done else { return }
        flush()
        isClosed = true
        io.closeAfterFlush()
    }

    // MARK: Output and time

    /// Moves the machine's output to the write queue (not while receiving: `receive` does
    /// it once at the end, so one read makes one write).
    func flush() {
        guard lent == nil, machine.pendingOutputCount > 0 else { return }
        io.write { buffer in machine.writeOutput(into: &buffer) }
    }

    /// After a sink call from outside `receive`: flush, and close if that finished the connection.
    func flushAfterSend() {
        guard lent == nil else { return }
        flush()
        closeIfQuiescent()
    }

    /// Arms the one timer for the earliest of: the SETTINGS deadline, the idle (or silent)
    /// deadline while no stream is open, a second after a drain began or the peer's GOAWAY
    /// came (once no stream is left). With streams open it looks again after the idle
    /// timeout. Only moves an armed timer earlier (or on `force`).
    func armTimer(now: UInt64, force: Bool = false) {
        let idle = Self.nanoseconds(receivedAnything ? context.configuration.idleTimeout : context.configuration.silentTimeout)
        var deadline = streams.isEmpty ? idleSince &+ idle : now &+ idle
        // May run inside an event (a stream ending): the machine may be lent.
        if let settings = machineValue(\.nextDeadline) { deadline = min(deadline, settings) }
        if let tunnel = earliestTunnelDeadline { deadline = min(deadline, tunnel) }
        if let body = earliestBodyDeadline { deadline = min(deadline, body) }
        if let since = unwritableSince { deadline = min(deadline, since &+ Self.nanoseconds(context.configuration.idleTimeout)) }
        if streams.isEmpty, let started = drainStarted ?? peerGoawayAt {
            deadline = min(deadline, max(started &+ 1_000_000_000, now))
        }
        if !force, let armed = timerDeadline, armed <= deadline { return }
        timerDeadline = deadline
        io.setTimer(at: deadline)
    }

    /// The write queue is above its high watermark: starts the stall clock (once) and arms
    /// the timer for its end.
    private func noteUnwritable(now: UInt64) {
        guard unwritableSince == nil else { return }
        unwritableSince = now
        armBodyTimer(at: now &+ Self.nanoseconds(context.configuration.idleTimeout))
    }

    /// Moves the armed timer earlier to `deadline` (a request body's), if it is earlier.
    func armBodyTimer(at deadline: UInt64) {
        if let armed = timerDeadline, armed <= deadline { return }
        timerDeadline = deadline
        io.setTimer(at: deadline)
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000).partialValue &+ UInt64(attoseconds / 1_000_000_000)
    }

    /// The peer sent GOAWAY: the connection ends a second after its last stream.
    func peerSentGoaway() {
        guard peerGoawayAt == nil else { return }
        peerGoawayAt = io.now
        armTimer(now: io.now)
    }

    /// A stream ended: the idle clock restarts when it was the last, and a connection that is
    /// ending (drain, the peer's GOAWAY) gets its closing deadline.
    func noteStreamEnded() {
        guard streams.isEmpty else { return }
        idleSince = io.now
        // A dictionary keeps the capacity of its busiest moment; an idle connection need not.
        if streams.capacity > 8 { streams = [:] }
        if drainStarted != nil || peerGoawayAt != nil { armTimer(now: idleSince, force: true) }
    }
}

/// The machine's event handler: lends the connection to the session for each event.
struct HTTP2SessionEventRouter: HTTP2EventHandler {
    unowned let session: HTTP2ServerSession

    mutating func handle(_ event: HTTP2Event, connection: inout HTTP2Connection) throws(HTTP2ConnectionError) {
        let session = self.session
        withUnsafeMutablePointer(to: &connection) { pointer in
            let outer = session.lent
            session.lent = pointer
            defer { session.lent = outer }
            session.handle(event)
        }
    }
}
