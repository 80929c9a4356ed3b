import EpsilonTransport
@testable import EpsilonHTTPServer
import Synchronization
import Testing

/// Nested in ``SocketSuites``: socket suites run one at a time (process-wide figures).
extension SocketSuites {
    /// `HTTPServerConnectionHandler` holds its connection strongly (a weak reference costs every
    /// connection a side table) and the connection owns the handler: the close must cut that
    /// cycle, however it comes (the client closes, the server closes, the client resets with a
    /// request outstanding). Weak probes see both freed.
    @Suite struct HTTPServerConnectionHandlerReleaseTests {
        enum Ending: String, CaseIterable, CustomStringConvertible {
            /// A keep-alive exchange, then the client closes.
            case clientCloses
            /// `Connection: close`: the server closes after its response.
            case serverCloses
            /// A request the handler never answers (`/stall`), then an RST from the client.
            case clientResetsMidRequest
            var description: String { rawValue }
        }

        @Test(arguments: Ending.allCases)
        func closedConnectionAndItsHandlerAreFreed(ending: Ending) async throws {
            let probe = ReleaseProbe()
            let group = try IOLoopGroup(loopCount: 1)
            let loop = group.loops[0]
            let dispatcher = H2TestDispatcher()
            let settings = HTTPServerConfiguration()
            let context = try await loop.submit { LoopBound(HTTPServerLoopContext(configuration: settings, dispatcher: dispatcher), loop: loop) }
            let options = ListenerOptions()
            let highWatermark = options.connection.watermarks.high
            let listener = try await TCPServer.start(on: group, address: .ipv4("127.0.0.1", port: 0), options: options) {
                let context = context.value
                let handler = HTTPServerConnectionHandler(writeHighWatermark: highWatermark) { io in
                    HTTPServerSessions.makeInitial(io: io, context: context)
                }
                probe.add(handler)
                return handler
            }
            let port = try #require(listener.localAddress.port)
            do {
                let client = try RawSocketClient(port: port)
                // The connection is open and its handler holds it (recorded weakly, on the loop).
                var held = 0
                for _ in 0..<500 where held == 0 {
                    held = try await loop.submit { probe.recordConnections() }
                    if held == 0 { try await Task.sleep(for: .milliseconds(10)) }
                }
                #expect(held == 1)
                switch ending {
                case .clientCloses, .serverCloses:
                    let close = ending == .serverCloses ? "Connection: close\r\n" : ""
                    try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\(close)\r\n")
                    #expect(await client.read(until: "Hello, World!").hasSuffix("Hello, World!"))
                case .clientResetsMidRequest:
                    try client.send("POST /stall HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
                    #expect(await Self.wait(until: "/stall", isSeenBy: dispatcher))
                }
                if ending == .serverCloses {
                    #expect(await client.read(timeout: .seconds(10)).closed)
                } else if ending == .clientResetsMidRequest {
                    client.reset()
                }
            }   // the client socket closes here
            #expect(await probe.waitUntilReleased(timeout: .seconds(10)), "still alive: \(probe.alive)")
            #expect(probe.count == 1)
            _ = await listener.shutdown(gracePeriod: .seconds(1))
            await group.shutdown()
        }

        /// Waits (bounded) until the dispatcher has seen `path`.
        static func wait(until path: String, isSeenBy dispatcher: H2TestDispatcher) async -> Bool {
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                if dispatcher.record.withLock({ $0.paths.contains(path) }) { return true }
                try? await Task.sleep(for: .milliseconds(10))
            }
            return false
        }
    }
}

/// Weak references to the handlers a listener made and to their connections.
private final class ReleaseProbe: Sendable {
    private struct Entry: @unchecked Sendable {
        // @unchecked: the loop thread writes these; other threads only test them for nil, and a
        // weak reference's load is atomic.
        weak var handler: HTTPServerConnectionHandler?
        weak var connection: Connection?
    }

    private let entries = Mutex<[Entry]>([])

    func add(_ handler: HTTPServerConnectionHandler) {
        entries.withLock { $0.append(Entry(handler: handler)) }
    }

    /// On the loop: records each live handler's connection; returns how many it found.
    func recordConnections() -> Int {
        entries.withLock { entries in
            for index in entries.indices { entries[index].connection = entries[index].handler?.connection }
            return entries.count { $0.connection != nil }
        }
    }

    var count: Int { entries.withLock { $0.count } }

    /// What is still alive, for the failure message.
    var alive: String {
        entries.withLock { entries in
            entries.map { "handler \($0.handler != nil), connection \($0.connection != nil)" }.joined(separator: "; ")
        }
    }

    /// Waits (sleeping, bounded) until every handler and connection is freed.
    func waitUntilReleased(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if entries.withLock({ $0.allSatisfy { $0.handler == nil && $0.connection == nil } }) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}
