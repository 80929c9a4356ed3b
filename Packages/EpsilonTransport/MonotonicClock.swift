#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The monotonic clock the transport's loops and timers run on, as a count of nanoseconds.
///
/// Protocol machines never read a clock: time is an input (see "Driving a machine"). This is
/// the value a driver on the transport passes them, the same clock the loop's timers use, so a
/// machine's `nextDeadline` can be turned into a loop timer directly:
///
/// ```swift
/// try machine.receive(bytes, now: MonotonicClock.now(), handler: &handler)
/// if let deadline = machine.nextDeadline {
///     let delay = deadline > MonotonicClock.now() ? deadline - MonotonicClock.now() : 0
///     connection.loop.scheduleTimer(after: .nanoseconds(Int64(delay))) { /* handleTimeouts(now:) */ }
/// }
/// ```
///
/// It is `CLOCK_MONOTONIC`: it never goes backwards, does not jump with the wall clock, and its
/// zero is arbitrary (only differences mean anything). One call is one `clock_gettime` (a vDSO
/// call on Linux, no system call, no allocation).
public enum MonotonicClock {
    /// Nanoseconds since an arbitrary, fixed point (`CLOCK_MONOTONIC`).
    public static func now() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }
}
