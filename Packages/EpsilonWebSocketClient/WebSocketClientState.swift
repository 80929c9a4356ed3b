public import EpsilonWebSocket

/// Where a ``ReconnectingWebSocket`` stands, as its ``ReconnectingWebSocket/states`` stream reports.
public enum WebSocketClientState: Sendable, Equatable, CustomStringConvertible {
    /// Opening a connection: TCP, TLS, the handshake (`attempt` counts from 1 since the last
    /// stable connection).
    case connecting(attempt: Int)
    /// Connected; queued messages were sent.
    case open
    /// The connection ended, with the server's close code if it sent one.
    case closed(code: WebSocketCloseCode?)
    /// Waiting before the next attempt, until this instant.
    case waiting(until: ContinuousClock.Instant)
    /// Finished for good: after ``ReconnectingWebSocket/close(code:reason:)`` (nil), or with the
    /// error that ended the last attempt once the attempt limit was reached or the error
    /// cannot be cured by trying again (a bad URL or TLS configuration).
    case stopped(WebSocketClientError?)

    /// A short description.
    public var description: String {
        switch self {
        case .connecting(let attempt): return "connecting(\(attempt))"
        case .open: return "open"
        case .closed(let code): return "closed(\(code.map { "\($0)" } ?? "no code"))"
        case .waiting(let until): return "waiting(\(until - .now) left)"
        case .stopped(let error): return "stopped" + (error.map { "(\($0))" } ?? "")
        }
    }
}
