// When a failed attempt is tried again and after how long: exponential backoff with full jitter,
// idempotency rules (RFC 9110 §9.2.2), Retry-After (RFC 9110 §10.2.3) for 429 and 503.

import EpsilonHTTPTypes
import HTTPTypes

/// Decides whether a failed attempt is retried and how long to wait first.
///
/// ```swift
/// var generator = SystemRandomNumberGenerator()
/// if let wait = policy.delay(after: .resetBeforeResponse, attempt: 1, method: .get,
///                            bodyIsReplayable: true, now: now, using: &generator) {
///     try await Task.sleep(for: wait)   // then attempt 2
/// }
/// ```
///
/// Pure: the caller passes the attempt number, the wall-clock time (for HTTP-date Retry-After)
/// and the random source, so tests can seed it.
public struct HTTPRetryPolicy: Sendable {
    /// Attempts in total, including the first; 1 means never retry.
    public var maxAttempts: Int = 3
    /// The backoff ceiling of the first retry; it doubles with each attempt.
    public var baseDelay: Duration = .milliseconds(100)
    /// The largest backoff ceiling.
    public var maxDelay: Duration = .seconds(10)
    /// Whether requests whose method is not idempotent (POST, PATCH, …) are retried after a
    /// failure that may have reached the server (a reset, a 429/503).
    public var retriesNonIdempotentRequests = false
    /// Whether 429 and 503 responses are retried, waiting as their Retry-After says (or the
    /// backoff when they have none).
    public var honoursRetryAfter = false     // for 429/503
    /// The longest Retry-After waited for; a longer one is not retried (the response is the result).
    public var maxRetryAfter: Duration = .seconds(60)

    /// Three attempts, 100 ms base, 10 s cap, idempotent methods only, statuses not retried.
    public static let `default` = HTTPRetryPolicy()
    /// One attempt: nothing is retried.
    public static let disabled = HTTPRetryPolicy(maxAttempts: 1)

    /// A policy with every setting given (defaults as ``default``).
    public init(
        maxAttempts: Int = 3, baseDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(10),
        retriesNonIdempotentRequests: Bool = false, honoursRetryAfter: Bool = false, maxRetryAfter: Duration = .seconds(60)
    ) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.retriesNonIdempotentRequests = retriesNonIdempotentRequests
        self.honoursRetryAfter = honoursRetryAfter
        self.maxRetryAfter = maxRetryAfter
    }

    /// How an attempt failed.
    public enum Failure: Sendable, Equatable {
        /// No connection could be opened: nothing was sent.
        case connectFailed
        /// The connection closed or reset before any byte of the response.
        case resetBeforeResponse
        /// HTTP/2 `RST_STREAM` with `REFUSED_STREAM` (RFC 9113 §8.7): not processed.
        case refusedStream
        /// HTTP/2 GOAWAY whose last stream id is below the request's stream: not processed.
        case goAwayUnprocessed
        /// A response with this status and its Retry-After field value, if any.
        case status(Int, retryAfter: String?)
    }

    /// nil = do not retry. `attempt` is the 1-based number of the attempt that just failed.
    /// Full jitter: uniform in 0...min(maxDelay, baseDelay * 2^(attempt-1)). refusedStream and
    /// goAwayUnprocessed are safe for any method (not processed); a body that is a one-shot stream
    /// already (partly) sent is never retried (`bodyIsReplayable == false`).
    ///
    /// `connectFailed` is safe for any method too (nothing was sent). `resetBeforeResponse` and
    /// statuses are retried for idempotent methods (RFC 9110 §9.2.2) unless
    /// ``retriesNonIdempotentRequests``. Statuses are retried only when ``honoursRetryAfter``
    /// is set and only 429 and 503; their Retry-After (delay-seconds, or an HTTP-date compared
    /// with `now`, seconds since 1970) replaces the backoff, and one above ``maxRetryAfter``
    /// means no retry.
    public func delay(after failure: Failure, attempt: Int, method: HTTPRequest.Method,
                      bodyIsReplayable: Bool, now: Int64,
                      using random: inout some RandomNumberGenerator) -> Duration? {
        guard attempt >= 1, attempt < maxAttempts, bodyIsReplayable else { return nil }
        let mayRepeat = retriesNonIdempotentRequests || Self.isIdempotent(method)
        switch failure {
        case .connectFailed, .refusedStream, .goAwayUnprocessed:
            return backoff(attempt: attempt, using: &random)
        case .resetBeforeResponse:
            return mayRepeat ? backoff(attempt: attempt, using: &random) : nil
        case .status(let code, let retryAfter):
            guard honoursRetryAfter, code == 429 || code == 503, mayRepeat else { return nil }
            guard let retryAfter else { return backoff(attempt: attempt, using: &random) }
            guard let seconds = Self.retryAfterSeconds(retryAfter, now: now) else { return backoff(attempt: attempt, using: &random) }
            let wait = Duration.seconds(seconds)
            return wait <= maxRetryAfter ? wait : nil
        }
    }

    /// RFC 9110 §9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE (QUERY too, as its draft says).
    static func isIdempotent(_ method: HTTPRequest.Method) -> Bool {
        switch method {
        case .get, .head, .options, .trace, .put, .delete: true
        default: method.rawValue == "QUERY"
        }
    }

    /// Full jitter: uniform in 0...min(maxDelay, baseDelay · 2^(attempt−1)), in nanoseconds.
    private func backoff(attempt: Int, using random: inout some RandomNumberGenerator) -> Duration {
        let cap = max(0, Self.nanoseconds(maxDelay))
        var ceiling = max(0, Self.nanoseconds(baseDelay))
        for _ in 1..<min(attempt, 64) where ceiling < cap {
            ceiling = ceiling > cap / 2 ? cap : ceiling * 2
        }
        ceiling = min(ceiling, cap)
        return .nanoseconds(Int64.random(in: 0...ceiling, using: &random))
    }

    /// RFC 9110 §10.2.3: delay-seconds or an HTTP-date (the wait until then, zero if past);
    /// nil when neither.
    static func retryAfterSeconds(_ value: String, now: Int64) -> Int64? {
        let text = value.trimmingASCIIWhitespace()
        if !text.isEmpty, text.utf8.allSatisfy({ $0 &- 0x30 < 10 }) {
            // Clamped: a huge number only has to be "more than maxRetryAfter".
            return text.utf8.count > 12 ? 999_999_999_999 : Int64(text)
        }
        guard let date = HTTPDate.parse(String(text), now: now) else { return nil }
        return max(0, date - now)
    }

    /// A Duration in whole nanoseconds, clamped to Int64.
    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (total, overflow2) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflow2 ? .max : total
    }
}

extension String {
    /// Without leading and trailing SP and HTAB.
    fileprivate func trimmingASCIIWhitespace() -> Substring {
        let isWhitespace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !isWhitespace($0) }), let end = lastIndex(where: { !isWhitespace($0) }) else { return "" }
        return self[start...end]
    }
}
