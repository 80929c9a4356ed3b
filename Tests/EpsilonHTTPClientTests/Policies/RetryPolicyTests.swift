import EpsilonHTTPClient
import HTTPTypes
import Testing

private let now: Int64 = 1_733_443_200  // Fri, 06 Dec 2024 00:00:00 GMT

private func delay(_ failure: HTTPRetryPolicy.Failure, policy: HTTPRetryPolicy = .default, attempt: Int = 1,
                   method: HTTPRequest.Method = .get, replayable: Bool = true) -> Duration? {
    var generator = SeededGenerator(seed: 7)
    return policy.delay(after: failure, attempt: attempt, method: method, bodyIsReplayable: replayable, now: now, using: &generator)
}

/// Exponential backoff with full jitter: every delay within 0...min(cap, base·2^(n−1)), and the
/// whole range used.
@Suite struct RetryBackoffWithFullJitter {
    @Test(arguments: 1...8)
    func drawsStayWithinTheCeilingAndSpreadOverIt(attempt: Int) throws {
        let policy = HTTPRetryPolicy(maxAttempts: 20, baseDelay: .milliseconds(100), maxDelay: .seconds(5))
        let ceiling = min(Duration.seconds(5), .milliseconds(100) * (1 << (attempt - 1)))
        var generator = SeededGenerator(seed: UInt64(attempt))
        var draws: [Duration] = []
        for _ in 0..<4000 {
            draws.append(try #require(policy.delay(after: .connectFailed, attempt: attempt, method: .get, bodyIsReplayable: true, now: now, using: &generator)))
        }
        #expect(draws.allSatisfy { $0 >= .zero && $0 <= ceiling })
        #expect(draws.min()! < ceiling * 0.02)
        #expect(draws.max()! > ceiling * 0.98)
        let mean = draws.reduce(Duration.zero, +) / draws.count
        #expect(mean > ceiling * 0.45 && mean < ceiling * 0.55)  // uniform: the mean is half the ceiling
    }

    @Test func theCeilingStopsAtTheCap() throws {
        let policy = HTTPRetryPolicy(maxAttempts: 100, baseDelay: .milliseconds(100), maxDelay: .seconds(1))
        var generator = SeededGenerator(seed: 99)
        for attempt in [5, 10, 63, 64, 99] {
            for _ in 0..<500 {
                let wait = try #require(policy.delay(after: .refusedStream, attempt: attempt, method: .get, bodyIsReplayable: true, now: now, using: &generator))
                #expect(wait <= .seconds(1))
            }
        }
    }

    @Test func theSameSeedGivesTheSameDelays() {
        #expect(delay(.resetBeforeResponse, attempt: 2) == delay(.resetBeforeResponse, attempt: 2))
    }

    @Test func stopsAfterMaxAttempts() {
        let policy = HTTPRetryPolicy(maxAttempts: 3)
        #expect(delay(.connectFailed, policy: policy, attempt: 1) != nil)
        #expect(delay(.connectFailed, policy: policy, attempt: 2) != nil)
        #expect(delay(.connectFailed, policy: policy, attempt: 3) == nil)
        #expect(delay(.connectFailed, policy: policy, attempt: 0) == nil)
        #expect(delay(.connectFailed, policy: .disabled, attempt: 1) == nil)
    }
}

/// RFC 9110 §9.2.2: only idempotent requests are repeated after a failure that may have reached
/// the server; unprocessed ones are safe for any method; one-shot bodies never are.
@Suite struct RetryIdempotency {
    @Test(arguments: [HTTPRequest.Method.get, .head, .options, .trace, .put, .delete])
    func retriesAResetIdempotentRequest(method: HTTPRequest.Method) {
        #expect(delay(.resetBeforeResponse, method: method) != nil)
    }

    @Test(arguments: [HTTPRequest.Method.post, .patch, .connect])
    func doesNotRetryAResetNonIdempotentRequest(method: HTTPRequest.Method) {
        #expect(delay(.resetBeforeResponse, method: method) == nil)
    }

    @Test func retriesANonIdempotentRequestWhenOptedIn() {
        let policy = HTTPRetryPolicy(retriesNonIdempotentRequests: true)
        #expect(delay(.resetBeforeResponse, policy: policy, method: .post) != nil)
    }

    @Test(arguments: [HTTPRetryPolicy.Failure.refusedStream, .goAwayUnprocessed, .connectFailed])
    func retriesUnprocessedRequestsOfAnyMethod(failure: HTTPRetryPolicy.Failure) {
        #expect(delay(failure, method: .post) != nil)
        #expect(delay(failure, method: .patch) != nil)
    }

    @Test(arguments: [HTTPRetryPolicy.Failure.refusedStream, .goAwayUnprocessed, .connectFailed, .resetBeforeResponse,
                      .status(503, retryAfter: "1")])
    func neverRetriesAOneShotBodyAlreadySent(failure: HTTPRetryPolicy.Failure) {
        let policy = HTTPRetryPolicy(retriesNonIdempotentRequests: true, honoursRetryAfter: true)
        #expect(delay(failure, policy: policy, method: .get, replayable: false) == nil)
    }
}

/// RFC 9110 §10.2.3 Retry-After on 429 and 503, when the policy honours it.
@Suite struct RetryAfterResponses {
    let honouring = HTTPRetryPolicy(honoursRetryAfter: true, maxRetryAfter: .seconds(60))

    @Test func waitsTheDelaySeconds() {
        #expect(delay(.status(503, retryAfter: "5"), policy: honouring) == .seconds(5))
        #expect(delay(.status(429, retryAfter: " 0 "), policy: honouring) == .zero)
    }

    @Test func waitsUntilTheHTTPDate() {
        #expect(delay(.status(503, retryAfter: "Fri, 06 Dec 2024 00:00:30 GMT"), policy: honouring) == .seconds(30))
        #expect(delay(.status(503, retryAfter: "Friday, 06-Dec-24 00:00:45 GMT"), policy: honouring) == .seconds(45))
        #expect(delay(.status(503, retryAfter: "Thu, 05 Dec 2024 23:00:00 GMT"), policy: honouring) == .zero)  // past
    }

    @Test func givesUpWhenAskedToWaitLongerThanTheCap() {
        #expect(delay(.status(503, retryAfter: "61"), policy: honouring) == nil)
        #expect(delay(.status(503, retryAfter: "60"), policy: honouring) == .seconds(60))
        #expect(delay(.status(503, retryAfter: "99999999999999999999999"), policy: honouring) == nil)
        #expect(delay(.status(429, retryAfter: "Sat, 07 Dec 2024 00:00:00 GMT"), policy: honouring) == nil)
    }

    @Test func backsOffWhenRetryAfterIsAbsentOrInvalid() throws {
        for value in [nil, "soon", "-5", "1.5"] as [String?] {
            let wait = try #require(delay(.status(503, retryAfter: value), policy: honouring))
            #expect(wait <= .milliseconds(100))
        }
    }

    @Test func retriesOnly429And503() {
        for status in [500, 502, 504, 404, 408] {
            #expect(delay(.status(status, retryAfter: "1"), policy: honouring) == nil)
        }
    }

    @Test func ignoresStatusesUnlessHonoured() {
        #expect(delay(.status(503, retryAfter: "1"), policy: .default) == nil)
        #expect(delay(.status(429, retryAfter: nil), policy: .default) == nil)
    }

    @Test func keepsTheIdempotencyRuleForStatuses() {
        #expect(delay(.status(503, retryAfter: "1"), policy: honouring, method: .post) == nil)
        var optedIn = honouring
        optedIn.retriesNonIdempotentRequests = true
        #expect(delay(.status(503, retryAfter: "1"), policy: optedIn, method: .post) == .seconds(1))
    }
}
