import EpsilonHTTP2

/// Chooses a connection's protocol once, then hands the connection to that protocol's
/// session (``HTTPServerIO/switchSession(to:replaying:)``):
///
/// - over TLS, by ALPN after the handshake: `h2` → ``HTTP2ServerSession``, anything else
///   (`http/1.1`, no ALPN) → HTTP/1.1;
/// - in cleartext with ``HTTPServerConfiguration/allowsCleartextHTTP2``, by the first bytes:
///   the HTTP/2 preface → HTTP/2 (prior knowledge), anything else → HTTP/1.1 (whose session
///   handles `Upgrade: h2c`). At most 23 bytes wait here, however they are split.
///
/// A connection that sends nothing (or never finishes its handshake) is closed after
/// ``HTTPServerConfiguration/silentTimeout``.
final class HTTPProtocolSelector: HTTPServerSession {
    private let io: any HTTPServerIO
    private let context: HTTPServerLoopContext
    private let makeHTTP1: (any HTTPServerIO) -> any HTTPServerSession
    private var sniffer = HTTP2PrefaceSniffer()
    /// Bytes read while undecided (a prefix of the preface, so at most 23).
    private var held: [UInt8] = []
    private var decided = false

    /// The session a new connection starts with: HTTP/1.1 directly when no choice is
    /// possible (cleartext without h2c), else a selector. `makeHTTP1` makes the HTTP/1.1
    /// session for an I/O.
    static func session(io: any HTTPServerIO, context: HTTPServerLoopContext,
                        makeHTTP1: @escaping (any HTTPServerIO) -> any HTTPServerSession) -> any HTTPServerSession {
        if !io.isSecure && !context.configuration.allowsCleartextHTTP2 { return makeHTTP1(io) }
        return HTTPProtocolSelector(io: io, context: context, makeHTTP1: makeHTTP1)
    }

    init(io: any HTTPServerIO, context: HTTPServerLoopContext,
         makeHTTP1: @escaping (any HTTPServerIO) -> any HTTPServerSession) {
        self.io = io
        self.context = context
        self.makeHTTP1 = makeHTTP1
    }

    func start() {
        io.setTimer(at: io.now &+ HTTP2ServerSession.nanoseconds(context.configuration.silentTimeout))
    }

    func tlsHandshakeCompleted() {
        guard !decided else { return }
        choose(http2: io.negotiatedApplicationProtocol == "h2", replaying: UnsafeRawBufferPointer(start: nil, count: 0))
    }

    func receive(_ bytes: UnsafeRawBufferPointer) {
        guard !decided else { return }
        if io.isSecure {
            // Plaintext comes after the handshake; decide by ALPN if that call was missed.
            choose(http2: io.negotiatedApplicationProtocol == "h2", replaying: bytes)
            return
        }
        switch sniffer.inspect(bytes) {
        case .undecided:
            held.append(contentsOf: bytes)
        case .http2:
            replayHeld(then: bytes) { choose(http2: true, replaying: $0) }
        case .http1:
            replayHeld(then: bytes) { choose(http2: false, replaying: $0) }
        }
    }

    func receiveEndOfStream() {
        guard !decided else { return }
        if held.isEmpty {
            decided = true
            io.closeAfterFlush()
        } else {
            // A cut-short prefix: HTTP/1.1 answers it (400) and closes.
            let session = makeHTTP1(io)
            decided = true
            held.withUnsafeBytes { io.switchSession(to: session, replaying: $0) }
            session.receiveEndOfStream()
        }
    }

    func writabilityChanged(isWritable: Bool) {}

    func handleTimer(now: UInt64) {
        guard !decided else { return }
        decided = true
        io.closeAfterFlush()
    }

    func drain() {
        guard !decided else { return }
        decided = true
        io.closeAfterFlush()
    }

    func closed() {
        decided = true
    }

    /// Calls `body` with the held bytes followed by `bytes` (one buffer).
    private func replayHeld(then bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        if held.isEmpty {
            body(bytes)
            return
        }
        held.append(contentsOf: bytes)
        let all = held
        held = []
        all.withUnsafeBytes(body)
    }

    private func choose(http2: Bool, replaying bytes: UnsafeRawBufferPointer) {
        decided = true
        let session: any HTTPServerSession = http2 ? HTTP2ServerSession(io: io, context: context) : makeHTTP1(io)
        io.switchSession(to: session, replaying: bytes)
    }
}
