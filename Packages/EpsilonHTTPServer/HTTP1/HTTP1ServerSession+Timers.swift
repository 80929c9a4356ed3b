// The HTTP/1.1 session's one timer: the deadline of the phase the connection is in. It is
// re-armed only when the new deadline comes before the armed one, so the steady state of a
// keep-alive connection schedules no timer per request.

extension HTTP1ServerSession {
    /// Moves to `next`; a new deadline when the phase changes.
    func enter(_ next: Phase) {
        guard !closing else { return }
        if next == phase && (deadline != nil || next == .busy) {
            if next == .idle, let _ = deadline {
                // Still between requests after answering one: the idle time starts again.
                deadline = io.now &+ nanoseconds(context.configuration.idleTimeout)
            }
            return
        }
        phase = next
        let configuration = context.configuration
        let limit: Duration? = switch next {
        case .silent: configuration.silentTimeout
        case .idle: configuration.idleTimeout
        case .head: configuration.headTimeout
        case .body: configuration.bodyTimeout
        case .busy: nil
        case .stalled: configuration.idleTimeout
        }
        guard let limit else {
            deadline = nil
            return
        }
        let due = io.now &+ nanoseconds(limit)
        deadline = due
        if let armed = timerArmedAt, armed <= due { return }
        arm(at: due)
    }

    /// A stalled writer got bytes out (a file region's partial send): the stall's deadline
    /// moves on. The armed timer stays; when it fires early it re-arms for the new deadline.
    func writerProgressed() {
        guard !closing, phase == .stalled, deadline != nil else { return }
        deadline = io.now &+ nanoseconds(context.configuration.idleTimeout)
    }

    func arm(at due: UInt64) {
        timerArmedAt = due
        io.setTimer(at: due)
    }

    /// The phase's deadline passed.
    func timedOut() {
        if phase == .body && pausedForBody {
            // The handler is not reading, so the client is not to blame: wait for the handler.
            let due = io.now &+ nanoseconds(context.configuration.bodyTimeout)
            deadline = due
            arm(at: due)
            return
        }
        switch phase {
        case .head, .body:
            // A client cut off mid-request learns why; an exchange under way is abandoned.
            abortCurrent()
            if current?.headSent != true { writeErrorResponse(status: 408) }
            current = nil
            close()
        case .silent, .idle:
            close()
        case .stalled:
            // The response cannot be delivered: the handler is cancelled, the connection cut
            // now (RST). A close after the flush would wait for a client that does not read,
            // and hand it the rest of a queued file region whenever it came back.
            abortCurrent()
            current = nil
            closing = true
            deadline = nil
            io.abort()
        case .busy:
            break
        }
    }

    func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return UInt64(clamping: seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
    }
}
