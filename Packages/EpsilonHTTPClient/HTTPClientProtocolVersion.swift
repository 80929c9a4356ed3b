/// The protocol a response came over (``HTTPClientResponse/protocolVersion``).
public enum HTTPClientProtocolVersion: Sendable, Hashable, CustomStringConvertible {
    /// HTTP/1.1 (an HTTP/1.0 server's answer included).
    case http1_1
    /// HTTP/2.
    case http2

    /// `HTTP/1.1` or `HTTP/2`, as curl writes them in a status line.
    public var description: String {
        switch self {
        case .http1_1: "HTTP/1.1"
        case .http2: "HTTP/2"
        }
    }
}
