@testable import EpsilonHTTPServer
import Testing

/// Limits, malformed input and timers of the HTTP/1.1 session, in memory (time is a value).
@Suite struct HTTP1SessionLimitsTests {
    static let second: UInt64 = 1_000_000_000

    @Test func oversizedHeadGets431AndCloses() throws {
        let server = MemoryServer(router: try testRouter())
        server.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 17 * 1024) + "\r\n\r\n")
        let out = server.take()
        #expect(statuses(out) == [431])
        #expect(out.contains("Date: ") && out.contains("Server: epsilon") && out.contains("Connection: close"))
        #expect(server.io.isClosed)
    }

    @Test func tooManyFieldsGets431() throws {
        let server = MemoryServer(router: try testRouter())
        var head = "GET /hello HTTP/1.1\r\nHost: x\r\n"
        for index in 0..<101 { head += "X-\(index): y\r\n" }
        server.send(head + "\r\n")
        #expect(statuses(server.take()) == [431])
        #expect(server.io.isClosed)
    }

    @Test func declaredBodyOverTheLimitGets413() throws {
        var configuration = HTTPServerConfiguration()
        configuration.maxBodyBytes = 1000
        let server = MemoryServer(router: try testRouter(), configuration: configuration)
        server.send("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n")
        #expect(statuses(server.take()) == [413])
        #expect(server.io.isClosed)
    }

    @Test(arguments: [
        "GET /hello HTTP/1.1\r\n\r\n",                                       // no Host
        "GET /hello HTTP/1.1x\r\nHost: x\r\n\r\n",                           // version syntax
        "GET hello HTTP/1.1\r\nHost: x\r\n\r\n",                             // no leading slash
        "GET /hello HTTP/1.1\r\nHost: a b\r\n\r\n",                          // Host with a space
        "GET /hello HTTP/1.1\r\nHost: x:80x\r\n\r\n",                        // Host with a bad port
        "GET  /hello HTTP/1.1\r\nHost: x\r\n\r\n",                           // two spaces
        "GET /hello HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n",             // space in a name
        "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "GET /hello HTTP/1.1\nHost: x\n\n",                                  // bare LF
        "G\u{1}T /hello HTTP/1.1\r\nHost: x\r\n\r\n",
    ])
    func malformedRequestGets400AndCloses(_ request: String) throws {
        let server = MemoryServer(router: try testRouter())
        server.send(request)
        let out = server.take()
        #expect(statuses(out) == [400])
        #expect(out.contains("Connection: close"))
        #expect(server.io.isClosed)
    }

    @Test(arguments: [
        ("GET /hello HTTP/2.0\r\nHost: x\r\n\r\n", 505),                   // RFC 9110 §15.6.6
        ("GET /hello HTTP/1.2\r\nHost: x\r\n\r\n", 505),
        ("POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo, chunked\r\n\r\n0\r\n\r\n", 501),  // RFC 9112 §6.1
    ])
    func unsupportedVersionOrCodingIsRefusedAndCloses(_ request: String, status: Int) throws {
        let server = MemoryServer(router: try testRouter())
        server.send(request)
        let out = server.take()
        #expect(statuses(out) == [status])
        #expect(out.contains("Connection: close"))
        #expect(server.io.isClosed)
    }

    @Test(arguments: ["localhost", "localhost:8080", "127.0.0.1:1", "[::1]:443", "xn--bcher-kva.example", ""])
    func validHostValuesAreServed(_ host: String) throws {
        let server = MemoryServer(router: try testRouter())
        server.send("GET /hello HTTP/1.1\r\nHost: \(host)\r\n\r\n")
        #expect(statuses(server.take()) == [200])
        #expect(!server.io.isClosed)
    }

    @Test func slowHeadGets408AtTheHeadTimeout() throws {
        let server = MemoryServer(router: try testRouter())
        server.send("GET /hello HTTP/1.1\r\nHo")
        server.io.advance(to: server.io.now + 9 * Self.second)
        #expect(!server.io.isClosed)
        server.io.advance(to: server.io.now + 2 * Self.second)
        #expect(statuses(server.take()) == [408])
        #expect(server.io.isClosed)
    }

    @Test func slowBodyGets408AtTheBodyTimeout() async throws {
        let server = MemoryServer(router: try testRouter())
        server.send("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        server.io.advance(to: server.io.now + 29 * Self.second)
        #expect(!server.io.isClosed)
        server.io.advance(to: server.io.now + 2 * Self.second)
        await server.pump { server.io.isClosed }
        #expect(statuses(server.take()) == [408])
        #expect(server.io.isClosed)
    }

    @Test func silentConnectionIsClosedWithoutAnswer() throws {
        let server = MemoryServer(router: try testRouter())
        server.io.advance(to: server.io.now + 29 * Self.second)
        #expect(!server.io.isClosed)
        server.io.advance(to: server.io.now + 2 * Self.second)
        #expect(server.io.isClosed)
        #expect(server.take().isEmpty)
    }

    @Test func idleKeepAliveConnectionClosesAtTheIdleTimeout() throws {
        let server = MemoryServer(router: try testRouter())
        server.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(statuses(server.take()) == [200])
        server.io.advance(to: server.io.now + 59 * Self.second)
        #expect(!server.io.isClosed)
        server.io.advance(to: server.io.now + 2 * Self.second)
        #expect(server.io.isClosed)
        #expect(server.take().isEmpty)
    }

    @Test func drainClosesAnIdleConnectionAndFinishesABusyOne() async throws {
        let idle = MemoryServer(router: try testRouter())
        idle.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        idle.io.drain()
        #expect(idle.io.isClosed)

        let busy = MemoryServer(router: try testRouter())
        busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        busy.io.drain()
        #expect(!busy.io.isClosed)
        #expect(await busy.pump { busy.io.isClosed })
        let out = busy.take()
        #expect(statuses(out) == [200])
        #expect(out.contains("Connection: close"))
    }

    @Test func handlerThatStopsReadingStopsTheConnection() async throws {
        let state = BodyGate()
        var router = try testRouter()
        try router.post("/gate") { request, writer in
            var iterator = request.body.makeAsyncIterator()
            var total = 0
            while let piece = try await iterator.next() {
                total += piece.count
                if total >= 200_000 { break }
                await state.waitUntilOpen()
            }
            try await writer.respond(status: 200, body: Array("\(total)".utf8))
        }
        let gated = MemoryServer(router: router)
        gated.send("POST /gate HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n")
        // The handler holds after its first piece: 100 KiB more arrive, reading pauses.
        for _ in 0..<10 { gated.send([UInt8](repeating: 7, count: 10 * 1024)) }
        #expect(await gated.pump { gated.io.isReadingPaused })
        state.open()
        #expect(await gated.pump { !gated.io.isReadingPaused })
    }

    @Test func writerWaitsWhileTheSocketIsFull() async throws {
        var router = try testRouter()
        let progress = Progress()
        try router.get("/stream") { _, writer in
            try await writer.writeHead(status: 200, bodyLength: nil)
            for step in 1...3 {
                try await writer.write([UInt8](repeating: 1, count: 1000))
                progress.set(step)
            }
            try await writer.end()
        }
        let server = MemoryServer(router: router)
        server.io.simulatedPendingBytes = 1 << 20
        server.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await server.pump { server.take().contains("200 OK") })
        // The first piece is taken but the writer is held: the socket never reported room.
        let deadline = ContinuousClock.now + .milliseconds(50)
        while ContinuousClock.now < deadline {
            server.io.runTasks()
            try? await Task.sleep(for: .milliseconds(1))
        }
        #expect(progress.value == 0)
        server.io.drainWrites()
        #expect(await server.pump { server.take().hasSuffix("0\r\n\r\n") })
        #expect(progress.value == 3)
    }
}

/// A client that asks for a streamed response and never reads it is cut at the idle timeout.
@Suite struct HTTP1SessionStallTests {
    @Test func writerStalledByANonReadingClientIsCutAtTheIdleTimeout() async throws {
        var router = try testRouter()
        let cancelled = Progress()
        try router.get("/forever") { _, writer in
            try await writer.writeHead(status: 200, bodyLength: nil)
            do {
                while true { try await writer.write([UInt8](repeating: 1, count: 1000)) }
            } catch {
                cancelled.set(1)
                throw error
            }
        }
        let server = MemoryServer(router: router)
        server.io.simulatedPendingBytes = 1 << 20
        server.send("GET /forever HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await server.pump { server.take().contains("200 OK") || server.session.writerStalled })
        #expect(await server.pump { server.session.writerStalled })
        server.io.advance(to: server.io.now + 59 * 1_000_000_000)
        #expect(!server.io.isClosed)
        server.io.advance(to: server.io.now + 2 * 1_000_000_000)
        #expect(server.io.isClosed)
        #expect(await server.pump { cancelled.value == 1 })
    }
}
