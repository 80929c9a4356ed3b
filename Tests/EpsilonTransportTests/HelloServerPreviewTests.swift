import EpsilonHTTP1
import EpsilonHTTPServerPreview
import EpsilonTransport
import Testing

/// A complete response as a client saw it.
struct HTTPResponse: Equatable {
    var status: Int
    var body: String
    var keepAlive: Bool
}

/// One parser step over `buffer`, with the body text when the step is a body piece.
func parseOne(_ parser: inout HTTP1Parser, _ buffer: [UInt8]) throws -> (HTTP1Step, String?) {
    var result: Result<(HTTP1Step, String?), HTTP1ParseError> = .success((HTTP1Step(.needMoreData, consumed: 0), nil))
    buffer.withUnsafeBytes { bytes in
        do throws(HTTP1ParseError) {
            let step = try parser.parse(bytes)
            if case .body(let range) = step.event {
                result = .success((step, String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)))
            } else {
                result = .success((step, nil))
            }
        } catch {
            result = .failure(error)
        }
    }
    return try result.get()
}

/// Reads from `client` until `count` responses have been parsed (with EpsilonHTTP1's response
/// parser) or the server closed; returns them.
func readResponses(_ count: Int, from client: AsyncConnection) async throws -> [HTTPResponse] {
    var parser = HTTP1Parser(role: .response)
    var buffer: [UInt8] = []
    var responses: [HTTPResponse] = []
    var current = HTTPResponse(status: 0, body: "", keepAlive: true)
    while responses.count < count {
        var progressed = true
        while progressed && responses.count < count {
            progressed = false
            let step = try parseOne(&parser, buffer)
            switch step.0.event {
            case .needMoreData: break
            case .head(let head):
                current = HTTPResponse(status: head.status, body: "", keepAlive: head.keepAlive)
                if head.status == 100 { parser.expectResponse(to: .ordinary) }
            case .body: current.body += step.1 ?? ""
            case .end:
                if current.status != 100 { responses.append(current) }
            default: break
            }
            if step.0.consumed > 0 || step.0.event != .needMoreData { progressed = true }
            buffer.removeFirst(step.0.consumed)
        }
        if responses.count == count { break }
        guard let more = try await client.read() else { break }
        buffer += more
    }
    return responses
}

extension Transport {
/// The preview HTTP/1.1 server, under the serialized `Transport` parent so that its loops never
/// overlap the descriptor-counting test.
@Suite struct HelloServerPreview {
    let group: IOLoopGroup

    init() throws {
        group = try IOLoopGroup(loopCount: 2)
    }

    private func withServer(readHeaderTimeout: Duration = .seconds(10), readBodyTimeout: Duration = .seconds(30),
                            idleTimeout: Duration = .seconds(60), _ body: (TCPServer) async throws -> Void) async throws {
        let server = try await HelloServer.start(on: group, address: try .ipv4("127.0.0.1", port: 0), body: "hello\n",
                                                 readHeaderTimeout: readHeaderTimeout, readBodyTimeout: readBodyTimeout,
                                                 idleTimeout: idleTimeout)
        do {
            try await body(server)
        } catch {
            await server.shutdown(gracePeriod: .zero)
            await group.shutdown()
            throw error
        }
        await server.shutdown(gracePeriod: .seconds(1))
        await group.shutdown()
    }

    private static func get(_ path: String, close: Bool = false) -> [UInt8] {
        Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\(close ? "Connection: close\r\n" : "")\r\n".utf8)
    }

    @Test func answersManyRequestsOnOneKeepAliveConnection() async throws {
        try await withServer { server in
            let client = try await AsyncConnection.connect(to: server.localAddress, on: group.next())
            for index in 0..<100 {
                try await client.write(Self.get("/\(index)"))
                let responses = try await readResponses(1, from: client)
                #expect(responses == [HTTPResponse(status: 200, body: "hello\n", keepAlive: true)])
            }
            await client.close()
        }
    }

    @Test func answersPipelinedRequestsInOrder() async throws {
        try await withServer { server in
            let client = try await AsyncConnection.connect(to: server.localAddress, on: group.next())
            var batch: [UInt8] = []
            for index in 0..<64 { batch += Self.get("/pipelined/\(index)") }
            // A POST with a body in the middle of the pipeline, split across writes below.
            batch += Array("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde".utf8)
            batch += Self.get("/last")
            // Send in uneven pieces so requests straddle reads.
            var offset = 0
            var size = 1
            while offset < batch.count {
                let end = min(batch.count, offset + size)
                try await client.write(Array(batch[offset..<end]))
                offset = end
                size = size * 3 % 97 + 1
            }
            let responses = try await readResponses(66, from: client)
            #expect(responses.count == 66)
            #expect(responses.allSatisfy { $0 == HTTPResponse(status: 200, body: "hello\n", keepAlive: true) })
            await client.close()
        }
    }

    @Test func closesAfterAResponseToConnectionClose() async throws {
        try await withServer { server in
            let client = try await AsyncConnection.connect(to: server.localAddress, on: group.next())
            try await client.write(Self.get("/", close: true))
            let responses = try await readResponses(1, from: client)
            #expect(responses == [HTTPResponse(status: 200, body: "hello\n", keepAlive: false)])
            #expect(try await client.read() == nil)
            await client.close()
        }
    }

    @Test func answersMalformedRequestsWith400AndCloses() async throws {
        try await withServer { server in
            let client = try await AsyncConnection.connect(to: server.localAddress, on: group.next())
            // Content-Length with Transfer-Encoding: a smuggling shape the strict parser rejects.
            try await client.write(Array("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n".utf8))
            let responses = try await readResponses(1, from: client)
            #expect(responses.map(\.status) == [400])
            #expect(try await client.read() == nil)
            await client.close()
        }
    }

    @Test func holdsAThousandKeepAliveConnections() async throws {
        try await withServer { server in
            var clients: [AsyncConnection] = []
            for _ in 0..<1000 {
                clients.append(try await AsyncConnection.connect(to: server.localAddress, on: group.next()))
            }
            // A connect completes before the server's loop has accepted it: wait for the accepts.
            #expect(await eventually { await server.connectionCount() == 1000 })
            var good = 0
            for client in clients {
                try await client.write(Self.get("/"))
                if try await readResponses(1, from: client) == [HTTPResponse(status: 200, body: "hello\n", keepAlive: true)] {
                    good += 1
                }
            }
            #expect(good == 1000)
            #expect(await server.connectionCount() == 1000)
            for client in clients { await client.close() }
        }
    }

    @Test func answers408WhenAHeadArrivesTooSlowly() async throws {
        try await withServer(readHeaderTimeout: .milliseconds(300)) { server in
            let client = try await AsyncConnection.connect(to: server.localAddress, on: group.next())
            // A complete request first: the timer must not fire for a connection between requests.
            try await client.write(Self.get("/"))
            #expect(try await readResponses(1, from: client).map(\.status) == [200])
            try await Task.sleep(for: .milliseconds(400))
            let start = ContinuousClock.now
            try await client.write(Array("GET /slow HTTP/1.1\r\nHost: x\r\n".utf8))
            let responses = try await readResponses(1, from: client)
            let elapsed = ContinuousClock.now - start
            #expect(responses.map(\.status) == [408])
            #expect(elapsed >= .milliseconds(290) && elapsed < .seconds(3))
            #expect(try await client.read() == nil)
            await client.close()
        }
    }

    @Test func answers408WhenABodyArrivesTooSlowly() async throws {
        try await withServer(readBodyTimeout: .milliseconds(300)) { server in
            let client = try await AsyncConnection.connect(to: server.localAddress, on: group.next())
            let start = ContinuousClock.now
            try await client.write(Array("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc".utf8))
            try await Task.sleep(for: .milliseconds(150))
            try await client.write(Array("de".utf8))
            let responses = try await readResponses(1, from: client)
            let elapsed = ContinuousClock.now - start
            #expect(responses.map(\.status) == [408])
            #expect(elapsed >= .milliseconds(290) && elapsed < .seconds(3))
            #expect(try await client.read() == nil)
            await client.close()
        }
    }

    @Test func closesASilentConnectionAndAnIdleKeepAliveOne() async throws {
        try await withServer(idleTimeout: .milliseconds(300)) { server in
            let silent = try await AsyncConnection.connect(to: server.localAddress, on: group.next())
            let start = ContinuousClock.now
            #expect(try await silent.read() == nil, "closed without a response")
            #expect(ContinuousClock.now - start >= .milliseconds(290))
            await silent.close()

            let kept = try await AsyncConnection.connect(to: server.localAddress, on: group.next())
            // Requests well inside the idle time keep the connection open past it.
            for index in 0..<4 {
                try await kept.write(Self.get("/\(index)"))
                #expect(try await readResponses(1, from: kept).map(\.status) == [200])
                try await Task.sleep(for: .milliseconds(120))
            }
            let idleStart = ContinuousClock.now
            #expect(try await kept.read() == nil)
            let idle = ContinuousClock.now - idleStart
            #expect(idle >= .milliseconds(150) && idle < .seconds(3))
            await kept.close()
        }
    }

    @Test func answersARequestAfterALeadingEmptyLineAtOnce() async throws {
        try await withServer { server in
            let client = try await AsyncConnection.connect(to: server.localAddress, on: group.next())
            let start = ContinuousClock.now
            try await client.write(Array("\r\n".utf8) + Self.get("/"))
            #expect(try await readResponses(1, from: client) == [HTTPResponse(status: 200, body: "hello\n", keepAlive: true)])
            #expect(ContinuousClock.now - start < .seconds(1))
            await client.close()
        }
    }

    @Test func gracefulShutdownFinishesTheRequestInFlight() async throws {
        let server = try await HelloServer.start(on: group, address: try .ipv4("127.0.0.1", port: 0), body: "hello\n")
        let idle = try await AsyncConnection.connect(to: server.localAddress, on: group.next())
        let busy = try await AsyncConnection.connect(to: server.localAddress, on: group.next())
        try await busy.write(Array("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab".utf8))
        #expect(await eventuallyTrue { await server.connectionCount() == 2 })
        let shutdown = Task { await server.shutdown(gracePeriod: .seconds(5)) }
        #expect(try await idle.read() == nil)
        try await Task.sleep(for: .milliseconds(50))
        try await busy.write(Array("cd".utf8))
        let responses = try await readResponses(1, from: busy)
        #expect(responses == [HTTPResponse(status: 200, body: "hello\n", keepAlive: false)])
        #expect(try await busy.read() == nil)
        #expect(await shutdown.value == 0)
        await group.shutdown()
    }
}
}

/// Polls `condition` every 5 ms for up to 5 s.
func eventuallyTrue(_ condition: () async -> Bool) async -> Bool {
    for _ in 0..<1000 {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return await condition()
}
