import EpsilonHTTP2
import EpsilonTransport

/// Drives one server-role ``HTTP2Connection`` for one connection, on its loop thread: bytes
/// in (``receive(_:)``), request streams out to a ``HTTP2StreamDelegate``, responses back in
/// through ``sendHead(streamID:_:endStream:)``, ``sendBody(streamID:_:)``,
/// ``sendEnd(streamID:trailers:)``, ``reset(streamID:code:)``, and the bytes out to an
/// ``HTTP2SessionIO``.
///
/// Flow control both ways follows the application: request DATA is credited back to the peer
/// only when the delegate reports it read (``bodyConsumed(streamID:count:)``), so a handler
/// that stops reading closes the stream's window and the session holds at most that window;
/// response bytes leave as the peer's windows allow and while the transport's write queue is
/// below its high watermark, and each stream buffers at most ``streamBufferLimit`` beyond
/// that before its writer is told to wait (``HTTP2StreamDelegate/responseWritable(streamID:)``
/// says when to go on). Every defence of the machine (flood bounds, stream limits, header
/// sizes) applies unchanged.
///
/// The delegate may answer from inside its calls: while the machine is receiving, the
/// session routes the answer into the connection the machine lent to its event handler,
/// so the frames leave in the order of the input that caused them.
final class HTTP2ServerSession<Delegate: HTTP2StreamDelegate, IO: HTTP2SessionIO> {
    /// Response octets a stream may hold beyond what the windows let out before its writer
    /// must wait.
    static var streamBufferLimit: Int { 64 * 1024 }

    var machine: HTTP2Connection
    var streams: [UInt32: HTTP2ServerStream] = [:]
    let io: IO
    /// Set once: the dispatcher, which keeps only a weak or unowned reference back.
    var delegate: Delegate!
    /// Nanoseconds of a monotonic clock (the machine's flood windows and SETTINGS timer).
    let clock: () -> UInt64
    /// While the machine is receiving, the connection it lent to the event handler: every
    /// machine call made from a delegate callback goes there (`self.machine` is in use).
    var lent: UnsafeMutablePointer<HTTP2Connection>?
    /// The connection is finished: error, close, or quiescent after GOAWAY.
    private(set) var isClosed = false
    /// The peer shut its sending side (end of stream on the socket).
    private var peerEnded = false
    /// The last time a stream ended or the connection opened (for the idle timer).
    private(set) var idleSince: UInt64

    /// Makes a session over `machine` (a fresh server-role connection, or one made for an
    /// `Upgrade: h2c` hand-off) writing to `io`.
    init(machine: HTTP2Connection, io: IO, clock: @escaping () -> UInt64 = { MonotonicClock.now() }) {
        self.machine = machine
        self.io = io
        self.clock = clock
        idleSince = clock()
    }

    /// Runs `body` on the machine: the lent one inside an event, `self.machine` otherwise.
    @inline(__always)
    func withMachine<Result>(_ body: (inout HTTP2Connection) -> Result) -> Result {
        if let lent { return body(&lent.pointee) }
        return body(&machine)
    }

    /// Whether the machine is receiving (answers are flushed when it returns).
    var isReceiving: Bool { lent != nil }

    /// Streams with a record: requests in progress.
    var activeStreamCount: Int { streams.count }

    // MARK: Input

    /// Feeds bytes from the socket; events go to the delegate, answers to the socket. A
    /// connection error (GOAWAY queued by the machine) aborts every stream and closes.
    func receive(_ bytes: UnsafeRawBufferPointer) {
        guard !isClosed else { return }
        var router = HTTP2SessionEventRouter(session: self)
        do {
            try machine.receive(bytes, now: clock(), handler: &router)
        } catch {
            fail()
            return
        }
        flush()
        closeIfQuiescent()
    }

    /// Applies the machine's timer (SETTINGS_TIMEOUT); a failure closes like a bad frame.
    func handleTimeouts() {
        guard !isClosed else { return }
        do {
            try machine.handleTimeouts(now: clock())
        } catch {
            fail()
        }
    }

    /// When ``handleTimeouts()`` is due, on the session's clock.
    var nextDeadline: UInt64? { machine.nextDeadline }

    /// The machine failed: its GOAWAY goes out, the streams are aborted, the socket closes.
    private func fail() {
        flush()
        close()
    }

    /// Closes after flushing and aborts what is left (the connection is going).
    func close() {
        guard !isClosed else { return }
        isClosed = true
        io.closeAfterFlush()
        abortAll()
    }

    /// The peer shut its sending side: streams in flight still get their responses (the
    /// socket is half open), then the connection closes; no new request can come.
    func peerFinishedSending() {
        peerEnded = true
        closeIfQuiescent()
    }

    /// The socket closed under the session: every unfinished exchange is aborted.
    func connectionClosed() {
        isClosed = true
        abortAll()
    }

    private func abortAll() {
        let ids = streams.keys.sorted()
        streams.removeAll()
        for id in ids { delegate.requestAborted(streamID: id) }
    }

    // MARK: Output

    /// Moves the machine's output to the socket (not while receiving: `receive` does it once
    /// at the end, so one read makes one write).
    func flush() {
        guard lent == nil else { return }
        guard machine.pendingOutputCount > 0 else { return }
        io.write { buffer in machine.writeOutput(into: &buffer) }
    }

    /// After a send outside `receive`: flush, and close if that finished the connection.
    func flushAfterSend() {
        guard lent == nil else { return }
        flush()
        closeIfQuiescent()
    }

    /// Closes once GOAWAY went both ways or the final one was sent, and no stream is left.
    func closeIfQuiescent() {
        guard !isClosed, lent == nil, streams.isEmpty else { return }
        if peerEnded {
            isClosed = true
            io.closeAfterFlush()
            return
        }
        guard machine.isQuiescent else { return }
        // A graceful shutdown's first GOAWAY (last id 2^31-1) waits for its PING's ACK, which
        // makes the machine send the final one: streams the peer opened meanwhile are served.
        if machine.goawaySentLastStreamID == 0x7fff_ffff && machine.goawayReceivedLastStreamID == nil
            && !machine.isClosed { return }
        isClosed = true
        io.closeAfterFlush()
    }

    /// Starts a graceful shutdown (RFC 9113 §6.8): GOAWAY, streams in flight finish, then the
    /// connection closes.
    func beginGracefulShutdown() {
        guard !isClosed else { return }
        withMachine { $0.beginGracefulShutdown() }
        flushAfterSend()
    }

    /// The transport's write queue crossed a watermark: when it drained, streams waiting for
    /// it send again.
    func writabilityChanged() {
        guard io.isWritable else { return }
        pumpAll()
        flushAfterSend()
    }

    /// Closes an idle connection (no stream) with GOAWAY NO_ERROR.
    func closeIdle() {
        guard !isClosed, streams.isEmpty else { return }
        withMachine { $0.sendGoaway(code: .noError) }
        flush()
        isClosed = true
        io.closeAfterFlush()
    }

    // MARK: Events

    /// One machine event, with the lent connection already in `lent`.
    func handle(_ event: HTTP2Event) {
        switch event {
        case .headers(let id, let list, let endStream):
            requestHeaders(id, list, endStream: endStream)
        case .data(let id, let bytes, let endStream):
            requestData(id, bytes, endStream: endStream)
        case .trailers(let id, let list):
            guard var stream = streams[id], !stream.requestEnded else { return }
            stream.requestEnded = true
            streams[id] = stream
            delegate.requestEnd(trailers: list, streamID: id)
            finishIfDone(id)
        case .streamReset(let id, _, _):
            guard let stream = streams.removeValue(forKey: id) else { return }
            streamGone(id, stream)
            delegate.requestAborted(streamID: id)
        case .windowUpdated(let id, _):
            if id == 0 { pumpAll() } else { pump(id) }
        case .settingsChanged, .settingsAcknowledged, .ping, .pingAcknowledged, .goaway, .pushPromise,
             .priority, .priorityUpdate:
            break
        }
    }

    private func requestHeaders(_ id: UInt32, _ list: HTTP2HeaderList, endStream: Bool) {
        guard streams[id] == nil else { return }  // a second head is trailers: never here
        var stream = HTTP2ServerStream(requestEnded: endStream)
        let pushEnabled = machineValue(\.peerSettings.enablePush)
        HTTP2RequestHead.with(list) { head in
            stream.isHead = head.isHead
            if pushEnabled {
                // Kept only for the requests a push promises (so no String per request otherwise).
                stream.scheme = String(decoding: head.scheme, as: UTF8.self)
                stream.authority = String(decoding: head.authority, as: UTF8.self)
            }
            streams[id] = stream
            delegate.requestHead(head, streamID: id)
        }
        if endStream, streams[id] != nil { delegate.requestEnd(trailers: nil, streamID: id) }
        finishIfDone(id)
    }

    private func requestData(_ id: UInt32, _ bytes: UnsafeRawBufferPointer, endStream: Bool) {
        guard var stream = streams[id], !stream.requestEnded else {
            // No one reads it (the exchange finished or was reset): credit it back at once.
            withMachine { $0.consume(streamID: id, count: bytes.count) }
            return
        }
        stream.unconsumed &+= bytes.count
        if endStream { stream.requestEnded = true }
        streams[id] = stream
        if !bytes.isEmpty { delegate.requestBody(bytes, streamID: id) }
        if endStream, streams[id] != nil { delegate.requestEnd(trailers: nil, streamID: id) }
        finishIfDone(id)
    }

    /// Reads one value of the machine, lent or not.
    func machineValue<Value>(_ path: KeyPath<HTTP2Connection, Value>) -> Value {
        if let lent { return lent.pointee[keyPath: path] }
        return machine[keyPath: path]
    }

    /// A stream left the table: what its handler never read goes back to the connection
    /// window (the stream's own window no longer matters).
    func streamGone(_ id: UInt32, _ stream: HTTP2ServerStream) {
        if stream.unconsumed > 0 { withMachine { $0.consume(streamID: id, count: stream.unconsumed) } }
        if streams.isEmpty { idleSince = clock() }
    }

    /// Removes a stream whose request and response are both done.
    func finishIfDone(_ id: UInt32) {
        guard let stream = streams[id], stream.isFinished else { return }
        streams[id] = nil
        streamGone(id, stream)
    }
}

/// The machine's event handler: lends the connection to the session for the event.
struct HTTP2SessionEventRouter<Delegate: HTTP2StreamDelegate, IO: HTTP2SessionIO>: HTTP2EventHandler {
    unowned let session: HTTP2ServerSession<Delegate, IO>

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
