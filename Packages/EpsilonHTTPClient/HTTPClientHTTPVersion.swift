/// Which HTTP version an ``HTTPClient`` speaks (``HTTPClientConfiguration/httpVersion``).
public enum HTTPClientHTTPVersion: Sendable, Hashable {
    /// HTTP/2 when the server agrees to it by ALPN over TLS (`h2` offered before `http/1.1`),
    /// HTTP/1.1 otherwise; cleartext `http://` always uses HTTP/1.1. The default.
    case automatic
    /// HTTP/1.1 only: ALPN offers `http/1.1` alone.
    case http1Only
    /// HTTP/2 only: ALPN offers `h2` alone over TLS, and `http://` uses HTTP/2 with prior
    /// knowledge (h2c, RFC 9113 §3.3). A server that does not speak it fails the request.
    case http2

    /// The ALPN protocols offered in the TLS handshake, most preferred first.
    var alpnOffer: [String] {
        switch self {
        case .automatic: return ["h2", "http/1.1"]
        case .http1Only: return ["http/1.1"]
        case .http2: return ["h2"]
        }
    }

    /// Whether a connection to `origin` speaks HTTP/2, given the protocol ALPN agreed (nil:
    /// none, or no TLS).
    func usesHTTP2(secure: Bool, negotiated: String?) -> Bool {
        switch self {
        case .http1Only: return false
        case .http2: return true
        case .automatic: return secure && negotiated == "h2"
        }
    }
}
