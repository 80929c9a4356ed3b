@_spi(EpsilonInternal) import EpsilonBytes
public import EpsilonTransport
import EpsilonWebSocket

/// Opens WebSocket client connections (RFC 6455, RFC 7692) over `ws://` and `wss://`.
///
/// ```swift
/// try await WebSocketClient.connect(to: "wss://example.com/chat") { inbound, outbound in
///     try await outbound.send(text: "hello")
///     for try await message in inbound {
///         print(message)
///     }
/// }
/// ```
///
/// For a long-lived connection that survives restarts and network trouble, see
/// ``ReconnectingWebSocket``.
public enum WebSocketClient {
    /// The loop group used when none is given: one loop, made on first use, for the process's life.
    static let sharedGroup: Result<IOLoopGroup, TransportError> = Result { () throws(TransportError) in try IOLoopGroup(loopCount: 1) }

    static func group(_ given: IOLoopGroup?) throws(WebSocketClientError) -> IOLoopGroup {
        if let given { return given }
        switch sharedGroup {
        case .success(let group): return group
        case .failure(let error): throw .connectFailed(error)
        }
    }

    /// Connects, runs the opening handshake and returns the open connection.
    ///
    /// - Parameters:
    ///   - url: `ws://host[:port]/path?query` or `wss://…`.
    ///   - configuration: fields, subprotocols, compression, TLS, limits, heartbeat.
    ///   - group: the loops to run on (default: a shared one-loop group).
    /// - Throws: a ``WebSocketClientError`` naming what failed: the URL, the lookup, the
    ///   connect, TLS, the proxy, the handshake response (``WebSocketClientError/handshake(_:)``
    ///   for a bad accept or status), the negotiation, or a timeout.
    public static func open(_ url: String, configuration: WebSocketClientConfiguration = WebSocketClientConfiguration(),
                            group: IOLoopGroup? = nil) async throws(WebSocketClientError) -> WebSocketClientConnection {
        let target = try WebSocketClientURL(url)
        var session = try WebSocketClientSession(url: target, configuration: configuration)
        let transport = try await WebSocketClientConnector.open(target, configuration: configuration, group: try Self.group(group))
        let deadline = WebSocketDeadline(after: configuration.handshakeTimeout, closing: transport)
        defer { deadline.cancel() }
        do throws(WebSocketClientError) {
            try await handshake(&session, on: transport, deadline: deadline)
        } catch {
            await transport.close()
            throw error
        }
        return WebSocketClientConnection(transport: transport, session: session, configuration: configuration)
    }

    /// Sends the request and feeds the response to `session` until it is open.
    static func handshake(_ session: inout WebSocketClientSession, on transport: AsyncConnection, deadline: WebSocketDeadline) async throws(WebSocketClientError) {
        do throws(TransportError) {
            try await transport.write(session.request())
        } catch {
            throw deadline.fired ? .handshakeTimeout : await mapped(error, transport)
        }
        while !session.isOpen {
            let read: [UInt8]?
            do throws(TransportError) {
                read = try await transport.read()
            } catch {
                throw deadline.fired ? .handshakeTimeout : await mapped(error, transport)
            }
            guard let bytes = read else { throw deadline.fired ? .handshakeTimeout : await mapped(.closed, transport) }
            do throws(WebSocketClientError) {
                try bytes.withBytes { (raw) throws(WebSocketClientError) in try session.receive(raw, now: MonotonicClock.now()) }
            } catch {
                // Frames that came with the 101 broke a rule: the connection is open, and its
                // first receive reports the error (after the messages before it) and sends the Close.
                if !session.isOpen { throw error }
            }
        }
    }

    /// A transport failure during the handshake; TLS failures (the handshake runs with the first
    /// write and read) keep their TLS error.
    static func mapped(_ error: TransportError, _ transport: AsyncConnection) async -> WebSocketClientError {
        // A TLS handshake that failed closes the connection; the handshake's own error says why.
        if error == .closed || error == .connectionReset {
            do throws(TransportError) {
                _ = try await transport.tlsHandshake()
            } catch {
                if case .tls(let tls) = error { return .tls(tls) }
            }
        }
        switch error {
        case .cancelled: return .cancelled
        case .tls(let tls): return .tls(tls)
        case .tlsHandshakeTimeout: return .handshakeTimeout
        default: return .connectionLost(error)
        }
    }

    /// Connects, runs `body` with the inbound messages and the sending side, then closes:
    /// when `body` returns without having closed, a Close 1000 is sent and the server's answer
    /// awaited (bounded by the close timeout).
    ///
    /// - Throws: a ``WebSocketClientError`` when the connection cannot open, or what `body` throws.
    public static func connect<Result: Sendable>(
        to url: String, configuration: WebSocketClientConfiguration = WebSocketClientConfiguration(), group: IOLoopGroup? = nil,
        _ body: (WebSocketClientInbound, WebSocketClientOutbound) async throws -> Result
    ) async throws -> Result {
        let connection = try await open(url, configuration: configuration, group: group)
        let result: Result
        do {
            result = try await body(connection.inbound, WebSocketClientOutbound(connection: connection))
        } catch {
            await connection.abort()
            throw error
        }
        try? await connection.close()
        while true {
            do throws(WebSocketClientError) {
                guard try await connection.receive() != nil else { break }
            } catch {
                break
            }
        }
        return result
    }
}
