#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import EpsilonTransport
import HTTPTypes

extension HTTPClient {
    /// Sends `first` and follows what the policies say: cookies from and into the jar,
    /// retries with backoff, redirects. Returns the response no policy acts on.
    func follow(_ first: ClientAttempt) async throws(HTTPClientError) -> HTTPClientResponse {
        var current = first
        // The URLs of a redirect chain, made on the first redirect (most requests have none).
        var visited: [String] = []
        var attempt = 1
        var random = SystemRandomNumberGenerator()
        let jar = configuration.cookieJar
        while true {
            current.cookies = jar?.cookieField(scheme: current.url.origin.scheme, host: current.url.origin.host,
                                               path: current.url.pathAndQuery, now: Self.wallClockSeconds())
            let replayable = current.body?.isReplayable ?? true
            let response: HTTPClientResponse
            do {
                response = try await perform(current)
            } catch {
                guard let failure = Self.retryFailure(error),
                      let delay = configuration.retryPolicy.delay(after: failure, attempt: attempt, method: current.request.method,
                                                                  bodyIsReplayable: replayable && current.body?.isReplayable ?? true,
                                                                  now: Self.wallClockSeconds(), using: &random) else {
                    throw error
                }
                try await pause(delay, deadline: current.deadline)
                attempt += 1
                continue
            }
            if let jar {
                let fields = response.headerFields[values: .setCookie]
                if !fields.isEmpty {
                    jar.store(setCookieFields: fields, scheme: current.url.origin.scheme, host: current.url.origin.host,
                              path: current.url.pathAndQuery, now: Self.wallClockSeconds())
                }
            }
            let status = response.status.code
            if status == 429 || status == 503,
               let delay = configuration.retryPolicy.delay(
                after: .status(status, retryAfter: response.headerFields[.retryAfter]), attempt: attempt,
                method: current.request.method, bodyIsReplayable: current.body?.isReplayable ?? true,
                now: Self.wallClockSeconds(), using: &random) {
                await response.body.discard(upTo: 64 * 1024)
                try await pause(delay, deadline: current.deadline)
                attempt += 1
                continue
            }
            guard (300...399).contains(status), let location = response.headerFields[.location] else { return response }
            let redirect: HTTPRedirect?
            if visited.isEmpty { visited.append(current.url.absoluteString) }
            do {
                redirect = try configuration.redirectPolicy.redirect(status: status, location: location,
                                                                     request: current.request, visited: visited)
            } catch {
                await response.body.discard(upTo: 0)
                throw .redirectRefused("\(error)")
            }
            guard let redirect else { return response }
            // A one-shot body already sent cannot go to the new target: the caller gets the redirect.
            if redirect.keepsBody, let body = current.body, !body.isReplayable { return response }
            await response.body.discard(upTo: 64 * 1024)
            guard let authority = redirect.request.authority else { throw .redirectRefused("no authority in \(redirect.url)") }
            current.url = try ClientURL(scheme: redirect.request.scheme ?? "https", authority: authority,
                                        path: redirect.request.path ?? "/")
            current.request = redirect.request
            if !redirect.keepsBody { current.body = nil }
            visited.append(redirect.url)
            attempt = 1
        }
    }

    /// The retry policy's name for a failure, or nil when no retry can help.
    private static func retryFailure(_ error: HTTPClientError) -> HTTPRetryPolicy.Failure? {
        switch error {
        case .connectFailed, .connectTimeout: return .connectFailed
        case .closedBeforeResponse: return .resetBeforeResponse
        case .http2StreamRefused: return .refusedStream
        case .http2GoAwayUnprocessed: return .goAwayUnprocessed
        default: return nil
        }
    }

    /// Sleeps `delay`, unless the request's deadline comes first or the task is cancelled.
    private func pause(_ delay: Duration, deadline: UInt64?) async throws(HTTPClientError) {
        if let deadline, MonotonicClock.now() &+ delay.nanoseconds >= deadline { throw .requestTimeout }
        do {
            try await Task.sleep(for: delay)
        } catch {
            throw .cancelled
        }
    }

    /// Seconds since 1970, for cookie expiry and Retry-After dates.
    static func wallClockSeconds() -> Int64 { Int64(Date().timeIntervalSince1970) }
}
