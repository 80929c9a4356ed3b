import EpsilonHTTPClient
import Foundation
import Testing

/// The pool: reuse, limits, waiters, idle timeout; connections counted on the server side too.
@Suite("Connection pool against Python (crafted_server.py)", .timeLimit(.minutes(2)))
struct PoolTests {
    static func serverConnections(_ server: LoopbackPeer) async throws -> Int {
        // A client of its own, so this count does not disturb the pool under test.
        var configuration = HTTPClientConfiguration()
        configuration.pool.maxConnectionsPerHost = 1
        let probe = HTTPClient(configuration: configuration)
        defer { Task { await probe.shutdown() } }
        let body = try await probe.get(server.url("/connections")).body.collect(upTo: 64)
        return Int(String(decoding: body, as: UTF8.self))!   // the probe's own connection included
    }

    @Test func reusesOneConnectionForSequentialRequests() async throws {
        // A server of its own: other suites' connections must not count.
        let server = try await LoopbackPeer("python3", [clientTestsDirectory + "/crafted_server.py", "--port", "0"])
        let before = try await Self.serverConnections(server)
        let client = HTTPClient()
        defer { Task { await client.shutdown() } }
        for _ in 0..<50 {
            let body = try await client.get(server.url("/bytes/1000")).body.collect(upTo: 2000)
            #expect(body.count == 1000)
        }
        #expect(client.poolStatistics.connectionsOpened == 1)
        let after = try await Self.serverConnections(server)
        #expect(after - before - 1 == 1)   // less the second probe's connection
    }

    @Test func honoursThePerHostLimit() async throws {
        let server = try await LoopbackPeer("python3", [clientTestsDirectory + "/crafted_server.py", "--port", "0"])
        let before = try await Self.serverConnections(server)
        var configuration = HTTPClientConfiguration()
        configuration.pool.maxConnectionsPerHost = 3
        let client = HTTPClient(configuration: configuration)
        defer { Task { await client.shutdown() } }
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<30 {
                group.addTask { try await client.get(server.url("/slow-head/20")).body.collect(upTo: 100).count }
            }
            for try await count in group { #expect(count == 4) }
        }
        #expect(client.poolStatistics.connectionsOpened == 3)
        let after = try await Self.serverConnections(server)
        #expect(after - before - 1 == 3)   // less the second probe's connection
    }

    @Test func honoursTheTotalLimitAcrossOrigins() async throws {
        let server = try await craftedServer.get()
        var configuration = HTTPClientConfiguration()
        configuration.pool.maxConnections = 2
        let client = HTTPClient(configuration: configuration)
        defer { Task { await client.shutdown() } }
        let urls = [server.url("/slow-head/20"), "http://localhost:\(server.port)/slow-head/20"]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<12 {
                group.addTask { _ = try await client.get(urls[index % 2]).body.collect(upTo: 100) }
            }
            try await group.waitForAll()
        }
        #expect(client.poolStatistics.openConnections <= 2)
    }

    @Test func waiterTimesOutWhenNoConnectionFrees() async throws {
        let server = try await craftedServer.get()
        var configuration = HTTPClientConfiguration()
        configuration.pool.maxConnectionsPerHost = 1
        configuration.timeouts.poolWait = .milliseconds(200)
        let client = HTTPClient(configuration: configuration)
        defer { Task { await client.shutdown() } }
        let holder = try await client.get(server.url("/stall-body/100"))   // body never ends: holds the slot
        await #expect(throws: HTTPClientError.poolWaitTimeout) { _ = try await client.get(server.url("/bytes/1")) }
        _ = holder
    }

    @Test func idleConnectionsCloseAfterTheIdleTimeout() async throws {
        let server = try await craftedServer.get()
        var configuration = HTTPClientConfiguration()
        configuration.pool.idleTimeout = .milliseconds(150)
        let client = HTTPClient(configuration: configuration)
        defer { Task { await client.shutdown() } }
        _ = try await client.get(server.url("/bytes/10")).body.collect(upTo: 10)
        #expect(client.poolStatistics.idleConnections == 1)
        try await Task.sleep(for: .milliseconds(600))
        #expect(client.poolStatistics.openConnections == 0)
        _ = try await client.get(server.url("/bytes/10")).body.collect(upTo: 10)
        #expect(client.poolStatistics.connectionsOpened == 2)
    }

    @Test func droppedBodyFreesItsSlot() async throws {
        let server = try await craftedServer.get()
        var configuration = HTTPClientConfiguration()
        configuration.pool.maxConnectionsPerHost = 1
        configuration.timeouts.poolWait = .seconds(5)
        let client = HTTPClient(configuration: configuration)
        defer { Task { await client.shutdown() } }
        do {
            let response = try await client.get(server.url("/bytes/10000000"))
            #expect(response.status == .ok)
        }   // the body is never read: dropping it closes the connection
        let body = try await client.get(server.url("/bytes/10")).body.collect(upTo: 10)
        #expect(body.count == 10)
        #expect(client.poolStatistics.connectionsOpened == 2)
    }

    @Test func shutdownFailsLaterRequests() async throws {
        let server = try await craftedServer.get()
        let client = HTTPClient()
        _ = try await client.get(server.url("/bytes/1")).body.collect(upTo: 1)
        await client.shutdown()
        await #expect(throws: HTTPClientError.shutDown) { _ = try await client.get(server.url("/bytes/1")) }
    }
}
