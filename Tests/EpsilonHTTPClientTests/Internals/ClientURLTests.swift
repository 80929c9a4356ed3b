@testable import EpsilonHTTPClient
import Testing

/// The byte-level URL parser: the parts, the normal forms it keeps or rebuilds, and every
/// malformed URL refused with the whole text.
@Suite("ClientURL parsing")
struct ClientURLTests {
    struct Case: Sendable, CustomStringConvertible {
        var text: String
        var isSecure: Bool
        var host: String
        var port: UInt16
        var path: String
        var authority: String
        var absolute: String
        var description: String { text }
    }

    static let valid: [Case] = [
        Case(text: "http://127.0.0.1:8080/hello", isSecure: false, host: "127.0.0.1", port: 8080, path: "/hello",
             authority: "127.0.0.1:8080", absolute: "http://127.0.0.1:8080/hello"),
        Case(text: "HTTPS://Example.COM:443/a?b#frag", isSecure: true, host: "example.com", port: 443, path: "/a?b",
             authority: "example.com", absolute: "https://example.com/a?b"),
        Case(text: "http://example.com", isSecure: false, host: "example.com", port: 80, path: "/",
             authority: "example.com", absolute: "http://example.com/"),
        Case(text: "http://example.com?q=1", isSecure: false, host: "example.com", port: 80, path: "/?q=1",
             authority: "example.com", absolute: "http://example.com/?q=1"),
        Case(text: "http://example.com#top", isSecure: false, host: "example.com", port: 80, path: "/",
             authority: "example.com", absolute: "http://example.com/"),
        Case(text: "http://[::1]:8080/x", isSecure: false, host: "::1", port: 8080, path: "/x",
             authority: "[::1]:8080", absolute: "http://[::1]:8080/x"),
        Case(text: "https://[::1]/", isSecure: true, host: "::1", port: 443, path: "/",
             authority: "[::1]", absolute: "https://[::1]/"),
        Case(text: "http://example.com:080/", isSecure: false, host: "example.com", port: 80, path: "/",
             authority: "example.com", absolute: "http://example.com/"),
        Case(text: "http://example.com:/", isSecure: false, host: "example.com", port: 80, path: "/",
             authority: "example.com", absolute: "http://example.com/"),
        Case(text: "https://example.com:08443/p", isSecure: true, host: "example.com", port: 8443, path: "/p",
             authority: "example.com:8443", absolute: "https://example.com:8443/p"),
        Case(text: "http://a:b:81/", isSecure: false, host: "a:b", port: 81, path: "/",
             authority: "[a:b]:81", absolute: "http://[a:b]:81/"),
        Case(text: "http://h/caf\u{E9}?x=\u{E9}", isSecure: false, host: "h", port: 80, path: "/caf\u{E9}?x=\u{E9}",
             authority: "h", absolute: "http://h/caf\u{E9}?x=\u{E9}"),
    ]

    @Test(arguments: valid)
    func splitsAndNormalizes(_ expected: Case) throws {
        let url = try ClientURL(expected.text)
        #expect(url.origin.isSecure == expected.isSecure)
        #expect(url.origin.host == expected.host)
        #expect(url.origin.port == expected.port)
        #expect(url.pathAndQuery == expected.path)
        #expect(url.authority == expected.authority)
        #expect(url.authority == url.origin.authority)
        #expect(url.absoluteString == expected.absolute)
        #expect(url.absoluteString == "\(url.origin)\(url.pathAndQuery)")
    }

    static let invalid = [
        "http//example.com/", "http:/example.com/", "http://", "http:///path", "http://user@host/",
        "http://host:0/", "http://host:65536/", "http://host:8a/", "http://ho st/", "http://[::1/",
        "http://[::1]x/", "http://host/pa th", "http://host/\u{7F}", "http://host\\x/", "http://:80/",
    ]

    @Test(arguments: invalid)
    func refusesMalformedURLs(_ text: String) {
        #expect(throws: HTTPClientError.invalidURL(text)) { try ClientURL(text) }
    }

    @Test(arguments: ["ftp", "ws", "htt", "httpss"])
    func refusesOtherSchemes(_ scheme: String) {
        #expect(throws: HTTPClientError.unsupportedScheme(scheme)) { try ClientURL("\(scheme)://host/") }
    }

    @Test
    func makesTheSameURLFromRequestParts() throws {
        let url = try ClientURL(scheme: "HTTPS", authority: "Example.com:8443", path: "/p?q")
        #expect(url.origin == ClientOrigin(isSecure: true, host: "example.com", port: 8443))
        #expect(url.authority == "example.com:8443")
        #expect(url.absoluteString == "https://example.com:8443/p?q")
        #expect(throws: HTTPClientError.invalidURL("https://example.com/p q")) {
            try ClientURL(scheme: "https", authority: "example.com", path: "/p q")
        }
        #expect(throws: HTTPClientError.invalidURL("https://example.comp")) {
            try ClientURL(scheme: "https", authority: "example.com", path: "p")
        }
    }
}
