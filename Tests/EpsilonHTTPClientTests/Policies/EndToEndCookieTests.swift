import EpsilonHTTPClient
import Testing

/// The cookie jar in the real client against the scripted Python server (RFC 6265).
@Suite struct EndToEndCookiesWithPython {
    private func configuration(_ jar: HTTPCookieJar?) -> HTTPClientConfiguration {
        var configuration = HTTPClientConfiguration()
        configuration.cookieJar = jar
        return configuration
    }

    @Test func cookiesSetAreSentBack() async throws {
        let server = try scriptedServer.get()
        let jar = HTTPCookieJar(publicSuffixes: try HTTPPublicSuffixList())
        try await withClient(configuration(jar)) { client in
            _ = try await client.get(server.url("/set-cookie?a=1&b=2")).body.collect(upTo: 1024)
            let echo = try await ScriptedEcho(client.get(server.url("/echo-headers")))
            #expect(echo.values("cookie") == ["a=1; b=2"])
        }
    }

    @Test func aCookieSetByARedirectReachesItsTarget() async throws {
        let server = try scriptedServer.get()
        let jar = HTTPCookieJar(publicSuffixes: try HTTPPublicSuffixList())
        try await withClient(configuration(jar)) { client in
            let echo = try await ScriptedEcho(client.get(server.url("/set-cookie?session=xyz&redirect=/echo-headers")))
            #expect(echo.values("cookie") == ["session=xyz"])
        }
    }

    @Test func scopeExpiryAndSecureAreHonoured() async throws {
        let server = try scriptedServer.get()
        let jar = HTTPCookieJar(publicSuffixes: try HTTPPublicSuffixList())
        try await withClient(configuration(jar)) { client in
            let fields = ["keep=1; Path=/", "scoped=2; Path=/echo-headers", "elsewhere=3; Path=/other",
                          "secure=4; Secure", "foreign=5; Domain=example.com", "gone=6; Path=/"]
            let query = fields.map { "raw=" + queryEncoded($0) }.joined(separator: "&")
            _ = try await client.get(server.url("/set-cookie?" + query)).body.collect(upTo: 1024)
            // Max-Age=0 deletes a stored cookie.
            _ = try await client.get(server.url("/set-cookie?raw=" + queryEncoded("gone=x; Max-Age=0; Path=/"))).body.collect(upTo: 1024)
            let echo = try await ScriptedEcho(client.get(server.url("/echo-headers")))
            #expect(echo.values("cookie") == ["scoped=2; keep=1"])
        }
    }

    @Test func aSharedJarServesTwoClients() async throws {
        let server = try scriptedServer.get()
        let jar = HTTPCookieJar(publicSuffixes: nil)
        try await withClient(configuration(jar)) { first in
            _ = try await first.get(server.url("/set-cookie?shared=yes")).body.collect(upTo: 1024)
        }
        try await withClient(configuration(jar)) { second in
            let echo = try await ScriptedEcho(second.get(server.url("/echo-headers")))
            #expect(echo.values("cookie") == ["shared=yes"])
        }
    }

    @Test func withoutAJarNoCookieIsSent() async throws {
        let server = try scriptedServer.get()
        try await withClient(configuration(nil)) { client in
            _ = try await client.get(server.url("/set-cookie?a=1")).body.collect(upTo: 1024)
            #expect(try await ScriptedEcho(client.get(server.url("/echo-headers"))).values("cookie").isEmpty)
        }
    }
}
