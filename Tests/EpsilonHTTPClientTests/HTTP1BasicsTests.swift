import EpsilonHTTPClient
import Foundation
import HTTPTypes
import Testing

/// GET/POST/PUT against the crafted Python server: sizes, framings, streaming both ways.
@Suite("HTTP/1.1 against Python (crafted_server.py)", .timeLimit(.minutes(3)))
struct HTTP1BasicsTests {
    @Test(arguments: [0, 1, 1 << 20])
    func getsContentLengthBodies(size: Int) async throws {
        let server = try await craftedServer.get()
        let client = HTTPClient()
        defer { Task { await client.shutdown() } }
        let response = try await client.get(server.url("/bytes/\(size)"))
        #expect(response.status == .ok)
        let body = try await response.body.collect(upTo: 2 << 20)
        #expect(body.count == size)
        #expect(matchesPattern(body, at: 0))
    }

    @Test(arguments: [0, 70_000, 1 << 20])
    func getsChunkedBodies(size: Int) async throws {
        let server = try await craftedServer.get()
        let client = HTTPClient()
        defer { Task { await client.shutdown() } }
        let response = try await client.get(server.url("/bytes/\(size)?chunked=1"))
        let body = try await response.body.collect(upTo: 2 << 20)
        #expect(body.count == size)
        #expect(matchesPattern(body, at: 0))
    }

    @Test(arguments: [HTTPRequest.Method.post, .put], [0, 1 << 20])
    func sendsBodiesInMemory(method: HTTPRequest.Method, size: Int) async throws {
        let server = try await craftedServer.get()
        let client = HTTPClient()
        defer { Task { await client.shutdown() } }
        let response = try await client.execute(method, server.url("/sha256"), body: .bytes(patternBytes(size)))
        let report = try await Self.report(response)
        #expect(report.count == size)
        #expect(report.pattern)
        #expect(report.method == method.rawValue)
    }

    // 100 MiB both ways runs against nginx (NginxTests); Python checks 16 MiB here.
    @Test(arguments: [true, false])
    func streamsBothWays(knownLength: Bool) async throws {
        let server = try await craftedServer.get()
        let client = HTTPClient()
        defer { Task { await client.shutdown() } }
        let total = 16 << 20
        let upload = try await client.post(server.url("/sha256"),
                                           body: .stream(PatternChunks(total: total, chunkSize: 256 << 10),
                                                         length: knownLength ? total : nil))
        let report = try await Self.report(upload)
        #expect(report.count == total)
        #expect(report.pattern)

        let download = try await client.get(server.url(knownLength ? "/bytes/\(total)" : "/bytes/\(total)?chunked=1"))
        var received = 0
        var intact = true
        for try await chunk in download.body {
            intact = intact && matchesPattern(chunk, at: received)
            received += chunk.count
        }
        #expect(received == total)
        #expect(intact)
    }

    @Test func postsJSON() async throws {
        struct Item: Codable, Equatable { var name: String; var count: Int }
        let server = try await craftedServer.get()
        let client = HTTPClient()
        defer { Task { await client.shutdown() } }
        let response = try await client.post(server.url("/sha256"), json: Item(name: "ε", count: 3))
        let report = try await Self.report(response)
        let expected = try JSONEncoder().encode(Item(name: "ε", count: 3))
        #expect(report.count == expected.count)
    }

    @Test func sendsHeadersAndHost() async throws {
        let server = try await craftedServer.get()
        let client = HTTPClient()
        defer { Task { await client.shutdown() } }
        let response = try await client.get(server.url("/echo"), headers: ["Authorization": "Bearer abc"])
        let head = String(decoding: try await response.body.collect(upTo: 1 << 16), as: UTF8.self)
        #expect(head.hasPrefix("GET /echo HTTP/1.1\r\n"))
        #expect(head.contains("Host: 127.0.0.1:\(server.port)\r\n"))
        #expect(head.contains("Authorization: Bearer abc\r\n"))
        #expect(head.contains("Accept-Encoding: gzip, deflate"))
    }

    @Test(arguments: ["gzip", "deflate"])
    func decodesContentEncoding(coding: String) async throws {
        let server = try await craftedServer.get()
        let client = HTTPClient()
        defer { Task { await client.shutdown() } }
        let response = try await client.get(server.url("/\(coding)/300000"))
        #expect(response.headerFields[.contentEncoding] == coding)
        let body = try await response.body.collect(upTo: 1 << 20)
        #expect(body.count == 300_000)
        #expect(matchesPattern(body, at: 0))
    }

    @Test func sharedClientNeedsNoShutdown() async throws {
        let server = try await craftedServer.get()
        let body = try await HTTPClient.shared.get(server.url("/bytes/5")).body.collect(upTo: 10)
        #expect(body == patternBytes(5))
    }

    @Test func refusesBadURLs() async throws {
        let client = HTTPClient()
        defer { Task { await client.shutdown() } }
        for (url, expected) in [("ftp://x/", HTTPClientError.unsupportedScheme("ftp")), ("http:///x", .invalidURL("http:///x")),
                                ("http://user@host/", .invalidURL("http://user@host/")), ("nonsense", .invalidURL("nonsense")),
                                ("http://h:99999/", .invalidURL("http://h:99999/"))] {
            await #expect(throws: expected) { _ = try await client.get(url) }
        }
    }

    struct Report: Decodable { var count: Int; var sha256: String; var method: String; var pattern: Bool }

    static func report(_ response: HTTPClientResponse) async throws -> Report {
        try JSONDecoder().decode(Report.self, from: Data(try await response.body.collect(upTo: 1 << 16)))
    }
}
