@testable import EpsilonHTTPServer
import Foundation
import Testing

/// The HTTP/1.1 session with the router, in memory: statuses, fields, HEAD, OPTIONS *,
/// pipelining order, error answers.
@Suite struct HTTP1SessionRoutingTests {
    @Test func fixedResponseCarriesDateServerAndLength() throws {
        let server = MemoryServer(router: try testRouter())
        server.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let out = server.take()
        #expect(out.hasPrefix("HTTP/1.1 200 OK\r\nDate: "))
        #expect(out.contains("\r\nServer: epsilon\r\n"))
        #expect(out.contains("\r\nContent-Length: 13\r\n"))
        #expect(out.hasSuffix("\r\n\r\nHello, World!"))
        let date = out.components(separatedBy: "Date: ")[1].components(separatedBy: "\r\n")[0]
        #expect(date.count == 29 && date.hasSuffix(" GMT"))
    }

    @Test func unknownPathIs404AndOtherMethodIs405WithAllow() throws {
        let server = MemoryServer(router: try testRouter())
        server.send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\nDELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let out = server.take()
        #expect(statuses(out) == [404, 405])
        #expect(out.contains("\r\nAllow: GET, HEAD\r\n"))
    }

    @Test func headIsAnsweredFromGetWithoutBody() throws {
        let server = MemoryServer(router: try testRouter())
        server.send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let out = server.take()
        #expect(statuses(out) == [200, 200])
        // The HEAD response announces the GET's length and carries no body: the next
        // response follows its blank line directly.
        let parts = out.components(separatedBy: "HTTP/1.1 200 OK")
        #expect(parts[1].contains("Content-Length: 13\r\n"))
        #expect(parts[1].hasSuffix("\r\n\r\n"))
        #expect(out.hasSuffix("Hello, World!"))
    }

    @Test func optionsAsteriskGetsAllow() throws {
        let server = MemoryServer(router: try testRouter())
        server.send("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n")
        let out = server.take()
        #expect(statuses(out) == [204])
        #expect(out.contains("\r\nAllow: "))
    }

    @Test func requestPrecededByCRLFIsAnsweredAtOnce() throws {
        let server = MemoryServer(router: try testRouter())
        server.send("\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(statuses(server.take()) == [200])
    }

    @Test func parametersArePercentDecoded() throws {
        let server = MemoryServer(router: try testRouter())
        server.send("GET /users/a%20b HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(server.take().hasSuffix("user a b"))
    }

    @Test func pipelinedRequestsAreAnsweredInOrderAcrossTiers() async throws {
        let server = MemoryServer(router: try testRouter())
        server.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcdeGET /users/7 HTTP/1.1\r\nHost: x\r\n\r\n")
        let out = await server.collect(until: "user 7")
        #expect(statuses(out) == [200, 200, 200, 200])
        let slow = try #require(out.range(of: "slow"))
        let hello = try #require(out.range(of: "Hello, World!"))
        let count = try #require(out.range(of: "\r\n\r\n5"))
        let user = try #require(out.range(of: "user 7"))
        #expect(slow.lowerBound < hello.lowerBound && hello.lowerBound < count.lowerBound && count.lowerBound < user.lowerBound)
    }

    @Test func throwingHandlerGets500WithoutItsText() async throws {
        let server = MemoryServer(router: try testRouter())
        server.send("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n")
        let out = await server.collect(until: "\r\n\r\n")
        #expect(statuses(out) == [500])
        #expect(!out.contains("Secret"))
        #expect(out.contains("Content-Length: 0"))
    }

    @Test func asyncEchoStreamsChunked() async throws {
        let server = MemoryServer(router: try testRouter())
        server.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        var out = await server.collect(until: "hello")
        server.send("6\r\n world\r\n0\r\n\r\n")
        out += await server.collect(until: "0\r\n\r\n")
        #expect(out.contains("Transfer-Encoding: chunked"))
        #expect(out.contains("5\r\nhello\r\n"))
        #expect(out.contains("6\r\n world\r\n"))
        #expect(out.hasSuffix("0\r\n\r\n"))
    }

    @Test func expectContinueIsAnsweredForAHandlerThatReads() async throws {
        let server = MemoryServer(router: try testRouter())
        server.send("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
        #expect(server.take() == "HTTP/1.1 100 Continue\r\n\r\n")
        server.send("xyz")
        let out = await server.collect(until: "\r\n\r\n3")
        #expect(statuses(out) == [200])
    }

    @Test func requestsPerConnectionLimitClosesAfterTheLast() throws {
        var configuration = HTTPServerConfiguration()
        configuration.maxRequestsPerConnection = 2
        let server = MemoryServer(router: try testRouter(), configuration: configuration)
        server.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let out = server.take()
        #expect(statuses(out) == [200, 200])
        #expect(out.components(separatedBy: "Connection: close").count == 2)
        #expect(server.io.isClosed)
    }
}

/// Answers that share a read with a malformed request still go out, before its 400.
@Suite struct HTTP1SessionBatchTests {
    @Test func answersBeforeAMalformedRequestAreKept() throws {
        let server = MemoryServer(router: try testRouter())
        server.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /users/1 HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n")
        let out = server.take()
        #expect(statuses(out) == [200, 200, 400])
        #expect(out.hasSuffix("Connection: close\r\n\r\n"))
        #expect(out.components(separatedBy: "Server: epsilon").count == 4)
        #expect(server.io.isClosed)
    }
}
