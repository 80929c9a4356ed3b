import EpsilonHTTPClient
import HTTPTypes
import Testing

/// Redirects followed by the real client against the scripted Python server (RFC 9110 §15.4).
@Suite struct EndToEndRedirectsWithPython {
    @Test func followsAChainAndReportsTheFinalURL() async throws {
        let server = try scriptedServer.get()
        try await withClient(HTTPClientConfiguration()) { client in
            let response = try await client.get(server.url("/redirect-chain/5"))
            #expect(response.status == .ok)
            #expect(response.url == server.url("/redirect-chain/0"))
            #expect(try await response.body.collect(upTo: 1024) == Array("done".utf8))
        }
    }

    @Test func seeOtherTurnsPostIntoGetWithoutBody() async throws {
        let server = try scriptedServer.get()
        try await withClient(HTTPClientConfiguration()) { client in
            let response = try await client.post(server.url("/redirect/303?to=/echo-headers"), headers: ["Content-Type": "text/plain"], body: .text("payload"))
            let echo = try await ScriptedEcho(response)
            #expect(echo.method == "GET")
            #expect(echo.body.isEmpty)
            #expect(echo.values("content-type").isEmpty)
            #expect(echo.values("content-length").allSatisfy { $0 == "0" })
        }
    }

    @Test(arguments: [301, 302])
    func movedTurnsPostIntoGet(status: Int) async throws {
        let server = try scriptedServer.get()
        try await withClient(HTTPClientConfiguration()) { client in
            let response = try await client.post(server.url("/redirect/\(status)?to=/echo-headers"), body: .text("payload"))
            let echo = try await ScriptedEcho(response)
            #expect(echo.method == "GET")
            #expect(echo.body.isEmpty)
        }
    }

    @Test(arguments: [307, 308])
    func temporaryAndPermanentRedirectKeepMethodAndBody(status: Int) async throws {
        let server = try scriptedServer.get()
        try await withClient(HTTPClientConfiguration()) { client in
            let response = try await client.post(server.url("/redirect/\(status)?to=/echo-headers"), headers: ["Content-Type": "text/plain"], body: .text("payload"))
            let echo = try await ScriptedEcho(response)
            #expect(echo.method == "POST")
            #expect(echo.body == "payload")
            #expect(echo.values("content-type") == ["text/plain"])
        }
    }

    @Test func crossOriginDropsAuthorizationSameOriginKeepsIt() async throws {
        let server = try scriptedServer.get()
        let other = try LoopbackPeer("python3", [clientTestsDirectory + "/scripted_server.py", "--port", "0"])
        try await withClient(HTTPClientConfiguration()) { client in
            let headers = ["Authorization": "Bearer secret", "X-Trace": "7"]
            let across = try await client.get(server.url("/redirect/302?to=" + queryEncoded(other.url("/echo-headers"))), headers: headers)
            let acrossEcho = try await ScriptedEcho(across)
            #expect(across.url == other.url("/echo-headers"))
            #expect(acrossEcho.values("authorization").isEmpty)
            #expect(acrossEcho.values("x-trace") == ["7"])
            let same = try await client.get(server.url("/redirect/302?to=/echo-headers"), headers: headers)
            #expect(try await ScriptedEcho(same).values("authorization") == ["Bearer secret"])
        }
    }

    @Test func resolvesARelativeLocation() async throws {
        let server = try scriptedServer.get()
        try await withClient(HTTPClientConfiguration()) { client in
            let response = try await client.get(server.url("/redirect/302?to=" + queryEncoded("../echo-headers?x=1#frag")))
            #expect(try await ScriptedEcho(response).path == "/echo-headers?x=1")
        }
    }

    @Test func stopsAtTheLimit() async throws {
        let server = try scriptedServer.get()
        try await withClient(HTTPClientConfiguration()) { client in
            let tenth = try await client.get(server.url("/redirect-chain/10"))
            #expect(tenth.status == .ok)
            let error = await #expect(throws: HTTPClientError.self) { try await client.get(server.url("/redirect-chain/11")) }
            #expect(error == .redirectRefused("\(HTTPRedirectError.tooManyRedirects(10))"))
        }
    }

    @Test func detectsALoop() async throws {
        let server = try scriptedServer.get()
        try await withClient(HTTPClientConfiguration()) { client in
            let error = await #expect(throws: HTTPClientError.self) { try await client.get(server.url("/loop")) }
            #expect(error == .redirectRefused("\(HTTPRedirectError.loop(server.url("/loop")))"))
            // The pool stays usable.
            let after = try await client.get(server.url("/redirect-chain/1"))
            #expect(after.status == .ok)
        }
    }

    @Test func aDisabledPolicyHandsTheRedirectBack() async throws {
        let server = try scriptedServer.get()
        var configuration = HTTPClientConfiguration()
        configuration.redirectPolicy = .disabled
        try await withClient(configuration) { client in
            let response = try await client.get(server.url("/redirect/302?to=/echo-headers"))
            #expect(response.status.code == 302)
            #expect(response.headerFields[.location] == "/echo-headers")
        }
    }
}
