@testable import EpsilonHTTPServer
import EpsilonHTTPContentCoding
import Foundation
import Synchronization
import Testing

/// Records the order hooks run in (shared by the middleware of one test).
final class HookLog: Sendable {
    private let entries = Mutex<[String]>([])
    func add(_ entry: String) { entries.withLock { $0.append(entry) } }
    var all: [String] { entries.withLock { $0 } }
}

/// Logs its hooks under a name; answers 401 itself when `refuses`.
struct Tracing: HTTPMiddleware {
    let name: String
    let log: HookLog
    var refuses = false

    func receive(_ request: HTTPRequestHeadView, state: inout Void, context: inout HTTPMiddlewareContext) -> HTTPFixedResponse? {
        log.add("\(name).request")
        return refuses ? HTTPFixedResponse(status: 401, fields: [("X-By", name)]) : nil
    }

    func responseHead(_ head: inout HTTPResponseHeadParts, state: inout Void) {
        log.add("\(name).response")
        head.fields.append((name: "X-Trace", value: name))
    }
}

@Suite struct MiddlewareTests {
    static let text = String(repeating: "compressible text, ", count: 300)

    func router(log: HookLog, innerRefuses: Bool = false) throws -> HTTPRouter {
        var router = HTTPRouter()
        let stack = HTTPMiddlewareChain(Tracing(name: "outer", log: log),
                                        Tracing(name: "inner", log: log, refuses: innerRefuses))
        try router.group("/api", middleware: stack) { (group) throws(HTTPRoutePatternError) in
            try group.get("/thing", inline: { _, responder in
                log.add("handler")
                responder.respond(status: 200, text: "thing")
            })
            try group.get("/async", handler: { _, writer in
                log.add("handler")
                try await writer.respond(status: 200, body: Array("async".utf8))
            })
        }
        try router.group("/z", middleware: HTTPCompressionMiddleware(minimumSize: 1024)) { (group) throws(HTTPRoutePatternError) in
            try group.get("/big", inline: { _, responder in responder.respond(status: 200, text: Self.text) })
            try group.get("/small", inline: { _, responder in responder.respond(status: 200, text: "tiny") })
            try group.get("/stream", handler: { _, writer in
                try await writer.writeHead(status: 200, bodyLength: nil)
                for _ in 0..<3 { try await writer.write(Array(Self.text.utf8)) }
                try await writer.end()
            })
        }
        return router
    }

    @Test func requestHooksRunOuterFirstAndResponseHooksInnerFirst() throws {
        let log = HookLog()
        let server = MemoryServer(router: try router(log: log))
        server.send("GET /api/thing HTTP/1.1\r\nHost: x\r\n\r\n")
        let out = server.take()
        #expect(log.all == ["outer.request", "inner.request", "handler", "inner.response", "outer.response"])
        let inner = try #require(out.range(of: "X-Trace: inner"))
        let outer = try #require(out.range(of: "X-Trace: outer"))
        #expect(inner.lowerBound < outer.lowerBound)
    }

    @Test func asyncRoutesRunTheSameStack() async throws {
        let log = HookLog()
        let server = MemoryServer(router: try router(log: log))
        server.send("GET /api/async HTTP/1.1\r\nHost: x\r\n\r\n")
        let out = await server.collect(until: "async")
        #expect(statuses(out) == [200])
        #expect(log.all == ["outer.request", "inner.request", "handler", "inner.response", "outer.response"])
    }

    @Test func aMiddlewareThatAnswersShortCircuitsTheHandler() throws {
        let log = HookLog()
        let server = MemoryServer(router: try router(log: log, innerRefuses: true))
        server.send("GET /api/thing HTTP/1.1\r\nHost: x\r\n\r\n")
        let out = server.take()
        #expect(statuses(out) == [401])
        #expect(out.contains("X-By: inner"))
        #expect(!log.all.contains("handler"))
        #expect(log.all.prefix(2) == ["outer.request", "inner.request"])
    }

    func decoded(_ bytes: [UInt8], _ coding: HTTPContentCoding) throws -> String {
        let decoder = try HTTPContentDecoder(coding: coding, maxOutputBytes: 1 << 20)
        var out: [UInt8] = []
        try bytes.withUnsafeBytes { try decoder.decode($0, into: &out) }
        try decoder.finish()
        return String(decoding: out, as: UTF8.self)
    }

    @Test(arguments: [("gzip", HTTPContentCoding.gzip), ("deflate", .deflate), ("br, deflate;q=0.5, gzip;q=0.1", .deflate)])
    func compressionIsNegotiated(_ accept: String, _ coding: HTTPContentCoding) throws {
        let server = MemoryServer(router: try router(log: HookLog()))
        server.io.receive(Array("GET /z/big HTTP/1.1\r\nHost: x\r\nAccept-Encoding: \(accept)\r\n\r\n".utf8))
        let raw = server.io.takeOutput()
        let out = String(decoding: raw, as: UTF8.self)
        #expect(out.contains("Content-Encoding: \(coding.token)"))
        #expect(out.contains("Vary: Accept-Encoding"))
        let headEnd = try #require(raw.indices.first { raw[$0...].starts(with: [13, 10, 13, 10]) })
        let compressed = MiddlewareTests.dechunk(Array(raw[(headEnd + 4)...]))
        #expect(compressed.count < Self.text.utf8.count / 4)
        #expect(try decoded(compressed, coding) == Self.text)
    }

    /// A chunked body's data.
    static func dechunk(_ rest: [UInt8]) -> [UInt8] {
        var body: [UInt8] = []
        var index = 0
        while index < rest.count {
            guard let lineEnd = (index..<(rest.count - 1)).first(where: { rest[$0] == 13 && rest[$0 + 1] == 10 }),
                  let size = Int(String(decoding: rest[index..<lineEnd], as: UTF8.self), radix: 16), size > 0 else { break }
            body += rest[(lineEnd + 2)..<(lineEnd + 2 + size)]
            index = lineEnd + 2 + size + 2
        }
        return body
    }

    @Test(arguments: ["identity", "gzip;q=0, deflate;q=0", "", "compress"])
    func compressionIsRefusedWhenNotAccepted(_ accept: String) throws {
        let server = MemoryServer(router: try router(log: HookLog()))
        let field = accept.isEmpty ? "" : "Accept-Encoding: \(accept)\r\n"
        server.send("GET /z/big HTTP/1.1\r\nHost: x\r\n\(field)\r\n")
        let out = server.take()
        #expect(!out.contains("Content-Encoding"))
        #expect(out.contains("Content-Length: \(Self.text.utf8.count)"))
        #expect(out.hasSuffix(Self.text))
    }

    @Test func smallBodiesAreNotCompressed() throws {
        let server = MemoryServer(router: try router(log: HookLog()))
        server.send("GET /z/small HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
        let out = server.take()
        #expect(!out.contains("Content-Encoding"))
        #expect(out.hasSuffix("tiny"))
    }

    @Test func streamedBodiesAreCompressedAsTheyGo() async throws {
        let server = MemoryServer(router: try router(log: HookLog()))
        server.send("GET /z/stream HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
        var raw: [UInt8] = []
        await server.pump {
            raw += server.io.takeOutput()
            return raw.suffix(5).elementsEqual(Array("0\r\n\r\n".utf8))
        }
        let headEnd = try #require(raw.indices.first { raw[$0...].starts(with: [13, 10, 13, 10]) })
        #expect(String(decoding: raw[..<headEnd], as: UTF8.self).contains("Content-Encoding: gzip"))
        #expect(try decoded(Self.dechunk(Array(raw[(headEnd + 4)...])), .gzip) == String(repeating: Self.text, count: 3))
    }

    @Test func requestIDIsEchoedOrMade() throws {
        var router = HTTPRouter()
        try router.group("/", middleware: HTTPRequestIDMiddleware()) { (group) throws(HTTPRoutePatternError) in
            try group.get("/id", inline: { _, responder in responder.respond(status: 200, text: "ok") })
        }
        let server = MemoryServer(router: router)
        server.send("GET /id HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc-123\r\n\r\nGET /id HTTP/1.1\r\nHost: x\r\n\r\n")
        let out = server.take()
        #expect(out.contains("X-Request-Id: abc-123\r\n"))
        #expect(out.components(separatedBy: "X-Request-Id: ").count == 3)
    }

    @Test func sizeLimitRefusesLargeDeclaredBodies() throws {
        var router = HTTPRouter()
        try router.group("/", middleware: HTTPRequestSizeLimitMiddleware(maxBytes: 10)) { (group) throws(HTTPRoutePatternError) in
            try group.post("/up", handler: { request, writer in
                let body = try await request.body.collect(upTo: 100)
                try await writer.respond(status: 200, body: body)
            })
        }
        let server = MemoryServer(router: router)
        server.send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n")
        #expect(statuses(server.take()) == [413])
    }

    @Test func corsAnswersPreflightAndDecoratesActualRequests() throws {
        var router = HTTPRouter()
        let policy = HTTPCORSPolicy(allowedOrigins: .list(["https://a.example"]))
        try router.group("/", middleware: HTTPCORSMiddleware(policy: policy)) { (group) throws(HTTPRoutePatternError) in
            try group.get("/data", inline: { _, responder in responder.respond(status: 200, text: "data") })
        }
        let server = MemoryServer(router: router)
        server.send("OPTIONS /data HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example\r\nAccess-Control-Request-Method: GET\r\n\r\n")
        let preflight = server.take()
        #expect(statuses(preflight) == [204])
        #expect(preflight.lowercased().contains("access-control-allow-origin: https://a.example"))
        server.send("GET /data HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example\r\n\r\n")
        let actual = server.take()
        #expect(actual.lowercased().contains("access-control-allow-origin: https://a.example"))
        server.send("GET /data HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n\r\n")
        #expect(!server.take().lowercased().contains("access-control-allow-origin"))
    }
}
