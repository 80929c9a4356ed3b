@testable import EpsilonHTTPServer
import EpsilonTransport
import Foundation
import Testing

/// The server over real sockets on 127.0.0.1: keep-alive, cancellation of a handler whose
/// client leaves mid-body, back-pressure and memory bounds, descriptors, graceful shutdown.
/// Serialized with the other socket suites: the memory and descriptor measurements are of
/// this whole process.
extension SocketSuites {
@Suite struct HTTPServerSocketTests {
    /// A server on a free port with the demo routes plus `extra`; stopped after `body`.
    func withServer(configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
                    extra: (inout HTTPRouter) throws -> Void = { _ in },
                    _ body: (HTTPServer, UInt16) async throws -> Void) async throws {
        var router = HTTPServerDemoRoutes.router()
        try extra(&router)
        let group = try IOLoopGroup(loopCount: 1)
        let server = try await HTTPServer.start(on: group, address: .ipv4("127.0.0.1", port: 0), router: router,
                                                configuration: configuration)
        do {
            try await body(server, try #require(server.localAddress.port))
        } catch {
            await server.shutdown(gracePeriod: .zero)
            await group.shutdown()
            throw error
        }
        await server.shutdown(gracePeriod: .seconds(1))
        await group.shutdown()
    }

    @Test func keepAliveServesSeveralRequestsOnOneConnection() async throws {
        try await withServer { _, port in
            let client = try RawSocketClient(port: port)
            for _ in 0..<3 {
                try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(await client.read(until: "Hello, World!").hasPrefix("HTTP/1.1 200 OK"))
            }
            let body = [UInt8](repeating: 0x61, count: 1 << 20)
            try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\n\r\n")
            // Send and read at once: the echo streams back while the body streams in, and a
            // client that only sends would stall once both directions' buffers are full.
            var sent = 0
            var received: [UInt8] = []
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline && !(received.count > body.count && received.suffix(16).allSatisfy { $0 == 0x61 }) {
                if sent < body.count { sent += client.sendWithoutBlocking(Array(body[sent..<min(body.count, sent + 65536)])) }
                received += await client.read(timeout: .milliseconds(5)).bytes
            }
            let text = String(decoding: received.prefix(200), as: UTF8.self)
            #expect(text.contains("Content-Length: \(body.count)"))
            #expect(received.count > body.count && received.suffix(body.count).allSatisfy { $0 == 0x61 })
        }
    }

    @Test func handlerSeesCancellationWhenClientLeavesMidBody() async throws {
        let observed = Progress()
        try await withServer(extra: { router in
            try router.post("/observe") { request, writer in
                do {
                    for try await _ in request.body {}
                    try await writer.respond(status: 200, body: [])
                } catch let error as HTTPServerHandlerError where error.reason == .cancelled {
                    observed.set(1)
                    throw error
                }
            }
        }) { _, port in
            let client = try RawSocketClient(port: port)
            try client.send("POST /observe HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
            try client.send([UInt8](repeating: 1, count: 1000))
            try await Task.sleep(for: .milliseconds(50))
            client.reset()
            let deadline = ContinuousClock.now + .seconds(5)
            while observed.value == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(observed.value == 1)
        }
    }

    @Test func handlerThatStopsReadingBoundsMemoryWhileTheClientPushesAGibibyte() async throws {
        try await withServer { _, port in
            let client = try RawSocketClient(port: port)
            try client.send("POST /stall HTTP/1.1\r\nHost: x\r\nContent-Length: \(1 << 30)\r\n\r\n")
            let before = ProcessMetrics.residentBytes()
            let chunk = [UInt8](repeating: 2, count: 256 * 1024)
            var pushed = 0
            let deadline = ContinuousClock.now + .seconds(3)
            while pushed < 1 << 30 && ContinuousClock.now < deadline {
                let sent = client.sendWithoutBlocking(chunk)
                pushed += sent
                if sent == 0 { try await Task.sleep(for: .milliseconds(5)) }
            }
            let growth = ProcessMetrics.residentBytes() - before
            print("back-pressure: client pushed \(pushed >> 10) KiB of 1 GiB in 3 s, server RSS grew \(growth >> 10) KiB")
            // The peer is stopped by TCP: the kernel buffers a few MB, the server ~64 KiB.
            #expect(pushed < 64 << 20)
            #expect(growth < 64 << 20)
        }
    }

    @Test func clientPipeliningWithoutReadingBoundsMemory() async throws {
        try await withServer { _, port in
            let client = try RawSocketClient(port: port)
            let batch = Array(String(repeating: "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", count: 1000).utf8)
            let before = ProcessMetrics.residentBytes()
            var pushed = 0
            let deadline = ContinuousClock.now + .seconds(3)
            while pushed < 200 << 20 && ContinuousClock.now < deadline {
                let sent = client.sendWithoutBlocking(batch)
                pushed += sent
                if sent < batch.count { try await Task.sleep(for: .milliseconds(5)) }
            }
            let growth = ProcessMetrics.residentBytes() - before
            print("pipelining without reading: client pushed \(pushed >> 10) KiB of requests in 3 s, server RSS grew \(growth >> 10) KiB")
            #expect(growth < 64 << 20)
            #expect(pushed < 200 << 20)
        }
    }

    @Test func slowLorisConnectionsAreCutAtTheHeadTimeoutWhileOthersAreServed() async throws {
        var configuration = HTTPServerConfiguration()
        configuration.headTimeout = .milliseconds(400)
        try await withServer(configuration: configuration) { _, port in
            let head = Array("GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa\r\n\r\n".utf8)
            var loris: [RawSocketClient] = []
            for _ in 0..<100 { loris.append(try RawSocketClient(port: port)) }
            let started = ContinuousClock.now
            var served = 0
            var step = 0
            // One byte per connection every 50 ms: never a whole head before the timeout.
            while ContinuousClock.now - started < .milliseconds(1200) {
                for client in loris { _ = client.sendWithoutBlocking([head[step % head.count]]) }
                step += 1
                let normal = try RawSocketClient(port: port)
                try normal.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                if await normal.read(until: "Hello, World!", timeout: .seconds(1)).hasSuffix("Hello, World!") { served += 1 }
                try await Task.sleep(for: .milliseconds(50))
            }
            var cut = 0
            for client in loris {
                let answer = await client.read(timeout: .milliseconds(200))
                if answer.closed && String(decoding: answer.bytes, as: UTF8.self).hasPrefix("HTTP/1.1 408") { cut += 1 }
            }
            #expect(cut == loris.count)
            #expect(served >= 5)
        }
    }

    @Test func descriptorsReturnToTheirStartingCount() async throws {
        let start = ProcessMetrics.openDescriptors()
        try await withServer { _, port in
            for request in ["GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", "BAD\r\n\r\n", "GET /hello HTTP/1.1\r\n",
                            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab"] {
                let client = try RawSocketClient(port: port)
                try client.send(request)
                _ = await client.read(timeout: .milliseconds(100))
                client.reset()
            }
        }
        let deadline = ContinuousClock.now + .seconds(2)
        while ProcessMetrics.openDescriptors() != start && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(ProcessMetrics.openDescriptors() == start)
    }

    @Test func gracefulShutdownFinishesInFlightRequestsAndRefusesNewOnes() async throws {
        let group = try IOLoopGroup(loopCount: 1)
        let server = try await HTTPServer.start(on: group, address: .ipv4("127.0.0.1", port: 0), router: HTTPServerDemoRoutes.router())
        let port = try #require(server.localAddress.port)
        var clients: [RawSocketClient] = []
        for _ in 0..<10 {
            let client = try RawSocketClient(port: port)
            try client.send("GET /delay/300 HTTP/1.1\r\nHost: x\r\n\r\n")
            clients.append(client)
        }
        let idle = try RawSocketClient(port: port)
        try idle.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = await idle.read(until: "Hello, World!")
        try await Task.sleep(for: .milliseconds(50))
        async let forced = server.shutdown(gracePeriod: .seconds(5))
        try await Task.sleep(for: .milliseconds(50))
        #expect(throws: RawSocketError.self) { try RawSocketClient(port: port) }
        #expect(await idle.read(timeout: .seconds(2)).closed)
        for client in clients {
            let answer = await client.read(timeout: .seconds(3)) { _ in false }
            let text = String(decoding: answer.bytes, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200 OK") && text.hasSuffix("done") && text.contains("Connection: close"))
            #expect(answer.closed)
        }
        #expect(await forced == 0)
        await group.shutdown()
    }
}
}
