import EpsilonHTTP1
import EpsilonHTTPContentCoding
import EpsilonTLS
import EpsilonTransport
import HTTPTypes

/// One request on one connection, as the retry and redirect loop sees it.
struct ClientAttempt: Sendable {
    var request: HTTPRequest
    var url: ClientURL
    var body: HTTPClientRequestBody?
    /// The whole request's deadline (monotonic nanoseconds), if any.
    var deadline: UInt64?
    /// The `Cookie` value from the jar for this URL, if any.
    var cookies: String?
}

/// A connection the pool gave an attempt.
enum LeasedConnection {
    /// An HTTP/1.1 connection, and whether it was reused (it may have gone stale while idle).
    case http1(HTTP1ClientConnection, reused: Bool)
    /// A stream slot on an HTTP/2 connection, and whether the connection was there already.
    case http2(HTTP2ClientConnection, reused: Bool)
}

extension HTTPClient {
    /// Sends `attempt` and waits for its response head. A request that fails on a reused
    /// connection before any response byte (the server closed it while idle) is sent again on
    /// another connection when that is safe: an idempotent method and a body that can be replayed.
    func perform(_ attempt: ClientAttempt) async throws(HTTPClientError) -> HTTPClientResponse {
        var staleRetries = 0
        while true {
            let leased = try await connection(for: attempt)
            let reusedConnection: Bool
            do throws(HTTPClientError) {
                switch leased {
                case .http1(let connection, let reused):
                    reusedConnection = reused
                    do {
                        return try await send(attempt, on: connection)
                    } catch {
                        connection.watchdog.clear()
                        pool.release(connection, reusable: false)
                        throw error
                    }
                case .http2(let connection, let reused):
                    reusedConnection = reused
                    return try await send(attempt, over: connection)
                }
            } catch {
                let safe = attempt.request.method.isIdempotent && (attempt.body?.isReplayable ?? true)
                if error == .closedBeforeResponse && reusedConnection && safe
                    && staleRetries < configuration.pool.maxConnectionsPerHost {
                    staleRetries += 1
                    continue
                }
                throw error
            }
        }
    }

    /// Whether a connection to `origin` may speak HTTP/2 (ALPN over TLS, or prior knowledge).
    func mayUseHTTP2(_ origin: ClientOrigin) -> Bool {
        switch configuration.httpVersion {
        case .http1Only: return false
        case .automatic: return origin.isSecure
        case .http2: return origin.isSecure || configuration.proxy == nil
        }
    }

    /// A pooled connection to the attempt's origin, a stream on one, or a new one.
    private func connection(for attempt: ClientAttempt) async throws(HTTPClientError) -> LeasedConnection {
        let origin = attempt.url.origin
        var wait = configuration.timeouts.poolWait
        if let deadline = attempt.deadline {
            let now = MonotonicClock.now()
            guard deadline > now else { throw .requestTimeout }
            let left = Duration.nanoseconds(Int64(min(deadline - now, UInt64(Int64.max))))
            if wait == nil || left < wait! { wait = left }
        }
        let lease: ConnectionPool.Lease
        do {
            lease = try await pool.lease(origin, timeout: wait, mayMultiplex: mayUseHTTP2(origin))
        } catch {
            if error == .poolWaitTimeout, let deadline = attempt.deadline, MonotonicClock.now() >= deadline {
                throw .requestTimeout
            }
            throw error
        }
        switch lease {
        case .connection(let connection):
            return .http1(connection, reused: true)
        case .multiplexed(let connection):
            return .http2(connection, reused: true)
        case .open:
            let opened: LeasedConnection
            do {
                opened = try await openForProtocol(origin)
            } catch {
                pool.openFailed(origin)
                throw error
            }
            switch opened {
            case .http1: pool.opened(origin, multiplexed: nil)
            case .http2(let connection, _): pool.opened(origin, multiplexed: connection)
            }
            return opened
        }
    }

    /// Opens a connection to `origin` (see ``ClientConnector``).
    func open(_ origin: ClientOrigin) async throws(HTTPClientError) -> HTTP1ClientConnection {
        let established = try await connector.connect(to: origin, offering: configuration.tls.applicationProtocols)
        return HTTP1ClientConnection(transport: established.transport, origin: origin)
    }

    /// Writes the request and reads the response head; the body stays on the connection (or,
    /// when it already arrived whole, the connection goes back to the pool at once).
    private func send(_ attempt: ClientAttempt, on connection: HTTP1ClientConnection) async throws(HTTPClientError) -> HTTPClientResponse {
        let request = attempt.request
        let timeouts = configuration.timeouts
        connection.watchdog.setRequestDeadline(attempt.deadline)
        var fields: [(name: String, value: String)] = []
        fields.reserveCapacity(request.headerFields.count + 2)
        fields.append(("Host", request.authority ?? attempt.url.authority))
        var hasAcceptEncoding = false
        var cookies = attempt.cookies
        for field in request.headerFields {
            switch field.name {
            case .contentLength, .transferEncoding: continue
            case .acceptEncoding: hasAcceptEncoding = true
            case .cookie:
                // RFC 6265 §5.4: one Cookie field; the caller's own pairs come first.
                if let jar = cookies {
                    cookies = field.value + "; " + jar
                    continue
                }
            default: if field.name.canonicalName == "host" { continue }
            }
            fields.append((field.name.rawName, field.value))
        }
        if let cookies { fields.append(("Cookie", cookies)) }
        if configuration.decompression && !hasAcceptEncoding { fields.append(("Accept-Encoding", "gzip, deflate")) }
        var target = attempt.url.pathAndQuery
        // Absolute form to the proxy for http://; https:// runs end to end in a CONNECT tunnel.
        if let proxy = configuration.proxy, !attempt.url.origin.isSecure {
            target = attempt.url.absoluteString
            if let authorization = proxy.authorization { fields.append(("Proxy-Authorization", authorization)) }
        }
        let length: HTTP1BodyLength
        if let body = attempt.body {
            length = body.knownLength.map { .known(UInt64($0)) } ?? .unknown
        } else {
            switch request.method {
            case .post, .put, .patch: length = .known(0)
            default: length = .empty
            }
        }
        try connection.startRequest(method: request.method.rawValue, target: target, fields: fields, body: length)
        // A known empty body is all in the head (the machine ended the message there).
        if let body = attempt.body, body.knownLength != 0 {
            try await write(body, on: connection)
        }
        try await connection.finishRequest()
        connection.watchdog.startPhase(timeouts.responseHead, error: .responseHeadTimeout)
        let head = try await connection.readHead()
        let decoder = configuration.decompression
            ? try ResponseDecoding.decoder(for: head, method: request.method, limit: configuration.maxDecodedBodyBytes) : nil
        let source: ResponseBodySource
        if connection.responseComplete {
            var chunks: [[UInt8]] = []
            while let chunk = try await connection.readBodyChunk() { chunks.append(chunk) }
            connection.watchdog.clear()
            pool.release(connection, reusable: connection.isReusable)
            source = ResponseBodySource(connection: nil, pool: nil, buffered: chunks, decoder: decoder,
                                        readTimeout: timeouts.read)
        } else {
            source = ResponseBodySource(connection: connection, pool: pool, buffered: [], decoder: decoder,
                                        readTimeout: timeouts.read)
        }
        return HTTPClientResponse(head: head, body: HTTPClientResponseBody(source: source), url: attempt.url.absoluteString)
    }

    /// Writes a request body after its head.
    private func write(_ body: HTTPClientRequestBody, on connection: HTTP1ClientConnection) async throws(HTTPClientError) {
        switch body.storage {
        case .bytes(let bytes):
            try connection.sendBody(bytes)
            try connection.sendEnd()
        case .stream(let length, _, let produce):
            guard body.claim() else { throw .invalidRequest("a one-shot body stream was already sent") }
            try await connection.flush()
            var writer = HTTPClientBodyWriter(connection: connection, expected: length)
            try await writer.run(produce)
            try connection.sendEnd()
        }
    }
}

extension HTTPRequest.Method {
    /// RFC 9110 §9.2.2.
    var isIdempotent: Bool {
        switch self {
        case .get, .head, .options, .trace, .put, .delete: return true
        default: return false
        }
    }
}
