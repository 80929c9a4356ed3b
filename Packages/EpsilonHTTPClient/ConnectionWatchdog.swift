import EpsilonTransport
import Synchronization

/// The deadlines of the request a connection is serving, behind one lazily re-armed loop timer.
///
/// A phase (waiting for the head, reading the body) sets a deadline with the error it means;
/// the whole-request deadline runs beside it. Moving a deadline later arms nothing: the timer
/// that fires early re-arms itself for the current deadline, so a busy connection has at most
/// one timer pending instead of one per request. When a deadline passes, the watchdog records
/// its error and closes the connection; the reader sees the close and reports ``fired``.
final class ConnectionWatchdog: Sendable {
    private struct State {
        var phaseDeadline: UInt64?
        var phaseError = HTTPClientError.readTimeout
        var requestDeadline: UInt64?
        /// When the pending timer fires, or nil when none is pending.
        var armedAt: UInt64?
        var fired: HTTPClientError?

        var next: (deadline: UInt64, error: HTTPClientError)? {
            switch (phaseDeadline, requestDeadline) {
            case (nil, nil): return nil
            case (let phase?, nil): return (phase, phaseError)
            case (nil, let request?): return (request, .requestTimeout)
            case (let phase?, let request?): return phase <= request ? (phase, phaseError) : (request, .requestTimeout)
            }
        }
    }

    private let state = Mutex(State())
    private let loop: IOLoop
    private let expire: @Sendable () -> Void

    /// `expire` closes the connection; it runs on the loop thread.
    init(loop: IOLoop, expire: @escaping @Sendable () -> Void) {
        self.loop = loop
        self.expire = expire
    }

    /// The error of the deadline that closed the connection, if one did.
    var fired: HTTPClientError? { state.withLock { $0.fired } }

    /// Starts a phase that must end within `timeout` (nil: no phase limit), failing with `error`.
    func startPhase(_ timeout: Duration?, error: HTTPClientError, now: UInt64 = MonotonicClock.now()) {
        let arm = state.withLock { state -> UInt64? in
            state.phaseDeadline = timeout.map { now &+ $0.nanoseconds }
            state.phaseError = error
            return Self.needsTimer(&state, now: now)
        }
        if let arm { schedule(in: arm) }
    }

    /// Sets (or clears) the whole request's deadline, in monotonic nanoseconds.
    func setRequestDeadline(_ deadline: UInt64?, now: UInt64 = MonotonicClock.now()) {
        let arm = state.withLock { state -> UInt64? in
            state.requestDeadline = deadline
            return Self.needsTimer(&state, now: now)
        }
        if let arm { schedule(in: arm) }
    }

    /// The request is done: no deadline until the next one starts.
    func clear() {
        state.withLock { state in
            state.phaseDeadline = nil
            state.requestDeadline = nil
        }
    }

    /// Arms a timer when the next deadline comes before the pending timer (or none is pending);
    /// returns the delay in nanoseconds.
    private static func needsTimer(_ state: inout State, now: UInt64) -> UInt64? {
        guard state.fired == nil, let next = state.next?.deadline else { return nil }
        if let armedAt = state.armedAt, armedAt <= next { return nil }
        state.armedAt = next
        return next > now ? next - now : 0
    }

    private func schedule(in nanoseconds: UInt64) {
        loop.schedule(after: .nanoseconds(Int64(min(nanoseconds, UInt64(Int64.max))))) { [self] in
            self.timerFired()
        }
    }

    private func timerFired() {
        let now = MonotonicClock.now()
        enum Outcome { case nothing, rearm(UInt64), expire }
        let outcome = state.withLock { state -> Outcome in
            state.armedAt = nil
            guard state.fired == nil, let next = state.next else { return .nothing }
            if next.deadline <= now {
                state.fired = next.error
                return .expire
            }
            state.armedAt = next.deadline
            return .rearm(next.deadline - now)
        }
        switch outcome {
        case .nothing: break
        case .rearm(let delay): schedule(in: delay)
        case .expire: expire()
        }
    }
}
