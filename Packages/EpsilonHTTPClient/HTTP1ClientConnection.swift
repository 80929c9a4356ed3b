import EpsilonHTTP1
import EpsilonTransport
import HTTPTypes

/// One pooled HTTP/1.1 connection: an ``HTTP1ResponseReader`` over an ``AsyncConnection``, one
/// request at a time.
///
/// Reads are pulled: the response head and each body chunk come from a `read()` the caller
/// asked for, so bytes nobody asked for stay in the transport, which stops reading from the
/// socket past its inbox limit (back-pressure reaches the server).
final class HTTP1ClientConnection: @unchecked Sendable {
    // @unchecked: the pool hands a connection to one request at a time (under its lock), and
    // only that request's task, or the response body it handed on, touches the mutable state.
    // `transport`, `watchdog`, `origin` and `openedAt` are immutable and Sendable.
    let transport: AsyncConnection
    let watchdog: ConnectionWatchdog
    let origin: ClientOrigin
    let openedAt: UInt64
    /// When the connection last went idle in the pool.
    var idleSince: UInt64 = 0
    private var reader = HTTP1ResponseReader()
    private var outbound: [UInt8] = []
    /// The most ``finishRequest()`` hands over without waiting.
    static let enqueueLimit = 64 * 1024

    init(transport: AsyncConnection, origin: ClientOrigin) {
        self.transport = transport
        self.origin = origin
        openedAt = MonotonicClock.now()
        // The watchdog's expiry runs on the loop thread: close there, without a task hop.
        watchdog = ConnectionWatchdog(loop: transport.loop) { [weak transport] in
            transport?.closeOnLoop()
        }
    }

    /// Whether the connection can serve another request once this one is done.
    var isReusable: Bool { reader.isReusable }
    /// Whether the whole response is already received (its remaining chunks are buffered here).
    var responseComplete: Bool { reader.responseComplete }

    /// Closes the connection (a request abandoned mid-way, a broken peer, the pool's eviction).
    func close() {
        reader.markBroken()
        let transport = self.transport
        Task { await transport.close() }
    }

    // MARK: Request

    /// Queues a request head (written by ``flush()``).
    func startRequest(method: String, target: String, fields: [(name: String, value: String)],
                      body: HTTP1BodyLength) throws(HTTPClientError) {
        try reader.startRequest(method: method, target: target, fields: fields, body: body, into: &outbound)
    }

    /// Queues a piece of the request body.
    func sendBody(_ bytes: some Collection<UInt8>) throws(HTTPClientError) {
        try reader.sendBody(bytes, into: &outbound)
    }

    /// Queues the end of the request body.
    func sendEnd() throws(HTTPClientError) {
        try reader.sendEnd(into: &outbound)
    }

    /// Writes the end of a request, what was queued, before its response is read: a small
    /// rest (a head, a short body) is handed to the transport without waiting for the kernel
    /// (one thread hop fewer per request); the response read that follows bounds it and
    /// reports a failed write. A larger rest is written as by ``flush()``.
    func finishRequest() async throws(HTTPClientError) {
        guard outbound.count <= Self.enqueueLimit else { return try await flush() }
        guard !outbound.isEmpty else { return }
        var bytes: [UInt8] = []
        swap(&bytes, &outbound)
        transport.enqueue(bytes)
    }

    /// Writes what was queued; returns once the kernel took it (streamed bodies: the peer's
    /// pace bounds what waits in the transport).
    func flush() async throws(HTTPClientError) {
        guard !outbound.isEmpty else { return }
        var bytes: [UInt8] = []
        swap(&bytes, &outbound)
        do {
            try await transport.write(bytes)
        } catch {
            // A write to a connection that closed reports only that; the reason it closed (a
            // TLS failure or timeout) is what the next read gives.
            if error == .closed || error == .connectionReset {
                do {
                    _ = try await transport.read()
                } catch let reason where reason != .closed {
                    throw failure(reason)
                } catch {}
            }
            throw failure(error)
        }
    }

    // MARK: CONNECT

    /// Asks the proxy this connection reaches for a tunnel to `authority` (RFC 9110 §9.3.6) and
    /// waits for its answer; afterwards ``transport`` carries the tunnel's bytes.
    ///
    /// - Throws: ``HTTPClientError/proxyRefused(status:)`` for an answer other than 2xx, or the
    ///   failure of the exchange.
    func openTunnel(to authority: String, proxyAuthorization: String?) async throws(HTTPClientError) {
        var fields = [(name: "Host", value: authority)]
        if let proxyAuthorization { fields.append((name: "Proxy-Authorization", value: proxyAuthorization)) }
        reader.acceptsTunnel = true
        try startRequest(method: "CONNECT", target: authority, fields: fields, body: .empty)
        try await flush()
        let head = try await readHead()
        guard head.status.kind == .successful else {
            reader.markBroken()
            throw .proxyRefused(status: head.status.code)
        }
        // The origin's TLS server waits for our ClientHello: a byte before it is not TLS.
        guard reader.tunnelled, reader.unconsumedCount == 0 else {
            reader.markBroken()
            throw .invalidResponseHead("the proxy sent bytes after accepting the CONNECT tunnel")
        }
    }

    // MARK: Response

    /// Waits for the final response head.
    func readHead() async throws(HTTPClientError) -> HTTPResponse {
        while true {
            do {
                try reader.checkHead()
            } catch {
                reader.markBroken()
                throw error
            }
            if let head = reader.head { return head }
            try await receiveMore()
        }
    }

    /// The next body chunk, or nil at the end of the body.
    func readBodyChunk() async throws(HTTPClientError) -> [UInt8]? {
        while true {
            if let chunk = reader.takeChunk() { return chunk }
            if reader.responseComplete { return nil }
            try await receiveMore()
        }
    }

    /// Reads once from the transport and feeds the reader.
    private func receiveMore() async throws(HTTPClientError) {
        if reader.broken { throw .connectionLost(nil) }
        let read: [UInt8]?
        do {
            read = try await transport.read()
        } catch {
            throw failure(error)
        }
        if let read {
            try reader.receive(read)
        } else {
            if let fired = watchdog.fired {
                reader.markBroken()
                throw fired
            }
            try reader.receiveEndOfStream()
        }
    }

    /// Maps a transport failure, preferring the deadline that closed the connection.
    private func failure(_ error: TransportError) -> HTTPClientError {
        reader.markBroken()
        if let fired = watchdog.fired { return fired }
        switch error {
        case .cancelled: return .cancelled
        case .tlsHandshakeTimeout: return .tlsHandshakeTimeout
        case .tls(let tlsError): return .tls(tlsError)
        case .connectionReset, .closed:
            return reader.receivedResponseBytes || reader.head != nil ? .connectionLost(error) : .closedBeforeResponse
        default:
            return .connectionLost(error)
        }
    }
}
