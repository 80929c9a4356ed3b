import EpsilonHTTP1
import EpsilonTLS
import EpsilonTransport
import HTTPTypes

/// One pooled HTTP/1.1 connection: the client-role machine over an ``AsyncConnection``, one
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
    /// Requests started on this connection.
    private(set) var requestCount = 0
    private var machine: HTTP1Connection
    /// Bytes received but not consumed (an incomplete head) followed by new ones.
    private var inbound: [UInt8] = []
    private var outbound: [UInt8] = []
    private var collector = ResponseCollector()
    /// Body chunks received, not yet handed out.
    private var chunks: [[UInt8]] = []
    private var chunkIndex = 0
    /// Whether any byte of the current response arrived.
    private var receivedResponseBytes = false
    private var broken = false
    private var sawEndOfStream = false

    init(transport: AsyncConnection, origin: ClientOrigin, configuration: HTTP1Configuration = HTTP1Configuration()) {
        self.transport = transport
        self.origin = origin
        openedAt = MonotonicClock.now()
        machine = HTTP1Connection(role: .client, configuration: configuration)
        watchdog = ConnectionWatchdog(loop: transport.loop) { [weak transport] in
            guard let transport else { return }
            Task { await transport.close() }
        }
    }

    /// Whether the connection can serve another request once this one is done.
    var isReusable: Bool { !broken && !sawEndOfStream && !machine.isClosed && machine.isIdle && collector.ended }

    /// Closes the connection (a request abandoned mid-way, a broken peer, the pool's eviction).
    func close() {
        broken = true
        let transport = self.transport
        Task { await transport.close() }
    }

    // MARK: Request

    /// Queues a request head (not yet written: see ``flush()``).
    func startRequest(method: String, target: String, fields: [(name: String, value: String)],
                      body: HTTP1BodyLength, close: Bool = false) throws(HTTPClientError) {
        requestCount += 1
        collector = ResponseCollector()
        chunks.removeAll(keepingCapacity: true)
        chunkIndex = 0
        receivedResponseBytes = false
        do {
            try machine.sendRequestHead(method: method, target: target, fields: fields, body: body, close: close)
        } catch {
            throw .invalidRequest("\(error)")
        }
        machine.writeOutput(into: &outbound)
    }

    /// Queues a piece of the request body.
    func sendBody(_ bytes: some Collection<UInt8>) throws(HTTPClientError) {
        do {
            try machine.sendBody(bytes)
        } catch {
            throw .invalidRequest("\(error)")
        }
        machine.writeOutput(into: &outbound)
    }

    /// Queues the end of the request body.
    func sendEnd() throws(HTTPClientError) {
        do {
            try machine.sendEnd()
        } catch {
            throw .invalidRequest("\(error)")
        }
        machine.writeOutput(into: &outbound)
    }

    /// Writes what was queued; returns once the kernel took it.
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

    // MARK: Response

    /// Waits for the final response head.
    func readHead() async throws(HTTPClientError) -> HTTPResponse {
        while true {
            if let error = collector.headError {
                broken = true
                throw .invalidResponseHead("\(error.rule): \(error.detail)")
            }
            if let head = collector.head { return head }
            try await receiveMore()
        }
    }

    /// The next body chunk, or nil at the end of the body.
    func readBodyChunk() async throws(HTTPClientError) -> [UInt8]? {
        while true {
            if chunkIndex < chunks.count {
                var chunk: [UInt8] = []
                swap(&chunk, &chunks[chunkIndex])
                chunkIndex += 1
                if chunkIndex == chunks.count {
                    chunks.removeAll(keepingCapacity: true)
                    chunkIndex = 0
                }
                return chunk
            }
            if collector.ended { return nil }
            try await receiveMore()
        }
    }

    /// Whether the whole response is already received (its remaining chunks are buffered here).
    var responseComplete: Bool { collector.ended }

    /// Reads once from the transport and feeds the machine.
    private func receiveMore() async throws(HTTPClientError) {
        if broken { throw .connectionLost(nil) }
        let read: [UInt8]?
        do {
            read = try await transport.read()
        } catch {
            throw failure(error)
        }
        guard let read else {
            sawEndOfStream = true
            try receiveEndOfStream()
            return
        }
        receivedResponseBytes = true
        if inbound.isEmpty {
            inbound = read
        } else {
            inbound.append(contentsOf: read)
        }
        collector.bodyRanges.removeAll(keepingCapacity: true)
        let total = inbound.count
        let result: Result<Int, HTTP1ParseError> = inbound.withUnsafeBytes { bytes in
            collector.base = bytes.baseAddress
            defer { collector.base = nil }
            do throws(HTTP1ParseError) {
                return .success(try machine.receive(bytes, handler: &collector))
            } catch {
                return .failure(error)
            }
        }
        takeBody()
        switch result {
        case .success(let consumed):
            if consumed == total {
                inbound.removeAll(keepingCapacity: false)
            } else if consumed > 0 {
                inbound.removeFirst(consumed)
            }
            if machine.isUpgraded {
                broken = true
                throw .invalidResponseHead("a 101 or 2xx switch of protocols the client did not ask for")
            }
            // Bytes after the end of a response that closes the connection are ignored (RFC 9112 §9.6).
        case .failure(let error):
            broken = true
            inbound.removeAll()
            // A complete response followed by garbage: the response stands, the connection does not.
            if collector.ended { return }
            throw .invalidResponse(error)
        }
    }

    /// Moves the body ranges of the last receive out of `inbound`: the buffer itself when it is
    /// all body (no copy), else copies.
    private func takeBody() {
        guard !collector.bodyRanges.isEmpty else { return }
        if collector.bodyRanges.count == 1, collector.bodyRanges[0] == 0..<inbound.count {
            var whole: [UInt8] = []
            swap(&whole, &inbound)
            chunks.append(whole)
            collector.bodyRanges.removeAll(keepingCapacity: true)
            return
        }
        for range in collector.bodyRanges {
            chunks.append(Array(inbound[range]))
        }
        collector.bodyRanges.removeAll(keepingCapacity: true)
    }

    private func receiveEndOfStream() throws(HTTPClientError) {
        if let fired = watchdog.fired { throw fired }
        if !receivedResponseBytes && collector.head == nil {
            broken = true
            throw .closedBeforeResponse
        }
        do {
            try machine.receiveEndOfStream(handler: &collector)
        } catch {
            broken = true
            throw .invalidResponse(error)
        }
        if !collector.ended {
            broken = true
            throw .connectionLost(nil)
        }
    }

    /// Maps a transport failure, preferring the deadline that closed the connection.
    private func failure(_ error: TransportError) -> HTTPClientError {
        broken = true
        if let fired = watchdog.fired { return fired }
        switch error {
        case .cancelled: return .cancelled
        case .tlsHandshakeTimeout: return .tlsHandshakeTimeout
        case .tls(let tlsError): return .tls(tlsError)
        case .connectionReset, .closed:
            return receivedResponseBytes || collector.head != nil ? .connectionLost(error) : .closedBeforeResponse
        default:
            return .connectionLost(error)
        }
    }
}
