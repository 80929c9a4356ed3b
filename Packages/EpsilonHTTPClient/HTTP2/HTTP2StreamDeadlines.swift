import EpsilonTransport

/// A stream's deadlines as the request and its body set them (the same calls as a
/// ``ConnectionWatchdog``'s), kept in the stream's record on its connection: one lazily re-armed
/// timer per connection serves every stream, so a request arms no timer of its own.
struct HTTP2StreamDeadlines: Sendable {
    let connection: HTTP2ClientConnection
    let id: UInt32

    /// Starts a phase that must end within `timeout` (nil: no phase limit), failing with `error`.
    func startPhase(_ timeout: Duration?, error: HTTPClientError) {
        let now = MonotonicClock.now()
        connection.updateDeadlines(of: id, now: now) { record in
            record.phaseDeadline = timeout.map { now &+ $0.nanoseconds }
            record.phaseError = error
        }
    }

    /// Sets (or clears) the whole request's deadline, in monotonic nanoseconds.
    func setRequestDeadline(_ deadline: UInt64?) {
        guard deadline != nil else { return }
        connection.updateDeadlines(of: id, now: MonotonicClock.now()) { $0.requestDeadline = deadline }
    }
}
