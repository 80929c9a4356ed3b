import EpsilonHTTP1
import EpsilonHTTPTypes

/// Serves HTTP/1.1 on one connection: drives an ``HTTP1Connection`` (server role) over an
/// ``HTTPServerIO``, hands each request to the dispatcher and answers through the sink
/// protocol (see HTTPServerSeam.swift).
///
/// Requests are parsed straight out of the read buffer; only an unparsed tail (a head cut by
/// the network, or requests pipelined behind one whose answer is not done) is kept in
/// `carry`, released once it empties. One request is dispatched at a time: the next
/// pipelined one waits until the previous response ended, so answers go out in order; while
/// a response is pending and its request complete, reading pauses (the carry is bounded).
/// One timer enforces the phase the connection is in (silent, idle, head, body).
final class HTTP1ServerSession: HTTPServerSession {
    enum Phase { case silent, idle, head, body, busy, stalled }

    /// The exchange in progress: the request being read and/or answered.
    struct Current {
        var id: HTTPExchangeID
        var exchange: (any HTTPServerExchange)?
        var isHead: Bool
        var headSent = false
        /// The final head ended the message (HEAD, 204, 304, an empty body).
        var bodyless = false
        var responseEnded = false
        var requestEnded = false
        /// Request body delivered to the exchange and not yet consumed by its handler.
        var unconsumed = 0
    }

    let io: any HTTPServerIO
    let context: HTTPServerLoopContext
    var http: HTTP1Connection
    /// Set only while the machine is inside `receive` (the handler's `inout` connection):
    /// sink calls made from the dispatcher during that call must reach that instance.
    /// Everything that may run during `receive` (sink calls, phase checks) reaches the
    /// machine through ``withMachine(_:)``, never through `http` (an overlapping access).
    var activeMachine: UnsafeMutablePointer<HTTP1Connection>?
    var carry: [UInt8] = []
    var current: Current?
    var nextID: UInt64 = 1
    var requestCount = 0
    var phase = Phase.silent
    var deadline: UInt64?
    var timerArmedAt: UInt64?
    var closing = false
    var draining = false
    var peerFinished = false
    var pausedForBody = false
    var pausedForResponse = false
    var inReceive = false
    /// A response writer waits for room the client does not make (it does not read).
    var writerStalled = false
    /// A `100 Continue` was queued during the current `receive`: flush it on its own.
    var sentContinue = false
    /// A status the server's own head checks chose (``HTTP1RequestChecks``) for `failed`.
    var refusalStatus: Int?
    /// Fields of the head being sent (Date, Server, then the handler's), reused.
    var headFields: [(name: String, value: String)] = []
    /// Set when a WebSocket route answered `101`: makes the session that takes over.
    var webSocketSession: ((any HTTPServerIO) -> any HTTPServerSession)?

    init(io: any HTTPServerIO, context: HTTPServerLoopContext) {
        self.io = io
        self.context = context
        let configuration = context.configuration
        var parser = HTTP1Configuration()
        parser.maxHeadBytes = configuration.maxHeaderBytes
        parser.maxFieldCount = configuration.maxHeaderCount
        parser.maxBodyBytes = configuration.maxBodyBytes
        http = HTTP1Connection(role: .server, configuration: parser)
        http.maxPendingRequests = 1
    }

    // MARK: HTTPServerSession

    func start() {
        enter(.silent)
    }

    func tlsHandshakeCompleted() {}

    func receive(_ bytes: UnsafeRawBufferPointer) {
        guard !closing else { return }
        if carry.isEmpty {
            let consumed = process(bytes)
            if !closing && consumed < bytes.count {
                carry = Array(UnsafeRawBufferPointer(rebasing: bytes[consumed...]))
            }
        } else {
            carry.append(contentsOf: bytes)
            processCarry()
        }
        afterInput()
    }

    func receiveEndOfStream() {
        guard !closing else { return }
        peerFinished = true
        if let current, !current.requestEnded {
            // A request cut short by the peer's FIN gets no answer.
            abortCurrent()
            close()
            return
        }
        if current == nil { close() }
        // Otherwise the response under way finishes, then the connection closes.
    }

    func writabilityChanged(isWritable: Bool) {
        guard isWritable, let current, current.headSent, !current.responseEnded else { return }
        if writerStalled {
            writerStalled = false
            updatePhase()
        }
        current.exchange?.responseWritable()
    }

    func handleTimer(now: UInt64) {
        timerArmedAt = nil
        guard !closing, let deadline else { return }
        if now < deadline {
            arm(at: deadline)
            return
        }
        timedOut()
    }

    func drain() {
        draining = true
        if current == nil && carry.isEmpty && http.isIdle { close() }
    }

    func closed() {
        closing = true
        deadline = nil
        abortCurrent()
        carry = []
    }

    // MARK: Input

    /// Parses what `carry` holds, keeping the unconsumed tail.
    func processCarry() {
        let consumed = carry.withUnsafeBytes { process($0) }
        if closing || consumed == carry.count {
            carry = []
        } else if consumed > 0 {
            carry.removeFirst(consumed)
        }
    }

    /// Receives every complete event in `buffer`; returns the bytes consumed.
    func process(_ buffer: UnsafeRawBufferPointer) -> Int {
        var consumed = buffer.count
        var events = HTTP1ServerEvents(session: self)
        inReceive = true
        do throws(HTTP1ParseError) {
            consumed = try http.receive(buffer, handler: &events)
        } catch {
            inReceive = false
            failed(error)
            return buffer.count
        }
        inReceive = false
        flushOutput()
        if sentContinue {
            sentContinue = false
            io.flushNow()
        }
        if http.isUpgraded, let makeSession = webSocketSession {
            webSocketSession = nil
            closing = true
            deadline = nil
            current = nil
            io.setTimer(at: nil)
            io.switchSession(to: makeSession(io), replaying: UnsafeRawBufferPointer(rebasing: buffer[consumed...]))
            return buffer.count
        }
        if http.isUpgraded, let upgrade = events.upgrade {
            let rest = UnsafeRawBufferPointer(rebasing: buffer[consumed...])
            closing = true
            deadline = nil
            io.setTimer(at: nil)
            if let session = HTTPServerSessions.makeUpgradedHTTP2(io: io, context: context, upgrade: upgrade) {
                io.switchSession(to: session, replaying: rest)
            } else {
                io.closeAfterFlush()
            }
            return buffer.count
        }
        if http.isClosed && !closing {
            close()
            return buffer.count
        }
        return consumed
    }

    /// After input was processed: pause or resume, pick the phase's timer.
    func afterInput() {
        guard !closing else { return }
        if let current, current.requestEnded, !current.responseEnded, !carry.isEmpty {
            // Requests pipelined behind one still being answered: read no further for now.
            if !pausedForResponse {
                pausedForResponse = true
                io.pauseReading()
            }
        }
        updatePhase()
    }

    /// The phase the connection is in now.
    func updatePhase() {
        let next: Phase
        let receivingBody = withMachine { $0.isReceivingBody }
        if current != nil && !(current!.requestEnded) && receivingBody {
            next = .body
        } else if let current, current.requestEnded || current.headSent {
            next = current.responseEnded ? (carry.isEmpty ? .idle : .head) : writerStalled ? .stalled : .busy
        } else if !carry.isEmpty {
            next = .head
        } else if phase == .silent {
            next = .silent
        } else {
            next = .idle
        }
        enter(next)
    }

    /// The peer broke HTTP/1.1: answer with the status the machine chose (with Date and
    /// Server), abort what was under way and close. Answers to earlier pipelined requests of
    /// the same read are still in the machine's output, before its error response: they go out.
    func failed(_ error: HTTP1ParseError) {
        var output: [UInt8] = []
        http.writeOutput(into: &output)
        abortCurrent()
        let owesNothing = current.map { $0.responseEnded || !$0.headSent } ?? true
        let status: Int = if let refusalStatus {
            refusalStatus
        } else {
            switch error.rule {
            case .headTooLarge, .tooManyFields: 431
            case .bodyTooLarge: 413
            case .targetTooLong: 414
            case .unsupportedVersion: 505
            default: 400
            }
        }
        // The machine's own error response (RFC 9112 framing, no Date or Server) is replaced.
        let machineAnswer = Array("HTTP/1.1 \(status) \(HTTPStatusReason.phrase(for: status))\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
        let answered = output.count >= machineAnswer.count && output.suffix(machineAnswer.count).elementsEqual(machineAnswer)
        if answered { output.removeLast(machineAnswer.count) }
        if !output.isEmpty { io.write { $0.append(contentsOf: output) } }
        // The machine answers only its own errors; a head the session refused (its target,
        // Host or transfer coding) is answered here when no response is under way.
        if answered || owesNothing { writeErrorResponse(status: status) }
        close()
    }

    /// Writes a complete error response with no content that closes the connection.
    func writeErrorResponse(status: Int) {
        let date = context.date
        let server = context.configuration.serverName
        io.write { out in
            out.append(contentsOf: "HTTP/1.1 \(status) \(HTTPStatusReason.phrase(for: status))\r\nDate: \(date)\r\n".utf8)
            if let server { out.append(contentsOf: "Server: \(server)\r\n".utf8) }
            out.append(contentsOf: "Content-Length: 0\r\nConnection: close\r\n\r\n".utf8)
        }
    }

    func abortCurrent() {
        guard let exchange = current?.exchange else { return }
        current?.exchange = nil
        exchange.abort()
    }

    func close() {
        guard !closing else { return }
        closing = true
        deadline = nil
        io.setTimer(at: nil)
        io.closeAfterFlush()
    }

    /// Moves what the machine produced to the socket's write queue.
    func flushOutput() {
        guard http.hasOutput else { return }
        io.write { http.writeOutput(into: &$0) }
    }
}
