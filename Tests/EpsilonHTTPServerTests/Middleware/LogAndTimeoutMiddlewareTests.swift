@testable import EpsilonHTTPServer
import Logging
import Synchronization
import Testing

/// A swift-log handler that keeps the messages it is given.
struct CapturingLogHandler: LogHandler {
    let messages: HookLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        messages.add("\(event.level) \(event.message)")
    }
}

@Suite struct LogAndTimeoutMiddlewareTests {
    @Test func accessLogWritesOneLinePerRequest() async throws {
        let lines = HookLog()
        let logger = Logger(label: "access") { _ in CapturingLogHandler(messages: lines) }
        var router = HTTPRouter()
        try router.group("/", middleware: HTTPAccessLogMiddleware(logger: logger)) { (group) throws(HTTPRoutePatternError) in
            try group.get("/a", inline: { _, responder in responder.respond(status: 200, text: "abc") })
            try group.get("/b", handler: { _, writer in try await writer.respond(status: 201, body: [1, 2]) })
        }
        let server = MemoryServer(router: router)
        server.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = await server.collect(until: "HTTP/1.1 ", count: 3)
        #expect(await server.pump { lines.all.count == 3 })
        let all = lines.all
        #expect(all.count == 3)
        #expect(all.first?.hasPrefix("info GET /a 200 3B ") == true)
        #expect(all.dropFirst().first?.hasPrefix("info GET /b 201 2B ") == true)
    }

    @Test func requestTimeoutCancelsASlowAsyncHandlerWith503() async throws {
        let cancelled = Progress()
        var router = HTTPRouter()
        try router.group("/", middleware: HTTPRequestTimeoutMiddleware(timeout: .milliseconds(50))) { (group) throws(HTTPRoutePatternError) in
            try group.get("/slow", handler: { _, writer in
                do {
                    try await Task.sleep(for: .seconds(10))
                } catch {
                    cancelled.set(1)
                    throw error
                }
                try await writer.respond(status: 200, body: [])
            })
        }
        let server = MemoryServer(router: router)
        server.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        let out = await server.collect(until: "\r\n\r\n")
        #expect(statuses(out) == [503])
        #expect(await server.pump { cancelled.value == 1 })
    }
}
