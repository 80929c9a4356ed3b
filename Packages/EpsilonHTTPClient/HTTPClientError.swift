public import EpsilonHTTP1
public import EpsilonHTTP2
public import EpsilonTLS
public import EpsilonTransport

/// Why an ``HTTPClient`` request failed.
///
/// Each timeout has its own case, so a caller can tell a server that never answered
/// (``responseHeadTimeout``) from one that stalled mid-body (``readTimeout``) or a request that
/// took too long overall (``requestTimeout``).
public enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL could not be parsed, or has no host; the payload is the text.
    case invalidURL(String)
    /// Only `http` and `https` are supported; the payload is the scheme.
    case unsupportedScheme(String)
    /// The request cannot be sent as given (a field or target the serializer refuses, a body
    /// that does not match its declared length); the payload says why.
    case invalidRequest(String)
    /// The host name did not resolve; the payload is the host.
    case hostNotFound(String)
    /// Connecting failed (refused, unreachable); the payload is the transport's error.
    case connectFailed(TransportError)
    /// The TCP connection was not established within ``HTTPClientTimeouts/connect``.
    case connectTimeout
    /// The TLS handshake did not complete within ``HTTPClientTimeouts/tlsHandshake``.
    case tlsHandshakeTimeout
    /// TLS failed: a rejected certificate, a host name mismatch, an alert.
    case tls(TLSError)
    /// No connection became free within ``HTTPClientTimeouts/poolWait``.
    case poolWaitTimeout
    /// Too many requests already wait for a connection (``HTTPClientPoolConfiguration/maxWaiters``).
    case poolExhausted
    /// The response head did not arrive within ``HTTPClientTimeouts/responseHead`` of sending the request.
    case responseHeadTimeout
    /// No response byte arrived for ``HTTPClientTimeouts/read`` while reading the response.
    case readTimeout
    /// The whole request, redirects and retries included, exceeded ``HTTPClientTimeouts/request``.
    case requestTimeout
    /// The task was cancelled; the connection was closed and its pool slot freed.
    case cancelled
    /// The server closed or reset the connection before any byte of the response.
    case closedBeforeResponse
    /// The connection broke while the response was being received; the payload says how.
    case connectionLost(TransportError?)
    /// The response broke HTTP/1.1 (framing, head, chunks); the payload names the rule.
    case invalidResponse(HTTP1ParseError)
    /// The response head holds something swift-http-types cannot carry; the payload says what.
    case invalidResponseHead(String)
    /// The body is larger than the limit given to ``HTTPClientResponseBody/collect(upTo:)``.
    case bodyTooLarge(limit: Int)
    /// The response body was already consumed (a body can be read once).
    case bodyAlreadyConsumed
    /// Decoding `Content-Encoding` failed: corrupt data, or more output than
    /// ``HTTPClientConfiguration/maxDecodedBodyBytes`` (a decompression bomb); the payload says which.
    case decodingFailed(String)
    /// A redirect could not be followed: too many, a loop, https → http, a bad `Location`.
    case redirectRefused(String)
    /// The proxy refused the `CONNECT` tunnel with this status.
    case proxyRefused(status: Int)
    /// The client was shut down.
    case shutDown
    /// The server broke HTTP/2 on the connection (a bad frame, HPACK, flow control, SETTINGS);
    /// the payload names the rule. The connection is closed with GOAWAY; every stream on it fails.
    case http2ProtocolError(HTTP2ConnectionError)
    /// The server reset the request's HTTP/2 stream with this code (RST_STREAM) after it may
    /// have processed it.
    case http2StreamReset(HTTP2ErrorCode)
    /// The server refused the HTTP/2 stream (`REFUSED_STREAM`, RFC 9113 §8.7): it was not
    /// processed, so it may be sent again (the retry policy does).
    case http2StreamRefused
    /// The server sent GOAWAY with a last stream id below the request's stream: it was not
    /// processed, so it may be sent again (the retry policy does).
    case http2GoAwayUnprocessed(lastStreamID: UInt32)

    /// A readable description.
    public var description: String {
        switch self {
        case .invalidURL(let text): return "invalid URL: \(text)"
        case .unsupportedScheme(let scheme): return "unsupported scheme: \(scheme)"
        case .invalidRequest(let why): return "invalid request: \(why)"
        case .hostNotFound(let host): return "host not found: \(host)"
        case .connectFailed(let error): return "connect failed: \(error)"
        case .connectTimeout: return "connect timed out"
        case .tlsHandshakeTimeout: return "TLS handshake timed out"
        case .tls(let error): return "TLS: \(error)"
        case .poolWaitTimeout: return "timed out waiting for a pooled connection"
        case .poolExhausted: return "too many requests waiting for a connection"
        case .responseHeadTimeout: return "timed out waiting for the response head"
        case .readTimeout: return "read timed out"
        case .requestTimeout: return "request timed out"
        case .cancelled: return "cancelled"
        case .closedBeforeResponse: return "connection closed before the response"
        case .connectionLost(let error): return "connection lost\(error.map { ": \($0)" } ?? "")"
        case .invalidResponse(let error): return "invalid response: \(error) (\(error.section))"
        case .invalidResponseHead(let why): return "invalid response head: \(why)"
        case .bodyTooLarge(let limit): return "body larger than \(limit) bytes"
        case .bodyAlreadyConsumed: return "body already consumed"
        case .decodingFailed(let why): return "content decoding failed: \(why)"
        case .redirectRefused(let why): return "redirect refused: \(why)"
        case .proxyRefused(let status): return "proxy refused the tunnel: \(status)"
        case .shutDown: return "client shut down"
        case .http2ProtocolError(let error): return "HTTP/2 protocol error: \(error) (\(error.section))"
        case .http2StreamReset(let code): return "HTTP/2 stream reset by the server: \(code)"
        case .http2StreamRefused: return "HTTP/2 stream refused by the server (not processed)"
        case .http2GoAwayUnprocessed(let last): return "HTTP/2 GOAWAY: the stream was above the last processed stream \(last)"
        }
    }
}
