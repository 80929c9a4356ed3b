import EpsilonHTTPClient
import HTTPTypes
import Testing

/// Hostile input never traps: arbitrary Location values, Set-Cookie fields and Retry-After values
/// from a seeded generator give a typed error, nil, or a well-formed result.
@Suite struct PolicyArbitraryInput {
    static let alphabet = Array("aZ09:/?#[]@!$&'()*+,;=.-_~%\\ \t\r\n\u{0}\u{7F}éü\"<>{}|^`".unicodeScalars)

    private static func text(_ generator: inout SeededGenerator, maxLength: Int) -> String {
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...maxLength, using: &generator) {
            scalars.append(alphabet[Int.random(in: 0..<alphabet.count, using: &generator)])
        }
        return String(scalars)
    }

    @Test func arbitraryLocationsGiveAURLOrATypedError() {
        var generator = SeededGenerator(seed: 17)
        let request = HTTPRequest(method: .post, scheme: "https", authority: "example.com", path: "/a/b", headerFields: [.authorization: "x"])
        var followed = 0
        for round in 0..<20_000 {
            let prefix = ["", "/", "//", "https://", "http://h", "../", "?"][round % 7]
            let location = prefix + Self.text(&generator, maxLength: 24)
            do {
                guard let next = try HTTPRedirectPolicy(allowsHTTPSToHTTP: true).redirect(
                    status: 307, location: location, request: request, visited: ["https://example.com/a/b"]) else { continue }
                followed += 1
                // What reaches the wire is a clean request target.
                #expect(next.url.hasPrefix("http"))
                #expect(next.request.path?.hasPrefix("/") == true)
                #expect(next.request.path?.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F } == true)
                #expect(next.request.authority?.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F } == true)
            } catch {
                // Every failure is one of the four named errors (typed throws).
                switch error {
                case .invalidLocation, .loop, .tooManyRedirects, .insecureRedirect: break
                }
            }
        }
        #expect(followed > 1000)
    }

    @Test func arbitrarySetCookieFieldsNeverPutControlBytesInACookieField() {
        var generator = SeededGenerator(seed: 23)
        let jar = HTTPCookieJar(publicSuffixes: HTTPPublicSuffixList(rules: "com"))
        for round in 0..<20_000 {
            let field = ["a=", "", "n=v; ", "x=1; Domain=", "y=2; Expires="][round % 5] + Self.text(&generator, maxLength: 40)
            jar.store(setCookieFields: [field], scheme: round % 2 == 0 ? "https" : "http", host: "www.example.com", path: "/p/q", now: 1_000_000)
        }
        let field = jar.cookieField(scheme: "https", host: "www.example.com", path: "/p/q", now: 1_000_000) ?? ""
        #expect(!field.isEmpty)
        #expect(!field.utf8.contains { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F })
        #expect(jar.cookies.count <= 50)
    }

    @Test func arbitraryRetryAfterValuesGiveABoundedDelayOrNone() {
        var generator = SeededGenerator(seed: 29)
        let policy = HTTPRetryPolicy(honoursRetryAfter: true, maxRetryAfter: .seconds(60))
        for _ in 0..<20_000 {
            let value = Self.text(&generator, maxLength: 32)
            if let wait = policy.delay(after: .status(503, retryAfter: value), attempt: 1, method: .get, bodyIsReplayable: true, now: 1_000_000, using: &generator) {
                #expect(wait >= .zero && wait <= .seconds(60))
            }
        }
    }
}
