@testable import EpsilonHTTPServer
import EpsilonHTTPServerLifecycle
import EpsilonTransport
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// The swift-service-lifecycle Service: serves once running, drains on graceful shutdown.
extension SocketSuites {
@Suite struct HTTPServerServiceTests {
    @Test func servesUntilGracefulShutdownThenDrains() async throws {
        let group = try IOLoopGroup(loopCount: 1)
        let port = Mutex<UInt16?>(nil)
        let service = HTTPServerService(group: group, address: try .ipv4("127.0.0.1", port: 0),
                                        router: HTTPServerDemoRoutes.router(), gracePeriod: .seconds(2)) { address in
            port.withLock { $0 = address.port }
        }
        let runner = ServiceGroup(services: [service], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await runner.run() }
            let deadline = ContinuousClock.now + .seconds(5)
            while port.withLock({ $0 }) == nil && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            let bound = try #require(port.withLock { $0 })
            let inFlight = try RawSocketClient(port: bound)
            try inFlight.send("GET /delay/200 HTTP/1.1\r\nHost: x\r\n\r\n")
            try await Task.sleep(for: .milliseconds(50))
            await runner.triggerGracefulShutdown()
            let answer = await inFlight.read(until: "done", timeout: .seconds(3))
            #expect(answer.hasPrefix("HTTP/1.1 200 OK") && answer.contains("Connection: close"))
            try await tasks.waitForAll()
            #expect(throws: RawSocketError.self) { try RawSocketClient(port: bound) }
        }
        await group.shutdown()
    }
}
}
