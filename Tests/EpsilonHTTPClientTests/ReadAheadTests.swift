import EpsilonHTTPClient
@testable import EpsilonTransport
import Foundation
import Testing

/// The bulk read path (AsyncBridgeHandler reading ahead from the socket into the chunk it hands
/// on): chunks larger than one loop read, never larger than the inbox limit, intact bytes, and
/// back-pressure: a reader that stops holds the sender, with at most the inbox limit (plus one
/// loop read) buffered in the process.
@Suite("Read-ahead and back-pressure on the bulk read path", .timeLimit(.minutes(2)))
struct ReadAheadTests {
    static let total = 64 << 20
    static let inboxLimit = 256 * 1024
    static let loopRead = 64 * 1024

    @Test func transportReadsAheadAndHoldsTheSender() async throws {
        let sender = try BulkSender(total: Self.total, http: false)
        let loop = try IOLoop()
        defer { loop.syncShutdown() }
        let connection = try await AsyncConnection.connect(to: .ipv4("127.0.0.1", port: sender.port), on: loop,
                                                           timeout: .seconds(10), inboxLimit: Self.inboxLimit)
        var received = 0
        var largest = 0
        var intact = true
        guard let first = try await connection.read() else { Issue.record("no bytes"); return }
        received += first.count
        intact = intact && matchesPattern(first, at: 0)

        // The reader stops: the sender is held, and the process buffers at most the limit.
        let held = try await sender.settledCount()
        let buffered = connection.state.fields.withLock { $0.inbox.count }
        #expect(held < Self.total / 4, "the sender got \(held) bytes out while nobody read")
        #expect(buffered <= Self.inboxLimit + Self.loopRead, "\(buffered) bytes buffered for a stopped reader")
        #expect(buffered > 0)

        while received < Self.total, let chunk = try await connection.read() {
            intact = intact && matchesPattern(chunk, at: received)
            received += chunk.count
            largest = max(largest, chunk.count)
            #expect(chunk.count <= Self.inboxLimit + Self.loopRead)
        }
        #expect(received == Self.total)
        #expect(intact)
        // Once the reader resumed, the socket held more than one loop read: chunks were read ahead.
        #expect(largest > Self.loopRead, "largest chunk \(largest) bytes")
        await connection.close()
    }

    @Test func responseBodyHoldsTheServerWhileTheReaderWaits() async throws {
        let sender = try BulkSender(total: Self.total, http: true)
        var configuration = HTTPClientConfiguration()
        configuration.receiveBufferLimit = Self.inboxLimit
        configuration.decompression = false
        let client = HTTPClient(configuration: configuration)
        defer { Task { await client.shutdown() } }
        let response = try await client.get("http://127.0.0.1:\(sender.port)/big")
        #expect(response.status == .ok)
        var iterator = response.body.makeAsyncIterator()
        var received = 0
        var intact = true
        guard let first = try await iterator.next() else { Issue.record("empty body"); return }
        received += first.count
        intact = intact && matchesPattern(first, at: 0)

        let held = try await sender.settledCount()
        #expect(held < Self.total / 4, "the server got \(held) bytes out while the body was not read")

        var largest = 0
        while let chunk = try await iterator.next() {
            intact = intact && matchesPattern(chunk, at: received)
            received += chunk.count
            largest = max(largest, chunk.count)
        }
        #expect(received == Self.total)
        #expect(intact)
        #expect(largest <= Self.inboxLimit + Self.loopRead)
        #expect(client.poolStatistics.idleConnections == 1)
    }

    @Test func collectStopsAtItsLimitOnTheBulkPath() async throws {
        let sender = try BulkSender(total: Self.total, http: true)
        let client = HTTPClient()
        defer { Task { await client.shutdown() } }
        let response = try await client.get("http://127.0.0.1:\(sender.port)/big")
        await #expect(throws: HTTPClientError.bodyTooLarge(limit: 1 << 20)) { _ = try await response.body.collect(upTo: 1 << 20) }
        // The connection was closed rather than drained.
        #expect(client.poolStatistics.openConnections == 0)
        #expect(sender.sent < Self.total)
    }
}
