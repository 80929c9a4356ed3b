/// When a ``ReconnectingWebSocket`` tries again: exponential backoff with full jitter.
///
/// Before retry *n* (counting from 0) it waits a random time between zero and
/// `min(cap, base × 2ⁿ)` ("full jitter", so that many clients a server dropped at once do not
/// come back at once). The count starts over once a connection stayed open for
/// ``stablePeriod``.
public struct WebSocketClientBackoff: Sendable, Hashable {
    /// The bound of the first delay. Default 250 ms.
    public var base: Duration
    /// The largest bound. Default 30 s.
    public var cap: Duration
    /// Attempts after a failure or a lost connection before giving up, or nil (the default) to
    /// try forever.
    public var maxAttempts: Int?
    /// How long a connection must stay open for the attempt count to start over. Default 10 s.
    public var stablePeriod: Duration

    /// Creates a policy.
    public init(base: Duration = .milliseconds(250), cap: Duration = .seconds(30), maxAttempts: Int? = nil,
                stablePeriod: Duration = .seconds(10)) {
        self.base = base
        self.cap = cap
        self.maxAttempts = maxAttempts
        self.stablePeriod = stablePeriod
    }

    /// The largest delay before retry `attempt` (0-based): `min(cap, base × 2^attempt)`.
    public func bound(forAttempt attempt: Int) -> Duration {
        var bound = base
        var step = 0
        while step < attempt && bound < cap {
            bound = bound * 2
            step += 1
        }
        return min(bound, cap)
    }

    /// A random delay in `0...bound(forAttempt:)`.
    public func delay(forAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let bound = bound(forAttempt: attempt)
        let nanos = bound.components.seconds &* 1_000_000_000 &+ bound.components.attoseconds / 1_000_000_000
        guard nanos > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanos, using: &generator))
    }
}
