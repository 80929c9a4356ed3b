/// Why a server push (`PUSH_PROMISE`, RFC 9113 §8.4) was refused; the response it would have
/// accompanied is not affected.
public enum HTTP2ServerPushError: Error, Hashable, Sendable {
    /// The connection is not HTTP/2 (HTTP/1.1 has no push).
    case notHTTP2
    /// The client set SETTINGS_ENABLE_PUSH to 0 (most clients do).
    case disabledByPeer
    /// The request being answered is finished or reset, or the connection is closing.
    case streamClosed
    /// The client's SETTINGS_MAX_CONCURRENT_STREAMS allows no more pushed streams.
    case tooManyStreams
    /// The path is not an origin-form path (`/...`) or a field is one a request cannot carry.
    case invalidRequest
}
