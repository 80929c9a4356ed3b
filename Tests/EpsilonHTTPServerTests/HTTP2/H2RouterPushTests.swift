import EpsilonHPACK
import EpsilonHTTP2
@testable import EpsilonHTTPServer
import Synchronization
import Testing

/// Server push from an inline route of the real router (`HTTPInlineResponder.push`).
@Suite struct H2RouterPushTests {
    /// What the route's push calls answered.
    final class PushLog: Sendable {
        let entries = Mutex<[String]>([])
    }

    static func router(results: PushLog) throws -> HTTPRouter {
        var router = HTTPRouter()
        try router.get("/style.css", fixed: HTTPFixedResponse(status: 200, contentType: "text/css", body: "body{}"))
        try router.get("/page", inline: { _, responder in
            do throws(HTTP2ServerPushError) {
                try responder.push(path: "/style.css")
                results.entries.withLock { $0.append("pushed") }
            } catch {
                results.entries.withLock { $0.append("\(error)") }
            }
            responder.respond(status: 200, fields: [("Content-Type", "text/html")], text: "<link href=/style.css>")
        })
        return router
    }

    static func serve(enablePush: Bool) throws -> (H2MemoryHarness, [String]) {
        let results = PushLog()
        var client = HTTP2Configuration()
        client.enablePush = enablePush
        let harness = H2MemoryHarness(client: client)
        let context = HTTPServerLoopContext(configuration: HTTPServerConfiguration(),
                                           dispatcher: HTTPRouterDispatcher(router: try router(results: results)))
        harness.session = HTTP2ServerSession(io: harness.io, context: context)
        harness.io.open(harness.session)
        harness.request(path: "/page")
        harness.run()
        return (harness, results.entries.withLock { $0 })
    }

    @Test func inlineRoutePushesWhenThePeerAllowsIt() throws {
        let (harness, results) = try Self.serve(enablePush: true)
        #expect(results == ["pushed"])
        #expect(harness.response(2).body == Array("body{}".utf8))
        #expect(H2MemoryHarness.value("content-type", in: harness.response(2).head) == "text/css")
        #expect(harness.response(1).body == Array("<link href=/style.css>".utf8))
    }

    @Test func inlineRoutePushIsRefusedWhenThePeerDisabledIt() throws {
        let (harness, results) = try Self.serve(enablePush: false)
        #expect(results == ["disabledByPeer"])
        #expect(harness.response(1).body == Array("<link href=/style.css>".utf8))
    }
}
