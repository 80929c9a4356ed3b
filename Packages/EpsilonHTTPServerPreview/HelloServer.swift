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
    /// `readHeaderTimeout` bounds the time from the first byte of a request to the end of its
    /// head (slow-loris defence): past it the server answers `408 Request Timeout` and closes.
    /// Idle keep-alive connections are bounded by `options.connection.idleTimeout` instead.
    ///
    /// With `tls` (a server context, see ``tlsContext(certificateFile:privateKeyFile:)``) every
    /// connection runs TLS; a failed handshake or a client that leaves without `close_notify`
    /// only ends that connection.
    public static func start(on group: IOLoopGroup, address: SocketEndpoint, body: String = "Hello, World!",
                             readHeaderTimeout: Duration = .seconds(10),
                             options: ListenerOptions = ListenerOptions(),
                             tls: TLSContext? = nil) async throws(TransportError) -> TCPServer {
        let responses = HelloResponses(body: body)
        var options = options
        if let tls { options.connection.tls = .server(tls) }
        return try await TCPServer.start(on: group, address: address, options: options) {
            HelloHandler(responses: responses, readHeaderTimeout: readHeaderTimeout)
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

/// The serialized responses, built once with ``HTTP1Serializer`` and shared read-only.
struct HelloResponses: Sendable {
    let keepAlive: [UInt8]
    let close: [UInt8]
    let badRequest: [UInt8]
    let requestTimeout: [UInt8]
    let continueInterim: [UInt8]

    init(body: String) {
        func response(status: Int, reason: String, body: String, close: Bool) -> [UInt8] {
            var out: [UInt8] = []
            // The inputs are constants checked here once; a failure is a programming error.
            do throws(HTTP1SerializeError) {
                try HTTP1Serializer.writeStatusLine(status: status, reason: reason, into: &out)
                try HTTP1Serializer.writeField(name: "Server", value: "epsilon-preview", into: &out)
                try HTTP1Serializer.writeField(name: "Content-Type", value: "text/plain", into: &out)
                try HTTP1Serializer.writeField(name: "Content-Length", value: UInt64(body.utf8.count), into: &out)
                if close { try HTTP1Serializer.writeField(name: "Connection", value: "close", into: &out) }
            } catch {
                preconditionFailure("constant response head rejected: \(error)")
            }
            HTTP1Serializer.writeEndOfHead(into: &out)
            out += body.utf8
            return out
        }
        keepAlive = response(status: 200, reason: "OK", body: body, close: false)
        close = response(status: 200, reason: "OK", body: body, close: true)
        badRequest = response(status: 400, reason: "Bad Request", body: "bad request\n", close: true)
        requestTimeout = response(status: 408, reason: "Request Timeout", body: "request timeout\n", close: true)
        var interim: [UInt8] = []
        do throws(HTTP1SerializeError) {
            try HTTP1Serializer.writeStatusLine(status: 100, reason: "Continue", into: &interim)
        } catch {
            preconditionFailure("constant status line rejected: \(error)")
        }
        HTTP1Serializer.writeEndOfHead(into: &interim)
        continueInterim = interim
    }
}

/// Drives one ``HTTP1Parser`` per connection inline on the loop thread.
///
/// Requests are parsed straight out of the loop's read buffer. Only the unparsed tail of a
/// read (a request cut in two by the network) is copied into `carry`, which is released as
/// soon as it empties, so an idle keep-alive connection holds no buffer.
final class HelloHandler: ConnectionHandler {
    private var parser = HTTP1Parser(role: .request)
    private var carry: [UInt8] = []
    private var keepAlive = true
    private var closing = false
    private let responses: HelloResponses
    private let readHeaderTimeout: Duration
    private var headTimer: LoopTimer?

    init(responses: HelloResponses, readHeaderTimeout: Duration) {
        self.responses = responses
        self.readHeaderTimeout = readHeaderTimeout
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        guard !closing else { return }
        defer { updateHeadTimer(on: connection) }
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
    }

    /// True between messages and while a head is incomplete.
    private var waitingForHead = true

    /// Arms the read-header timer when part of a head is buffered, cancels it otherwise.
    /// One timer per incomplete head, not per read: O(log n) each.
    private func updateHeadTimer(on connection: Connection) {
        let partialHead = !closing && waitingForHead && !carry.isEmpty
        if partialHead && headTimer == nil {
            headTimer = connection.loop.scheduleTimer(after: readHeaderTimeout) { [weak self, weak connection] in
                guard let self, let connection else { return }
                self.headTimer = nil
                guard !self.closing && !connection.isClosed else { return }
                self.closing = true
                self.carry = []
                connection.write(self.responses.requestTimeout)
                connection.closeAfterFlush()
            }
        } else if !partialHead, let timer = headTimer {
            connection.loop.cancelTimer(timer)
            headTimer = nil
        }
    }

    private var drainRequested = false

    /// Graceful shutdown: an idle connection closes now; one in the middle of a request gets
    /// its response (with `Connection: close`) and then closes.
    func connectionShouldDrain(_ connection: Connection) {
        drainRequested = true
        if waitingForHead && carry.isEmpty {
            closing = true
            connection.closeAfterFlush()
        }
    }

    func connectionDidClose(_ connection: Connection, error: TransportError?) {
        if let timer = headTimer {
            connection.loop.cancelTimer(timer)
            headTimer = nil
        }
    }

    /// Parses every complete event in `buffer`; returns the bytes consumed.
    private func process(_ buffer: UnsafeRawBufferPointer, on connection: Connection) -> Int {
        var offset = 0
        while !closing {
            let step: HTTP1Step
            do {
                step = try parser.parse(UnsafeRawBufferPointer(rebasing: buffer[offset...]))
            } catch {
                closing = true
                connection.write(responses.badRequest)
                connection.closeAfterFlush()
                return buffer.count
            }
            offset += step.consumed
            switch step.event {
            case .needMoreData:
                return offset
            case .head(let head):
                keepAlive = head.keepAlive
                waitingForHead = false
            case .expectContinue:
                connection.write(responses.continueInterim)
            case .upgrade:
                // The request asked to switch protocols; this server declines (RFC 9110 §7.8
                // lets it ignore Upgrade), answers it like any other and keeps parsing HTTP/1.1.
                parser.declineUpgrade()
                fallthrough
            case .end:
                waitingForHead = true
                if keepAlive && !drainRequested {
                    connection.write(responses.keepAlive)
                } else {
                    closing = true
                    connection.write(responses.close)
                    connection.closeAfterFlush()
                }
            case .body, .chunkHeader, .chunkEnd, .trailers:
                break
            }
        }
        return buffer.count
    }

    func connectionDidReadEOF(_ connection: Connection) {
        // A request cut short by the peer's FIN gets no answer; finished ones were answered.
        connection.closeAfterFlush()
    }
}
