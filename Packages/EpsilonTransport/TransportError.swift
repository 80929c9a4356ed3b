#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEpsilonTransportShims
import EpsilonTLS

/// An error from the transport: a failed system call, a timeout, or a misuse of a closed object.
///
/// System call failures keep the call's name and its `errno`, so a log line says exactly what
/// failed (`connect: errno 111 (Connection refused)`). A connection that runs TLS reports the
/// engine's typed error as ``tls(_:)`` (a failed handshake, a rejected certificate, a peer that
/// ended the stream without `close_notify`).
public enum TransportError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed; `call` names it and `errno` is the value it left.
    case system(call: String, errno: Int32)
    /// A non-blocking connect did not complete within its timeout.
    case connectTimeout
    /// The peer reset the connection (`ECONNRESET` or `EPIPE`).
    case connectionReset
    /// The connection or socket was already closed when the operation was asked for.
    case closed
    /// Output was shut down (half-close) before this write was asked for.
    case outputShutdown
    /// The connection saw no traffic for its idle timeout and was closed.
    case idleTimeout
    /// A textual address could not be parsed; the payload is the text.
    case unparsableAddress(String)
    /// The asked-for poller backend cannot run on this system; the payload says why.
    case backendUnavailable(String)
    /// The event loop has stopped and accepts no more work.
    case loopStopped
    /// The connection's TLS engine failed: `TLSError.truncated` when the peer ended the
    /// stream without `close_notify`, `.unknownCertificateAuthority` and its siblings
    /// when a certificate was rejected, `.alertReceived(_:)` when the peer aborted.
    case tls(TLSError)
    /// The TLS handshake did not complete within ``TLSOptions/handshakeTimeout``; the
    /// connection was closed.
    case tlsHandshakeTimeout
    /// The task that made the async call was cancelled; the call returned without waiting
    /// (see the async face's documentation for what that leaves behind).
    case cancelled

    /// A readable description, with the `strerror` text for system errors.
    public var description: String {
        switch self {
        case .system(let call, let code):
            return "\(call): errno \(code) (\(String(cString: strerror(code))))"
        case .connectTimeout: return "connect timed out"
        case .connectionReset: return "connection reset by peer"
        case .closed: return "closed"
        case .outputShutdown: return "output already shut down"
        case .idleTimeout: return "idle timeout"
        case .unparsableAddress(let text): return "cannot parse address \(text)"
        case .backendUnavailable(let why): return "backend unavailable: \(why)"
        case .loopStopped: return "event loop stopped"
        case .tls(let error): return "TLS: \(error)"
        case .tlsHandshakeTimeout: return "TLS handshake timed out"
        case .cancelled: return "cancelled"
        }
    }

    /// Builds the error for the current `errno`, folding resets into ``connectionReset``.
    static func fromErrno(_ call: String) -> TransportError {
        let code = epsilon_errno()
        if code == ECONNRESET || code == EPIPE { return .connectionReset }
        return .system(call: call, errno: code)
    }
}

/// Closes a descriptor, ignoring `EINTR` (on Linux the descriptor is released regardless).
func closeDescriptor(_ fd: Int32) {
    #if canImport(Glibc)
    _ = Glibc.close(fd)
    #else
    _ = Darwin.close(fd)
    #endif
}

/// An identifier for the calling thread, comparable across calls.
func currentThreadID() -> UInt {
    #if canImport(Glibc)
    return UInt(pthread_self())
    #else
    return UInt(bitPattern: pthread_self())
    #endif
}

/// `listen(2)`, named apart from ``IOLoop/listen(on:options:makeHandler:)``.
func systemListen(_ fd: Int32, _ backlog: Int32) -> Int32 {
    #if canImport(Glibc)
    return Glibc.listen(fd, backlog)
    #else
    return Darwin.listen(fd, backlog)
    #endif
}
