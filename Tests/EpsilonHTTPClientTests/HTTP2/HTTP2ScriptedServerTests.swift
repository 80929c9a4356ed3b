import EpsilonHTTPClient
import Foundation
import HTTPTypes
import Testing

/// The scripted h2c server (Tests/Client/h2_scripted_server.py) on loopback, one per test.
func startScriptedHTTP2Server() async throws -> LoopbackPeer {
    try await LoopbackPeer("python3", [clientTestsDirectory + "/h2_scripted_server.py", "--port", "0", "--exit-with-stdin"])
}

/// A client that speaks HTTP/2 with prior knowledge to `http://` origins.
func priorKnowledgeClient(_ adjust: (inout HTTPClientConfiguration) -> Void = { _ in }) -> HTTPClient {
    var configuration = HTTPClientConfiguration()
    configuration.httpVersion = .http2
    configuration.timeouts.responseHead = .seconds(20)
    configuration.timeouts.read = .seconds(20)
    adjust(&configuration)
    return HTTPClient(configuration: configuration)
}

/// What the scripted server saw, from its /stats.
struct ScriptedStats: Decodable {
    var connections: Int
    var resets: [[Int]]
    var refused: Int
    var goaways: Int
}

func scriptedStats(_ client: HTTPClient, _ server: LoopbackPeer) async throws -> ScriptedStats {
    let body = try await client.get(server.url("/stats")).body.collect(upTo: 1 << 20)
    return try JSONDecoder().decode(ScriptedStats.self, from: Data(body))
}

@Suite("HTTP/2 client against a scripted Python h2c server (h2_scripted_server.py)", .timeLimit(.minutes(3)))
struct HTTP2ScriptedServerTests {
    @Test func getsOverPriorKnowledge() async throws {
        let server = try await startScriptedHTTP2Server()
        let client = priorKnowledgeClient()
        defer { Task { await client.shutdown() } }
        let response = try await client.get(server.url("/ok"))
        #expect(response.status == .ok)
        #expect(try await response.body.collect(upTo: 100) == Array("conn=1 stream=1".utf8))
        let second = try await client.get(server.url("/bytes/100000")).body.collect(upTo: 1 << 20)
        #expect(second == patternBytes(100_000))
        #expect(client.poolStatistics.connectionsOpened == 1)
    }

    @Test(arguments: [HTTPRequest.Method.post, .put], [0, 1 << 20])
    func uploadsArriveWhole(method: HTTPRequest.Method, size: Int) async throws {
        let server = try await startScriptedHTTP2Server()
        let client = priorKnowledgeClient()
        defer { Task { await client.shutdown() } }
        let body = patternBytes(size)
        let response = try await client.execute(method, server.url("/sha256"), body: .bytes(body))
        #expect(String(decoding: try await response.body.collect(upTo: 100), as: UTF8.self) == SHA256Digest.hex(body))
    }

    @Test func streamsA100MiBUploadUnderFlowControl() async throws {
        let server = try await startScriptedHTTP2Server()
        let client = priorKnowledgeClient()
        defer { Task { await client.shutdown() } }
        let total = 100 << 20
        var expected = SHA256Digest()
        var offset = 0
        while offset < total {
            expected.update(patternBytes(min(1 << 20, total - offset), from: offset))
            offset += 1 << 20
        }
        let response = try await client.execute(.put, server.url("/sha256"),
                                                 body: .stream(PatternChunks(total: total, chunkSize: 64 * 1024), length: total))
        #expect(String(decoding: try await response.body.collect(upTo: 100), as: UTF8.self) == expected.finalize())
    }

    @Test func hundredConcurrentRequestsShareOneConnection() async throws {
        let server = try await startScriptedHTTP2Server()
        let client = priorKnowledgeClient()
        defer { Task { await client.shutdown() } }
        let url = server.url("/ok")
        let bodies = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<100 {
                group.addTask { String(decoding: try await client.get(url).body.collect(upTo: 100), as: UTF8.self) }
            }
            var bodies: [String] = []
            for try await body in group { bodies.append(body) }
            return bodies
        }
        #expect(bodies.count == 100)
        #expect(bodies.allSatisfy { $0.hasPrefix("conn=1 ") })
        #expect(Set(bodies).count == 100)  // 100 distinct streams
        #expect(client.poolStatistics.connectionsOpened == 1)
        #expect(try await scriptedStats(client, server).connections == 1)
    }

    @Test func goAwayRetriesTheStreamsAboveItsLastStreamID() async throws {
        let server = try await startScriptedHTTP2Server()
        let client = priorKnowledgeClient()
        defer { Task { await client.shutdown() } }
        let url = server.url("/goaway")
        async let first = client.get(url).body.collect(upTo: 100)
        async let second = client.get(url).body.collect(upTo: 100)
        let bodies = try await [first, second].map { String(decoding: $0, as: UTF8.self) }.sorted()
        // Stream 1 was processed on the first connection; stream 3, above GOAWAY's last stream
        // id, was sent again on a second connection.
        #expect(bodies == ["conn=1 stream=1", "conn=2 stream=1"])
        let stats = try await scriptedStats(client, server)
        #expect(stats.goaways == 1)
        #expect(stats.connections == 2)
    }

    @Test func refusedStreamIsRetriedEvenForPOST() async throws {
        let server = try await startScriptedHTTP2Server()
        let client = priorKnowledgeClient()
        defer { Task { await client.shutdown() } }
        let response = try await client.post(server.url("/refuse"), body: .text("x"))
        #expect(response.status == .ok)
        _ = try await response.body.collect(upTo: 100)
        #expect(try await scriptedStats(client, server).refused == 2)
    }

    @Test func refusedStreamWithoutRetriesIsATypedError() async throws {
        let server = try await startScriptedHTTP2Server()
        let client = priorKnowledgeClient { $0.retryPolicy.maxAttempts = 1 }
        defer { Task { await client.shutdown() } }
        await #expect(throws: HTTPClientError.http2StreamRefused) { try await client.get(server.url("/refuse")) }
    }

    @Test func cancellingAReadSendsRSTStreamCancelAndKeepsTheConnection() async throws {
        let server = try await startScriptedHTTP2Server()
        let client = priorKnowledgeClient()
        defer { Task { await client.shutdown() } }
        let response = try await client.get(server.url("/slow"))
        let reader = Task { try await response.body.collect(upTo: 1 << 20) }
        try await Task.sleep(for: .milliseconds(200))
        reader.cancel()
        await #expect(throws: HTTPClientError.cancelled) { try await reader.value }
        let stats = try await waitForStats(client, server) { $0.resets.contains([1, 8]) }
        #expect(stats.resets.contains([1, 8]))  // RST_STREAM(CANCEL) on stream 1
        #expect(stats.connections == 1)
        #expect(client.poolStatistics.connectionsOpened == 1)
    }

    @Test func readTimeoutResetsOnlyItsStream() async throws {
        let server = try await startScriptedHTTP2Server()
        let client = priorKnowledgeClient { $0.timeouts.read = .milliseconds(500) }
        defer { Task { await client.shutdown() } }
        let response = try await client.get(server.url("/slow"))
        let started = ContinuousClock.now
        await #expect(throws: HTTPClientError.readTimeout) { try await response.body.collect(upTo: 1 << 20) }
        #expect(ContinuousClock.now - started >= .milliseconds(450))
        let stats = try await waitForStats(client, server) { $0.resets.contains([1, 8]) }
        #expect(stats.resets.contains([1, 8]))
        #expect(stats.connections == 1)
    }

    @Test func droppingAnUnreadBodyFreesTheStreamSlot() async throws {
        let server = try await startScriptedHTTP2Server()
        let client = priorKnowledgeClient()
        defer { Task { await client.shutdown() } }
        for _ in 0..<3 {
            _ = try await client.get(server.url("/slow"))
        }
        let stats = try await waitForStats(client, server) { $0.resets.count >= 3 }
        #expect(stats.resets.map { $0[1] } == [8, 8, 8])
        #expect(stats.connections == 1)
    }

    /// /stats until `done` holds (at most 5 s).
    private func waitForStats(_ client: HTTPClient, _ server: LoopbackPeer,
                              until done: (ScriptedStats) -> Bool) async throws -> ScriptedStats {
        var stats = try await scriptedStats(client, server)
        for _ in 0..<50 where !done(stats) {
            try await Task.sleep(for: .milliseconds(100))
            stats = try await scriptedStats(client, server)
        }
        return stats
    }
}
