import EpsilonHTTPClient
import HTTPTypes
import Testing

/// Retries in the real client against the scripted Python server, timed on the server's clock.
@Suite(.serialized) struct EndToEndRetriesWithPython {
    /// Scheduling and connecting add to each measured gap: on a loaded 2-core machine with every
    /// suite running at once, up to several hundred milliseconds.
    static let slack = 0.5

    @Test func aResetConnectionIsRetriedWithGrowingDelaysWithinTheJitterBounds() async throws {
        let server = try scriptedServer.get()
        let configuration = {
            var configuration = HTTPClientConfiguration()
            configuration.retryPolicy = HTTPRetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(100), maxDelay: .seconds(10))
            return configuration
        }()
        let keys = (0..<6).map { uniqueKey("jitter\($0)") }
        let ceilings = [0.1, 0.2, 0.4, 0.8]  // min(maxDelay, base · 2^(attempt−1))
        // Six requests at once, each reset four times, then answered; one client each, so no
        // request meets a pooled connection (whose reset the client retries at once, as stale).
        try await withThrowingTaskGroup(of: Void.self) { group in
            for key in keys {
                group.addTask {
                    try await withClient(configuration) { client in
                        let response = try await client.get(server.url("/reset-then-ok/\(key)/4"))
                        #expect(response.status == .ok)
                        _ = try await response.body.collect(upTo: 1024)
                    }
                }
            }
            try await group.waitForAll()
        }
        try await withClient(HTTPClientConfiguration()) { client in
            var gaps: [[Double]] = []
            for key in keys {
                let log = try await ScriptedLog(key, from: server, using: client)
                #expect(log.count == 5)
                gaps.append(log.gaps)
            }
            for keyGaps in gaps {
                for (index, gap) in keyGaps.enumerated() where index < ceilings.count {
                    #expect(gap >= 0 && gap <= ceilings[index] + Self.slack, "retry \(index + 1) waited \(gap) s")
                }
            }
            // Growing: together the last delays exceed anything the first window could give
            // (six draws from 0...800 ms summing under 600 ms: probability 2.5e-4).
            let first = gaps.map { $0.first ?? 0 }.reduce(0, +), last = gaps.map { $0.last ?? 0 }.reduce(0, +)
            #expect(last > Double(keys.count) * ceilings[0], "gaps: \(gaps)")
            #expect(last > first)
        }
    }

    @Test func aNonIdempotentPostIsNotRetried() async throws {
        let server = try scriptedServer.get()
        let key = uniqueKey("post")
        try await withClient(HTTPClientConfiguration()) { client in
            let error = await #expect(throws: HTTPClientError.self) {
                try await client.post(server.url("/reset-then-ok/\(key)/1"), body: .text("once"))
            }
            #expect(error == .closedBeforeResponse)
            let log = try await ScriptedLog(key, from: server, using: client)
            #expect(log.count == 1)
        }
    }

    @Test func aPostIsRetriedWhenTheCallerOptsIn() async throws {
        let server = try scriptedServer.get()
        let key = uniqueKey("post-opt-in")
        var configuration = HTTPClientConfiguration()
        configuration.retryPolicy.retriesNonIdempotentRequests = true
        try await withClient(configuration) { client in
            let response = try await client.post(server.url("/reset-then-ok/\(key)/1"), body: .text("twice"))
            #expect(response.status == .ok)
            let log = try await ScriptedLog(key, from: server, using: client)
            #expect(log.count == 2)
        }
    }

    @Test func givesUpAfterMaxAttempts() async throws {
        let server = try scriptedServer.get()
        let key = uniqueKey("give-up")
        var configuration = HTTPClientConfiguration()
        configuration.retryPolicy = HTTPRetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(20))
        try await withClient(configuration) { client in
            let error = await #expect(throws: HTTPClientError.self) { try await client.get(server.url("/reset-then-ok/\(key)/10")) }
            #expect(error == .closedBeforeResponse)
            let log = try await ScriptedLog(key, from: server, using: client)
            #expect(log.count == 3)
        }
    }

    @Test func waitsWhatRetryAfterSaysWhenHonoured() async throws {
        let server = try scriptedServer.get()
        let key = uniqueKey("retry-after")
        var configuration = HTTPClientConfiguration()
        configuration.retryPolicy.honoursRetryAfter = true
        try await withClient(configuration) { client in
            let response = try await client.get(server.url("/status/503?retry-after=1&key=\(key)&times=1"))
            #expect(response.status == .ok)
            let log = try await ScriptedLog(key, from: server, using: client)
            #expect(log.count == 2)
            #expect(log.gaps[0] >= 0.95 && log.gaps[0] <= 1 + Self.slack)
        }
    }

    @Test func handsA503BackUnlessRetryAfterIsHonoured() async throws {
        let server = try scriptedServer.get()
        let key = uniqueKey("no-retry-after")
        try await withClient(HTTPClientConfiguration()) { client in
            let response = try await client.get(server.url("/status/503?retry-after=1&key=\(key)&times=1"))
            #expect(response.status.code == 503)
            #expect(response.headerFields[.retryAfter] == "1")
            let log = try await ScriptedLog(key, from: server, using: client)
            #expect(log.count == 1)
        }
    }
}
