import EpsilonWebSocket
import EpsilonWebSocketDeflate
import EpsilonTransport

/// What a WebSocket connection tells the tier that serves it (inline or async). Loop thread only.
protocol WebSocketDriverDelegate: AnyObject {
    /// The connection is open.
    func opened(_ driver: WebSocketServerDriver)
    /// A whole message arrived; `payload` is borrowed for the call.
    func received(_ kind: WebSocketMessageKind, _ payload: UnsafeRawBufferPointer, driver: WebSocketServerDriver)
    /// The connection is over (called once; the driver lets go of the delegate then).
    func closed(_ code: WebSocketCloseCode?, reason: String)
    /// The socket's queue drained after having been full.
    func writable(_ driver: WebSocketServerDriver)
}

/// Serves one connection after the `101`: drives a ``WebSocketConnection`` (server role, with
/// permessage-deflate when negotiated) over an ``HTTPServerIO`` with the route's heartbeat,
/// idle and close timers, its outbound limit and policy, broadcast memberships and drain
/// (Close 1001). One timer: it is armed lazily (moved only when an earlier deadline
/// appears) and, when it fires, recomputes what is due.
final class WebSocketServerDriver: HTTPServerSession {
    let io: any HTTPServerIO
    let options: WebSocketRouteOptions
    let request: WebSocketUpgradeRequest
    /// Names the loop (its shared context) for broadcast groups.
    let loopKey: ObjectIdentifier
    var machine: WebSocketConnection
    var events = WebSocketDriverEvents()
    var deflate: WebSocketDeflateHandler<WebSocketDriverEvents>?
    let compressor: WebSocketDeflateCompressor?
    /// The server's window bits when its compressor resets after every message, so a group
    /// can hand it a frame compressed once for all such members.
    let sharedCompressionWindow: Int?
    var delegate: (any WebSocketDriverDelegate)?
    /// Set only while the machine delivers a message (see ``withMachine(_:)``).
    var activeMachine: UnsafeMutablePointer<WebSocketConnection>?
    var groups: [WebSocketBroadcastGroup] = []
    /// The transport closed.
    var transportClosed = false
    /// The close handshake is over (or given up): the TCP connection is closing.
    var finished = false
    var peerClose: (code: WebSocketCloseCode?, reason: String)?
    var lastInput: UInt64 = 0
    var lastMessage: UInt64 = 0
    var pingSentAt: UInt64?
    var lingerUntil: UInt64?
    var armedAt: UInt64?
    var pausedForInbound = false

    /// How long the server keeps reading after its last frame before closing anyway.
    static let linger: UInt64 = 2_000_000_000

    init(io: any HTTPServerIO, loopKey: ObjectIdentifier, options: WebSocketRouteOptions, request: WebSocketUpgradeRequest,
         parameters: WebSocketDeflateParameters?, delegate: any WebSocketDriverDelegate) {
        self.io = io
        self.loopKey = loopKey
        self.options = options
        self.request = request
        self.delegate = delegate
        var configuration = WebSocketConnection.Configuration()
        configuration.maxFramePayload = UInt64(max(options.maxFramePayload, 125))
        configuration.maxMessageSize = UInt64(max(options.maxMessageSize, 125))
        configuration.allowsCompressedMessages = parameters != nil
        configuration.closeTimeout = Self.nanoseconds(options.closeTimeout)
        machine = WebSocketConnection(role: .server, configuration: configuration)
        if let parameters {
            let compressor = WebSocketDeflateCompressor(parameters: parameters, role: .server, memoryLevel: options.compressionMemoryLevel)
            self.compressor = compressor
            sharedCompressionWindow = compressor.isCompressing && compressor.noContextTakeover ? parameters.sendingWindowBits(as: .server) : nil
            deflate = WebSocketDeflateHandler(
                WebSocketDriverEvents(),
                decompressor: WebSocketDeflateDecompressor(parameters: parameters, role: .server, maxMessageSize: options.maxMessageSize))
        } else {
            compressor = nil
            sharedCompressionWindow = nil
        }
        let me = Unmanaged.passUnretained(self)
        events.driver = me
        deflate?.inner.driver = me
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return UInt64(clamping: seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
    }

    /// Whether a message is being delivered (an answer now answers input).
    var isHandlingInput: Bool { activeMachine != nil }

    /// Runs `body` on the machine: the one inside `receive` while a message is delivered
    /// (the handler's `inout` connection), else the stored one.
    func withMachine<Result>(_ body: (inout WebSocketConnection) -> Result) -> Result {
        if let activeMachine {
            // Safe: set only while the machine's own handler call runs, on this thread,
            // pointing at the `inout` connection that call was given.
            return body(&activeMachine.pointee)
        }
        return body(&machine)
    }

    // MARK: HTTPServerSession

    func start() {
        let now = io.now
        lastInput = now
        lastMessage = now
        delegate?.opened(self)
        rearm()
    }

    func tlsHandshakeCompleted() {}

    func receive(_ bytes: UnsafeRawBufferPointer) {
        // After the close handshake what still arrives is read and dropped.
        guard !finished, !transportClosed else { return }
        let now = io.now
        lastInput = now
        pingSentAt = nil
        do throws(WebSocketError) {
            if deflate != nil {
                _ = try machine.receive(bytes, now: now, handler: &deflate!)
            } else {
                _ = try machine.receive(bytes, now: now, handler: &events)
            }
        } catch {
            // The machine failed; the Close that reports it is in its output (flushed next).
        }
        flushOutput()
        rearm()
    }

    func receiveEndOfStream() {
        if !finished { report(peerClose?.code ?? .abnormalClosure, reason: peerClose?.reason ?? "") }
        finished = true
        io.closeAfterFlush()
    }

    func writabilityChanged(isWritable: Bool) {
        guard isWritable, !transportClosed else { return }
        delegate?.writable(self)
    }

    func handleTimer(now: UInt64) {
        armedAt = nil
        guard !transportClosed else { return }
        if let lingerUntil, now >= lingerUntil {
            io.closeAfterFlush()
            return
        }
        if let deadline = machine.nextDeadline, now >= deadline {
            machine.handleTimeouts(now: now)
            flushOutput()
        }
        if !finished, case .open = machine.state {
            if let pingSentAt, now >= pingSentAt &+ Self.nanoseconds(options.pongTimeout) {
                // The peer is gone: no Close handshake with a dead peer (reported as 1006).
                finished = true
                report(.abnormalClosure, reason: "no answer to ping")
                io.abort()
                return
            }
            if pingSentAt == nil, let interval = options.pingInterval, now >= lastInput &+ Self.nanoseconds(interval) {
                pingSentAt = now
                _ = try? machine.sendPing(UnsafeRawBufferPointer(start: nil, count: 0))
                flushOutput()
            }
            if let idle = options.idleTimeout, now >= lastMessage &+ Self.nanoseconds(idle) {
                close(.normalClosure, reason: "idle timeout")
            }
        }
        rearm()
    }

    func drain() {
        // Server shutdown: RFC 6455 §7.4.1 1001 Going Away; the peer answers within the
        // close timeout, else the grace period ends it.
        close(.goingAway, reason: "server shutting down")
    }

    func closed() {
        guard !transportClosed else { return }
        transportClosed = true
        report(peerClose?.code ?? .abnormalClosure, reason: peerClose?.reason ?? "")
        leaveAllGroups()
    }

    // MARK: Output

    /// Moves the machine's output to the socket and closes once the handshake is over.
    func flushOutput() {
        guard !transportClosed else { return }
        withMachine { machine in
            if machine.hasPendingOutput { io.write { machine.writeOutput(into: &$0) } }
        }
        guard activeMachine == nil else { return }
        switch machine.state {
        case .closed, .failed:
            finish()
        case .open, .closeSent, .closeReceived:
            break
        }
    }

    /// The close handshake is over: RFC 6455 §7.1.1, the server closes the TCP connection
    /// first; half-close so the client's last bytes are read, not reset, and linger a moment.
    func finish() {
        guard !finished else { return }
        finished = true
        if let peerClose {
            report(peerClose.code, reason: peerClose.reason)
        } else if case .failed(let error) = machine.state {
            report(error.closeCode, reason: "\(error.rule)")
        } else {
            // Our Close was not answered in time.
            report(.abnormalClosure, reason: "")
        }
        leaveAllGroups()
        io.shutdownOutput()
        lingerUntil = io.now &+ Self.linger
        rearm()
    }

    /// Tells the delegate the connection is over, once.
    func report(_ code: WebSocketCloseCode?, reason: String) {
        guard let delegate else { return }
        self.delegate = nil
        delegate.closed(code, reason: reason)
    }

    /// Whether `count` more bytes fit: the transport is below its high watermark, or the
    /// queue stays within the route's limit.
    func hasRoom(for count: Int) -> Bool {
        io.isWritable || io.pendingWriteBytes + count <= options.maxQueuedBytes
    }

    /// The route's policy for a message that does not fit (when it cannot wait).
    func overflow() -> WebSocketServerSendResult {
        switch options.backpressure {
        case .wait, .drop:
            return .dropped
        case .close(let code):
            close(code, reason: "outbound queue full")
            return .closed
        }
    }

    /// Sends a message; `canWait`: queue it even when full (an answer to input, while reading
    /// is paused by the transport; or the async writer that waited for room).
    func send(_ kind: WebSocketMessageKind, _ payload: UnsafeRawBufferPointer, canWait: Bool) -> WebSocketServerSendResult {
        guard !finished, !transportClosed else { return .closed }
        guard withMachine({ $0.canStartMessage }) else { return .closed }
        if !canWait && !hasRoom(for: payload.count) { return overflow() }
        let sent = withMachine { machine -> Bool in
            do throws(WebSocketUsageError) {
                if let compressor {
                    try machine.sendCompressed(kind, payload: payload, compressor: compressor)
                } else {
                    try machine.send(kind, payload: payload)
                }
                return true
            } catch {
                return false
            }
        }
        guard sent else { return .closed }
        // Inside `receive` the input's time is now; a send from elsewhere reads the clock.
        lastMessage = activeMachine != nil ? lastInput : io.now
        if activeMachine == nil { flushOutput() }
        return .sent
    }

    /// Hands a published frame to this member's socket (the same bytes every member gets, by
    /// reference where the socket can).
    func deliver(_ frame: WebSocketBroadcastFrame) {
        guard !finished, !transportClosed else { return }
        let bytes: ConnectionSharedBytes
        if let compressor, compressor.isCompressing {
            guard let window = sharedCompressionWindow, let shared = frame.compressed[window] else {
                // Context takeover: this member's window is its own; compress for it.
                _ = frame.payload.withUnsafeBytes { send(frame.kind, $0, canWait: false) }
                return
            }
            bytes = shared
        } else {
            bytes = frame.plain
        }
        let ready = withMachine { machine -> Bool in
            guard machine.canStartMessage else { return false }
            // What the machine has queued (a Pong) goes first.
            if machine.hasPendingOutput { io.write { machine.writeOutput(into: &$0) } }
            return true
        }
        guard ready else { return }
        if !io.write(shared: bytes, limit: options.maxQueuedBytes) { _ = overflow() }
    }

    /// Sends a Ping (payload cut to 125 bytes).
    func ping(_ payload: [UInt8]) {
        guard !finished, !transportClosed else { return }
        payload.prefix(125).withUnsafeBytes { bytes in
            withMachine { machine in _ = try? machine.sendPing(bytes) }
        }
        if activeMachine == nil { flushOutput() }
    }

    /// Starts the close handshake (a no-op once it started).
    func close(_ code: WebSocketCloseCode, reason: String) {
        guard !finished, !transportClosed else { return }
        let now = io.now
        var reason = reason
        while reason.utf8.count > 123 { reason.removeLast() }
        withMachine { machine in _ = try? machine.sendClose(code: code, reason: reason, now: now) }
        if activeMachine == nil {
            flushOutput()
            rearm()
        }
    }

    // MARK: Input from the machine (through WebSocketDriverEvents)

    func messageReceived(_ kind: WebSocketMessageKind, _ payload: UnsafeRawBufferPointer, machine: UnsafeMutablePointer<WebSocketConnection>) {
        lastMessage = lastInput
        activeMachine = machine
        defer { activeMachine = nil }
        delegate?.received(kind, payload, driver: self)
    }

    func peerClosed(_ code: WebSocketCloseCode?, reason: String) {
        peerClose = (code, reason)
    }

    // MARK: Inbound pause (async tier)

    func pauseInbound() {
        guard !pausedForInbound else { return }
        pausedForInbound = true
        io.pauseReading()
    }

    func resumeInbound() {
        guard pausedForInbound, !transportClosed else { return }
        pausedForInbound = false
        io.resumeReading()
    }

    // MARK: Groups

    func join(_ group: WebSocketBroadcastGroup) {
        guard !finished, !transportClosed, !groups.contains(where: { $0 === group }) else { return }
        groups.append(group)
        group.add(self)
    }

    func leave(_ group: WebSocketBroadcastGroup) {
        guard let index = groups.firstIndex(where: { $0 === group }) else { return }
        groups.remove(at: index)
        group.remove(self)
    }

    func leaveAllGroups() {
        let groups = self.groups
        self.groups = []
        for group in groups { group.remove(self) }
    }

    // MARK: Timer

    /// The earliest time something may be due.
    var nextDeadline: UInt64? {
        var earliest: UInt64?
        func consider(_ time: UInt64?) {
            guard let time else { return }
            earliest = min(earliest ?? time, time)
        }
        consider(lingerUntil)
        consider(machine.nextDeadline)
        if !finished, case .open = machine.state {
            if let pingSentAt {
                consider(pingSentAt &+ Self.nanoseconds(options.pongTimeout))
            } else if let interval = options.pingInterval {
                consider(lastInput &+ Self.nanoseconds(interval))
            }
            if let idle = options.idleTimeout { consider(lastMessage &+ Self.nanoseconds(idle)) }
        }
        return earliest
    }

    /// Arms the timer if something is due before it fires (a later deadline waits for the
    /// armed one, which re-arms).
    func rearm() {
        guard !transportClosed, let deadline = nextDeadline else { return }
        if let armedAt, armedAt <= deadline { return }
        armedAt = deadline
        io.setTimer(at: deadline)
    }
}

/// The machine's events for a ``WebSocketServerDriver``: assembles each message (the
/// permessage-deflate handler in front of it inflates) and hands it over whole.
struct WebSocketDriverEvents: WebSocketEventHandler {
    var driver: Unmanaged<WebSocketServerDriver>?
    var kind = WebSocketMessageKind.binary
    var message: [UInt8] = []

    mutating func handle(_ event: WebSocketEvent, connection: inout WebSocketConnection) throws(WebSocketError) {
        switch event {
        case .messageBegan(let kind, _):
            self.kind = kind
            message.removeAll(keepingCapacity: message.capacity <= 1 << 16)
        case .messageData(let view):
            message.append(contentsOf: view.bytes)
        case .messageEnded:
            // The driver owns this handler: it is alive while its machine delivers events.
            guard let driver = driver?.takeUnretainedValue() else { return }
            let kind = self.kind
            withUnsafeMutablePointer(to: &connection) { machine in
                message.withUnsafeBytes { driver.messageReceived(kind, $0, machine: machine) }
            }
        case .close(let code, let reason):
            driver?.takeUnretainedValue().peerClosed(code, reason: reason.text)
        case .ping, .pong:
            break
        }
    }
}

extension HTTPServerIO {
    /// By default a plain ``closeAfterFlush()`` (the in-memory I/O).
    func shutdownOutput() { closeAfterFlush() }
}
