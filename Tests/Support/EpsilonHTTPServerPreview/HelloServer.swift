import EpsilonHTTP1
import EpsilonTLS
import EpsilonTransport

/// A first HTTP/1.1 server built only from EpsilonTransport and EpsilonHTTP1: every request
/// gets `200 OK` with a fixed plain-text body. Keep-alive and pipelining work; it proves the
/// seam end to end (the full server with routing and HTTP/2 is a later module). Given a TLS
/// context it serves HTTPS: the transport puts a TLS engine under the same handler.
///
/// ```swift
/// let group = try IOLoopGroup()
/// let server = try await HelloServer.start(on: group, address: .ipv4("127.0.0.1", port: 8080))
/// print("listening on \(server.localAddress)")
///
/// let tls = try HelloServer.tlsContext(certificateFile: "chain.pem", privateKeyFile: "key.pem")
/// let https = try await HelloServer.start(on: group, address: .ipv4("127.0.0.1", port: 8443), tls: tls)
/// ```
public enum HelloServer {
    /// Starts the server on `group` (one `SO_REUSEPORT` listener per loop) and returns it;
    /// stop it with ``TCPServer/shutdown(gracePeriod:)``.
    ///
    /// Three timers bound what a client can hold (slow-loris defences):
    /// `readHeaderTimeout` bounds the time from the first byte of a request to the end of its
    /// head and `readBodyTimeout` the time from the end of a head to the end of its body; past
    /// either the server answers `408 Request Timeout` and closes. `idleTimeout` closes a
    /// connection that sends nothing: after it opens or between keep-alive requests.
    /// `options.connection.idleTimeout` still applies as the transport's own bound.
    ///
    /// With `tls` (a server context, see ``tlsContext(certificateFile:privateKeyFile:)``) every
    /// connection runs TLS; a failed handshake or a client that leaves without `close_notify`
    /// only ends that connection.
    public static func start(on group: IOLoopGroup, address: SocketEndpoint, body: String = "Hello, World!",
                             readHeaderTimeout: Duration = .seconds(10),
                             readBodyTimeout: Duration = .seconds(30),
                             idleTimeout: Duration = .seconds(60),
                             options: ListenerOptions = ListenerOptions(),
                             tls: TLSContext? = nil) async throws(TransportError) -> TCPServer {
        let responses = HelloResponses(body: body)
        var options = options
        if let tls { options.connection.tls = .server(tls) }
        return try await TCPServer.start(on: group, address: address, options: options) {
            HelloHandler(responses: responses, timeouts: HelloTimeouts(
                head: readHeaderTimeout, body: readBodyTimeout, idle: idleTimeout))
        }
    }

    /// The server context `epsilon serve --cert --key` uses: the certificate chain (PEM, leaf
    /// first) and its private key, the default policy (TLS 1.2 and 1.3, forward-secret suites
    /// only) and ALPN `http/1.1`, the only protocol this server speaks.
    public static func tlsContext(certificateFile: String, privateKeyFile: String) throws(TLSError) -> TLSContext {
        try TLSContext(server: TLSServerConfiguration(
            identity: TLSIdentity(certificateFile: certificateFile, privateKeyFile: privateKeyFile),
            applicationProtocols: ["http/1.1"]))
    }

    /// Runs the server until the calling task is cancelled, then shuts it down gracefully;
    /// with `tls` it serves HTTPS.
    /// `log` receives one line on start (address, loops, backend and why it was chosen) and one on stop.
    public static func run(host: String = "127.0.0.1", port: UInt16 = 8080, loops: Int = IOLoopGroup.coreCount,
                           body: String = "Hello, World!", tls: TLSContext? = nil,
                           log: @Sendable (String) -> Void) async throws {
        let address = host.contains(":") ? try SocketEndpoint.ipv6(host, port: port) : try SocketEndpoint.ipv4(host, port: port)
        let (backend, reason) = PollerBackend.detect()
        let group = try IOLoopGroup(loopCount: loops, backend: backend)
        do {
            let server = try await start(on: group, address: address, body: body, tls: tls)
            let scheme = tls == nil ? "HTTP/1.1" : "HTTPS (TLS 1.2/1.3, ALPN http/1.1)"
            log("serving plain hello over \(scheme) on \(server.localAddress) with \(loops) loop(s), backend \(backend) (\(reason))")
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(3600))
            }
            let forced = await server.shutdown(gracePeriod: .seconds(5))
            log("stopped (\(forced) connection(s) closed by force)")
        } catch {
            await group.shutdown()
            throw error
        }
        await group.shutdown()
    }
}

/// What ``HelloHandler`` answers with, built once and shared read-only: the body, the fields
/// of every response, and the serialized `408` the timers send.
struct HelloResponses: Sendable {
    let body: [UInt8]
    let fields: [(name: String, value: String)]
    let requestTimeout: [UInt8]

    init(body: String) {
        self.body = Array(body.utf8)
        fields = [("Server", "epsilon-preview"), ("Content-Type", "text/plain")]
        var out: [UInt8] = []
        let text = "request timeout\n"
        // The inputs are constants checked here once; a failure is a programming error.
        do throws(HTTP1SerializeError) {
            try HTTP1Serializer.writeStatusLine(status: 408, reason: "Request Timeout", into: &out)
            for field in fields { try HTTP1Serializer.writeField(name: field.name, value: field.value, into: &out) }
            try HTTP1Serializer.writeField(name: "Content-Length", value: UInt64(text.utf8.count), into: &out)
            try HTTP1Serializer.writeField(name: "Connection", value: "close", into: &out)
        } catch {
            preconditionFailure("constant response head rejected: \(error)")
        }
        HTTP1Serializer.writeEndOfHead(into: &out)
        out += text.utf8
        requestTimeout = out
    }
}

/// How long a client may take: for a head, for a body, and to send anything at all.
struct HelloTimeouts: Sendable {
    var head: Duration
    var body: Duration
    var idle: Duration
}

/// Answers every request inline as ``HTTP1Connection`` delivers it: `100 Continue` when asked,
/// then `200` with the fixed body at the request's end (`405` and close for CONNECT, which
/// this server does not tunnel).
struct HelloResponder: HTTP1ConnectionHandler {
    let responses: HelloResponses
    /// A graceful shutdown asked this connection to close after its current response.
    var draining = false
    var isConnect = false

    mutating func handle(_ event: HTTP1Event, bytes: UnsafeRawBufferPointer, connection: inout HTTP1Connection) throws(HTTP1ParseError) {
        switch event {
        case .head(let head):
            isConnect = head.method.count == 7 && bytes[head.method].elementsEqual("CONNECT".utf8)
        case .expectContinue:
            try? connection.sendContinue()
        case .end:
            // Upgrade requests are answered like any other: this server declines to switch
            // (RFC 9110 §7.8 lets it ignore Upgrade) and keeps speaking HTTP/1.1.
            do throws(HTTP1UsageError) {
                if isConnect {
                    try connection.sendResponseHead(status: 405, reason: "Method Not Allowed", fields: responses.fields,
                                                    body: .empty, close: true)
                    return
                }
                try connection.sendResponseHead(status: 200, reason: "OK", fields: responses.fields,
                                                body: .known(UInt64(responses.body.count)), close: draining)
                try connection.sendBody(responses.body)
                try connection.sendEnd()
            } catch {
                // Only a programming error can land here: every response is well formed and
                // answers the request just ended. Close rather than send a broken stream.
                assertionFailure("response refused: \(error)")
            }
        default:
            break
        }
    }
}

/// Drives one ``HTTP1Connection`` per connection inline on the loop thread.
///
/// Requests are parsed straight out of the loop's read buffer. Only the unparsed tail of a
/// read (a head cut in two by the network) is copied into `carry`, which is released as soon
/// as it empties, so an idle keep-alive connection holds no read buffer. One timer per
/// connection enforces the phase it is in (idle, head, body); it is re-armed only when a
/// phase ends before it fires, so the steady state schedules no timer per request.
final class HelloHandler: ConnectionHandler {
    private enum Phase { case idle, head, body }

    private var http = HTTP1Connection(role: .server)
    private var responder: HelloResponder
    private var carry: [UInt8] = []
    private var outbound: [UInt8] = []
    private var closing = false
    private let timeouts: HelloTimeouts
    private var phase = Phase.idle
    private var deadline: ContinuousClock.Instant
    private var timer: LoopTimer?
    private var timerFiresAt: ContinuousClock.Instant?

    init(responses: HelloResponses, timeouts: HelloTimeouts) {
        responder = HelloResponder(responses: responses)
        self.timeouts = timeouts
        deadline = .now + timeouts.idle
    }

    func connectionDidBecomeActive(_ connection: Connection) {
        enter(.idle, on: connection)
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        guard !closing else { return }
        if carry.isEmpty {
            let consumed = process(bytes, on: connection)
            if !closing && consumed < bytes.count {
                carry = Array(UnsafeRawBufferPointer(rebasing: bytes[consumed...]))
            }
        } else {
            carry.append(contentsOf: bytes)
            let consumed = carry.withUnsafeBytes { process($0, on: connection) }
            if closing || consumed == carry.count {
                carry = []
            } else if consumed > 0 {
                carry.removeFirst(consumed)
            }
        }
        guard !closing else { return }
        let next: Phase = http.isReceivingBody ? .body : carry.isEmpty ? .idle : .head
        if next == .idle && phase == .idle && timer != nil {
            // Still between requests after answering some: the client is not silent. Only the
            // deadline moves; the armed timer, due earlier, re-arms itself for the rest.
            deadline = .now + timeouts.idle
        } else {
            enter(next, on: connection)
        }
    }

    /// Receives every complete event in `buffer`, writes the answers; returns the bytes consumed.
    private func process(_ buffer: UnsafeRawBufferPointer, on connection: Connection) -> Int {
        var consumed = buffer.count
        do throws(HTTP1ParseError) {
            consumed = try http.receive(buffer, handler: &responder)
        } catch {
            // The connection wrote its 400 (413, 431) with `Connection: close`.
        }
        if http.hasOutput {
            http.writeOutput(into: &outbound)
            connection.write(outbound)
            outbound.removeAll(keepingCapacity: true)
        }
        if http.isClosed || http.isUpgraded {
            closing = true
            connection.closeAfterFlush()
            return buffer.count
        }
        return consumed
    }

    /// Moves to `phase` (a new deadline when it changes) and makes sure the timer fires by it.
    private func enter(_ next: Phase, on connection: Connection) {
        guard next != phase || timer == nil else { return }
        phase = next
        let limit: Duration = switch next {
        case .idle: timeouts.idle
        case .head: timeouts.head
        case .body: timeouts.body
        }
        deadline = .now + limit
        if let firesAt = timerFiresAt, firesAt <= deadline, timer != nil { return }
        if let timer { connection.loop.cancelTimer(timer) }
        arm(after: limit, on: connection)
    }

    private func arm(after delay: Duration, on connection: Connection) {
        timerFiresAt = .now + delay
        timer = connection.loop.scheduleTimer(after: delay) { [weak self, weak connection] in
            guard let self, let connection else { return }
            self.timer = nil
            self.timerFiresAt = nil
            guard !self.closing && !connection.isClosed else { return }
            let now = ContinuousClock.now
            if now < self.deadline {
                // The phase changed since this timer was armed: wait for its own deadline.
                self.arm(after: self.deadline - now, on: connection)
                return
            }
            self.closing = true
            self.carry = []
            // A client cut off mid-request learns why; a silent one is just closed.
            if self.phase != .idle { connection.write(self.responder.responses.requestTimeout) }
            connection.closeAfterFlush()
        }
    }

    /// Graceful shutdown: an idle connection closes now; one in the middle of a request gets
    /// its response (with `Connection: close`) and then closes.
    func connectionShouldDrain(_ connection: Connection) {
        responder.draining = true
        if http.isIdle && carry.isEmpty {
            closing = true
            connection.closeAfterFlush()
        }
    }

    func connectionDidClose(_ connection: Connection, error: TransportError?) {
        if let timer {
            connection.loop.cancelTimer(timer)
            self.timer = nil
        }
    }

    func connectionDidReadEOF(_ connection: Connection) {
        // A request cut short by the peer's FIN gets no answer; finished ones were answered.
        connection.closeAfterFlush()
    }
}
