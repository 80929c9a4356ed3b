public import EpsilonTLS
public import EpsilonTransport
public import EpsilonWebSocket
public import EpsilonWebSocketDeflate

/// Why a WebSocket client connection could not open, or ended abnormally.
public enum WebSocketClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The URL is not `ws://` or `wss://` with a host, or cannot be sent (say why).
    case invalidURL(String)
    /// A configured request field is one the handshake sets itself, or holds CR, LF or NUL.
    case invalidHeader(String)
    /// The host name did not resolve.
    case hostNotFound(String)
    /// No TCP connection within the connect timeout.
    case connectTimeout
    /// The TCP (or TLS) connection failed.
    case connectFailed(TransportError)
    /// The TLS context could not be made from the configuration.
    case tls(TLSError)
    /// The proxy refused the `CONNECT` tunnel with this status (0: the answer did not parse).
    case proxyRefused(Int)
    /// The opening handshake's response head did not parse as HTTP/1.1.
    case invalidResponseHead(String)
    /// The server's handshake response broke RFC 6455 §4.1 (bad status, bad accept, …).
    case handshake(WebSocketHandshakeError)
    /// The server's permessage-deflate answer broke RFC 7692 §7.1.
    case extensionNegotiation(WebSocketDeflateNegotiationError)
    /// The handshake did not complete within the handshake timeout.
    case handshakeTimeout
    /// The server broke a framing rule (masked frame, bad UTF-8, reserved opcode, bomb, …);
    /// a Close reporting it was sent.
    case protocolViolation(WebSocketError)
    /// The connection ended without a Close handshake (reset, end of stream, read error).
    case connectionLost(TransportError?)
    /// No Pong arrived within the heartbeat's pong timeout: the connection was declared dead.
    case heartbeatTimeout
    /// The connection is closing or closed: nothing more can be sent.
    case closed
    /// The call breaks a WebSocket rule (control payload over 125 bytes, invalid close code, …).
    case usage(WebSocketUsageError)
    /// The outbound queue was full and its policy is ``WebSocketClientQueuePolicy/Overflow/fail``.
    case queueFull
    /// The task was cancelled.
    case cancelled

    /// A short description.
    public var description: String {
        switch self {
        case .invalidURL(let why): return "invalid URL: \(why)"
        case .invalidHeader(let name): return "invalid request field: \(name)"
        case .hostNotFound(let host): return "host not found: \(host)"
        case .connectTimeout: return "connect timed out"
        case .connectFailed(let error): return "connect failed: \(error)"
        case .tls(let error): return "TLS: \(error)"
        case .proxyRefused(let status): return "proxy refused the tunnel (\(status))"
        case .invalidResponseHead(let why): return "invalid handshake response: \(why)"
        case .handshake(let error): return "handshake refused: \(error)"
        case .extensionNegotiation(let error): return "permessage-deflate negotiation: \(error)"
        case .handshakeTimeout: return "handshake timed out"
        case .protocolViolation(let error): return "protocol violation: \(error)"
        case .connectionLost(let error): return "connection lost" + (error.map { ": \($0)" } ?? "")
        case .heartbeatTimeout: return "no pong within the heartbeat timeout"
        case .closed: return "closed"
        case .usage(let error): return "usage: \(error)"
        case .queueFull: return "outbound queue full"
        case .cancelled: return "cancelled"
        }
    }
}
