#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEpsilonTransportShims

/// What one ``Connection/readAhead(into:)`` got.
enum ReadAheadResult {
    /// This many bytes, now in the buffer.
    case read(Int)
    /// Nothing now: the socket is drained, or its end (or an error) waits for the
    /// connection's own next read to report it.
    case nothing
    /// The read failed; the caller closes the connection with this error once it has handed on
    /// what it read before.
    case failed(TransportError)
}

extension Connection {
    /// Whether a handler may read more from the socket itself, inside
    /// ``ConnectionHandler/connection(_:didRead:)``, straight into its own buffer: a plain
    /// (not TLS) connection driven by readiness (not completions) that is reading.
    var canReadAhead: Bool {
        tls == nil && !usesCompletions && state == .active && !readEOF && !readingPaused
    }

    /// The size of the loop's read buffer: a delivery this long suggests the socket holds more.
    var loopReadSize: Int { core.readBuffer.count }

    /// Reads once from the socket into `buffer` (which the caller owns), bypassing the loop's
    /// read buffer and so the copy out of it. Only while ``canReadAhead``. The end of the stream
    /// is left to the connection's own next read (a socket keeps reporting it), which runs as
    /// soon as the handler returns.
    func readAhead(into buffer: UnsafeMutableRawBufferPointer) -> ReadAheadResult {
        assert(loop.inEventLoop, "Connection used off its loop's thread")
        guard canReadAhead, buffer.count > 0 else { return .nothing }
        while true {
            let count = read(descriptor, buffer.baseAddress, buffer.count)
            if count > 0 {
                if idleNanoseconds != nil { lastActivity = monotonicNanoseconds() }
                return .read(count)
            }
            if count == 0 { return .nothing }
            let code = epsilon_errno()
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return .nothing }
            return .failed(code == ECONNRESET || code == EPIPE ? .connectionReset : .system(call: "read", errno: code))
        }
    }
}
