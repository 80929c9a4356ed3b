import EpsilonHTTPClient
import Foundation
import Testing

/// A connection that received GOAWAY no longer counts against the pool's limits for new
/// requests, while its in-flight streams finish (the scripted server's /goaway-hold).
@Suite("HTTP/2 GOAWAY and the pool's limits", .timeLimit(.minutes(1)))
struct HTTP2GoAwayPoolTests {
    @Test func aDrainingConnectionFreesItsSlotAtOnce() async throws {
        let server = try await startScriptedHTTP2Server()
        let client = priorKnowledgeClient { configuration in
            configuration.pool.maxConnectionsPerHost = 1
            configuration.pool.maxConnections = 1
            configuration.timeouts.poolWait = .seconds(5)
        }
        defer { Task { await client.shutdown() } }
        // Stream 1 gets GOAWAY(last-stream-id 1), its head and half its body; the server sends
        // the rest only after /release arrived.
        let first = try await client.get(server.url("/goaway-hold"))
        #expect(first.status == .ok)
        // With one connection allowed, /release can only be answered on a second connection,
        // opened while stream 1 is still open on the first.
        let started = ContinuousClock.now
        let second = try await client.get(server.url("/release")).body.collect(upTo: 100)
        #expect(String(decoding: second, as: UTF8.self) == "conn=2 stream=1")
        #expect(ContinuousClock.now - started < .seconds(4))  // not a pool wait for the first to end
        // The drained stream still finishes whole.
        #expect(try await first.body.collect(upTo: 1 << 20) == Array(repeating: UInt8(ascii: "h"), count: 2048))
        let stats = try await scriptedStats(client, server)
        #expect(stats.goaways == 1)
        #expect(stats.connections == 2)
        #expect(client.poolStatistics.connectionsOpened == 2)
    }
}
