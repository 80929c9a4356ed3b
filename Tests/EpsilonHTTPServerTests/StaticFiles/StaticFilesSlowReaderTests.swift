@testable import EpsilonHTTPServer
import EpsilonTransport
import Foundation
import Testing

extension SocketSuites {
/// A static file sent as one sendfile region over a real socket: the transport reports each
/// partial send, so a client reading slowly (but reading) outlives the idle timeout, while one
/// that stops reading is cut at it.
@Suite struct StaticFilesSlowReaderTests {
    static let idleTimeout: Duration = .seconds(2)

    /// A server for a folder holding `big.bin` (4 MiB) with a short idle timeout and a small
    /// socket send buffer.
    func withServer(_ body: (UInt16) async throws -> Void) async throws {
        let root = NSTemporaryDirectory() + "epsilon-slow-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Data(repeating: 0x5A, count: 4 << 20).write(to: URL(fileURLWithPath: root + "/big.bin"))
        var router = HTTPRouter()
        try router.staticFiles("/files", HTTPStaticFiles(root: root))
        var configuration = HTTPServerConfiguration()
        configuration.idleTimeout = Self.idleTimeout
        var options = ListenerOptions()
        options.connection.sendBufferSize = 2048
        let group = try IOLoopGroup(loopCount: 1, backend: .epollLevelTriggered)
        let server = try await HTTPServer.start(on: group, address: .ipv4("127.0.0.1", port: 0), router: router,
                                                configuration: configuration, options: options)
        do {
            try await body(try #require(server.localAddress.port))
        } catch {
            await server.shutdown(gracePeriod: .zero)
            await group.shutdown()
            throw error
        }
        await server.shutdown(gracePeriod: .zero)
        await group.shutdown()
    }

    /// Reads about 4 KiB/s (512 bytes every 125 ms) for `duration`; the bytes, and whether the
    /// server closed meanwhile.
    func readSlowly(_ client: RawSocketClient, for duration: Duration) async throws -> (count: Int, closed: Bool) {
        var count = 0
        let end = ContinuousClock.now + duration
        while ContinuousClock.now < end {
            guard let bytes = client.readNow(limit: 512) else { return (count, true) }
            count += bytes.count
            try await Task.sleep(for: .milliseconds(125))
        }
        return (count, false)
    }

    @Test func slowReaderOutlivesTheIdleTimeoutThenAStoppedOneIsCut() async throws {
        try await withServer { port in
            // Small buffers on both sides: the kernel moves the body a few KiB at a time, so the
            // server's sends follow the reader's pace (measured here: one at least every 0.6 s).
            let client = try RawSocketClient(port: port, receiveBufferSize: 2048)
            try client.send("GET /files/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            // Three idle timeouts of slow but steady reading: the connection stays.
            let slow = try await readSlowly(client, for: Self.idleTimeout * 3)
            #expect(!slow.closed)
            #expect(slow.count > 8 * 1024)
            // Then nothing is read: cut at the idle timeout (well before the body's end).
            try await Task.sleep(for: Self.idleTimeout * 2)
            let rest = await client.read(timeout: .seconds(10))
            #expect(rest.closed)
            #expect(slow.count + rest.bytes.count < 4 << 20)
        }
    }
}
}
