@testable import EpsilonHTTPServer

/// One HTTP/1.1 session on an in-memory socket, with a router: bytes in, bytes out, the
/// clock and async handlers' returns to the loop driven by the test.
final class MemoryServer {
    let io: HTTPServerMemoryIO
    let context: HTTPServerLoopContext
    let session: HTTP1ServerSession

    init(router: HTTPRouter, configuration: HTTPServerConfiguration = HTTPServerConfiguration(), highWatermark: Int = 64 * 1024) {
        io = HTTPServerMemoryIO(writeHighWatermark: highWatermark)
        context = HTTPServerLoopContext(configuration: configuration, dispatcher: HTTPRouterDispatcher(router: router))
        session = HTTP1ServerSession(io: io, context: context)
        io.open(session)
    }

    deinit { io.tearDown() }

    func send(_ text: String) { io.receive(Array(text.utf8)) }
    func send(_ bytes: [UInt8]) { io.receive(bytes) }

    /// The output so far as text (taken: the next call sees only newer output).
    func take() -> String { String(decoding: io.takeOutput(), as: UTF8.self) }

    /// Runs loop tasks (async handlers coming back) until `condition` holds or 5 s pass.
    /// Sleeps asynchronously between rounds, so handler tasks get the cooperative threads.
    @discardableResult
    func pump(until condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            io.runTasks()
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(1))
        }
        io.runTasks()
        return condition()
    }

    /// Collects output until it holds `count` occurrences of `marker` (or 5 s pass).
    func collect(until marker: String, count: Int = 1) async -> String {
        var all = ""
        await pump {
            all += take()
            return all.components(separatedBy: marker).count - 1 >= count
        }
        return all
    }
}

/// The status codes of the responses in `text`, in order.
func statuses(_ text: String) -> [Int] {
    text.components(separatedBy: "HTTP/1.1 ").dropFirst().compactMap { Int($0.prefix(3)) }
}

/// The routes most session tests use.
func testRouter() throws -> HTTPRouter {
    var router = HTTPRouter()
    try router.get("/hello", fixed: HTTPFixedResponse(status: 200, contentType: "text/plain", body: "Hello, World!"))
    try router.get("/users/:id", inline: { request, responder in
        responder.respond(status: 200, text: "user " + (request.parameterString("id") ?? "?"))
    })
    try router.post("/echo") { request, writer in
        try await writer.writeHead(status: 200, bodyLength: nil)
        for try await piece in request.body { try await writer.write(piece) }
        try await writer.end()
    }
    try router.post("/count") { request, writer in
        var total = 0
        for try await piece in request.body { total += piece.count }
        try await writer.respond(status: 200, body: Array("\(total)".utf8))
    }
    try router.get("/slow") { _, writer in
        try await Task.sleep(for: .milliseconds(30))
        try await writer.respond(status: 200, body: Array("slow".utf8))
    }
    try router.get("/throw") { _, _ in
        struct Secret: Error {}
        throw Secret()
    }
    return router
}
