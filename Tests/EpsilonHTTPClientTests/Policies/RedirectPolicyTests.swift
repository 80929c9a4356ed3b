import EpsilonHTTPClient
import HTTPTypes
import Testing

private func request(_ method: HTTPRequest.Method = .get, url: (scheme: String, authority: String, path: String) = ("https", "example.com", "/start"),
                     fields: HTTPFields = [:]) -> HTTPRequest {
    HTTPRequest(method: method, scheme: url.scheme, authority: url.authority, path: url.path, headerFields: fields)
}

private let bodyFields: HTTPFields = [.contentType: "application/json", .contentLength: "2"]
private let credentials: HTTPFields = [.authorization: "Bearer t", .cookie: "a=1", .proxyAuthorization: "Basic x", .accept: "*/*"]

/// RFC 9110 §15.4: which statuses are followed and what happens to the method and the body.
@Suite struct RFC9110_15_4_RedirectMethodAndBody {
    let policy = HTTPRedirectPolicy.follow

    @Test func seeOtherTurnsPostIntoGetWithoutBody() throws {
        let next = try #require(try policy.redirect(status: 303, location: "/done", request: request(.post, fields: bodyFields), visited: ["https://example.com/start"]))
        #expect(next.request.method == .get)
        #expect(!next.keepsBody)
        #expect(next.request.headerFields[.contentType] == nil)
        #expect(next.request.headerFields[.contentLength] == nil)
        #expect(next.request.path == "/done")
        #expect(next.url == "https://example.com/done")
    }

    @Test func seeOtherKeepsHeadAsHead() throws {
        let next = try #require(try policy.redirect(status: 303, location: "/other", request: request(.head), visited: []))
        #expect(next.request.method == .head)
        #expect(!next.keepsBody)
    }

    @Test(arguments: [301, 302])
    func movedTurnsPostIntoGet(status: Int) throws {
        let next = try #require(try policy.redirect(status: status, location: "/new", request: request(.post, fields: bodyFields), visited: []))
        #expect(next.request.method == .get)
        #expect(!next.keepsBody)
        #expect(next.request.headerFields[.contentType] == nil)
    }

    @Test(arguments: [301, 302])
    func movedKeepsOtherMethodsAndTheirBody(status: Int) throws {
        let next = try #require(try policy.redirect(status: status, location: "/new", request: request(.put, fields: bodyFields), visited: []))
        #expect(next.request.method == .put)
        #expect(next.keepsBody)
        #expect(next.request.headerFields[.contentType] == "application/json")
    }

    @Test(arguments: [307, 308])
    func temporaryAndPermanentRedirectKeepMethodAndBody(status: Int) throws {
        let next = try #require(try policy.redirect(status: status, location: "/new", request: request(.post, fields: bodyFields), visited: []))
        #expect(next.request.method == .post)
        #expect(next.keepsBody)
        #expect(next.request.headerFields[.contentType] == "application/json")
        #expect(next.request.headerFields[.contentLength] == "2")
    }

    @Test(arguments: [200, 204, 300, 304, 305, 306, 309, 400])
    func otherStatusesAreNotFollowed(status: Int) throws {
        #expect(try policy.redirect(status: status, location: "/x", request: request(), visited: []) == nil)
    }

    @Test func disabledFollowsNothing() throws {
        #expect(try HTTPRedirectPolicy.disabled.redirect(status: 302, location: "/x", request: request(), visited: []) == nil)
    }
}

/// Credentials stay with their origin; https never silently becomes http.
@Suite struct RedirectCredentialsAndSchemes {
    let policy = HTTPRedirectPolicy.follow

    @Test(arguments: [
        "https://other.example/next",       // another host
        "https://example.com:8443/next",    // another port
        "https://sub.example.com/next",     // a subdomain is another origin too
    ])
    func crossOriginDropsAuthorizationCookieAndProxyCredentials(location: String) throws {
        let next = try #require(try policy.redirect(status: 302, location: location, request: request(fields: credentials), visited: ["https://example.com/start"]))
        #expect(next.request.headerFields[.authorization] == nil)
        #expect(next.request.headerFields[.cookie] == nil)
        #expect(next.request.headerFields[.proxyAuthorization] == nil)
        #expect(next.request.headerFields[.accept] == "*/*")
    }

    @Test(arguments: ["/same", "https://EXAMPLE.com/same", "https://example.com:443/same"])
    func sameOriginKeepsCredentials(location: String) throws {
        let next = try #require(try policy.redirect(status: 307, location: location, request: request(fields: credentials), visited: ["https://example.com/start"]))
        #expect(next.request.headerFields[.authorization] == "Bearer t")
        #expect(next.request.headerFields[.cookie] == "a=1")
        #expect(next.request.headerFields[.proxyAuthorization] == "Basic x")
    }

    @Test func httpToHTTPSOnTheSameHostIsAnotherOrigin() throws {
        let next = try #require(try policy.redirect(status: 301, location: "https://example.com/", request: request(url: ("http", "example.com", "/"), fields: credentials), visited: ["http://example.com/"]))
        #expect(next.request.scheme == "https")
        #expect(next.request.headerFields[.authorization] == nil)
    }

    @Test func httpsToHTTPIsRefused() {
        #expect(throws: HTTPRedirectError.insecureRedirect("http://example.com/plain")) {
            try policy.redirect(status: 302, location: "http://example.com/plain", request: request(), visited: ["https://example.com/start"])
        }
    }

    @Test func httpsToHTTPIsFollowedWhenAllowed() throws {
        let permissive = HTTPRedirectPolicy(allowsHTTPSToHTTP: true)
        let next = try #require(try permissive.redirect(status: 302, location: "http://example.com/plain", request: request(fields: credentials), visited: ["https://example.com/start"]))
        #expect(next.request.scheme == "http")
        #expect(next.request.headerFields[.authorization] == nil)  // another origin all the same
    }
}

/// Bounds: the number of redirects, loops, and Location values that are no URL.
@Suite struct RedirectLimitsLoopsAndBadLocations {
    let policy = HTTPRedirectPolicy.follow

    @Test func followsUpToTheLimitThenThrows() throws {
        let limited = HTTPRedirectPolicy(maxRedirects: 3)
        let chain = (0...3).map { "https://example.com/\($0)" }
        // Three URLs visited = two redirects followed: the third is allowed.
        #expect(try limited.redirect(status: 302, location: "/3", request: request(), visited: Array(chain.prefix(3))) != nil)
        #expect(throws: HTTPRedirectError.tooManyRedirects(3)) {
            try limited.redirect(status: 302, location: "/4", request: request(), visited: chain)
        }
    }

    @Test func theDefaultLimitIsTen() throws {
        #expect(HTTPRedirectPolicy.follow.maxRedirects == 10)
        let chain = (0...10).map { "https://example.com/\($0)" }
        #expect(throws: HTTPRedirectError.tooManyRedirects(10)) {
            try policy.redirect(status: 302, location: "/11", request: request(), visited: chain)
        }
    }

    @Test func detectsALoop() {
        let visited = ["https://example.com/a", "https://example.com/b"]
        #expect(throws: HTTPRedirectError.loop("https://example.com/a")) {
            try policy.redirect(status: 302, location: "/a", request: request(), visited: visited)
        }
        // The same resource written another way is the same loop.
        #expect(throws: HTTPRedirectError.loop("https://example.com:443/a#x")) {
            try policy.redirect(status: 302, location: "HTTPS://Example.COM:443/a#x", request: request(), visited: visited)
        }
    }

    @Test func postRedirectGetToTheSameURLIsNoLoop() throws {
        let next = try #require(try policy.redirect(status: 303, location: "/form", request: request(.post, url: ("https", "example.com", "/form")), visited: ["https://example.com/form"]))
        #expect(next.request.method == .get)
    }

    @Test(arguments: [
        "/next\r\nSet-Cookie: a=1", "/next\nX: y", "/next\r", "/a\u{0}b", "/tab\there", "",
        "ftp://example.com/file", "javascript:alert(1)", "http:///no-host", "https://user:pw@example.com/",
        "https://example.com:99999/", "https://example.com:8o/", "https://exa mple.com/", "https://[zz::1]/",
        "http:g", "mailto:a@b",
    ])
    func rejectsALocationThatIsNoUsableURL(location: String) {
        #expect(throws: HTTPRedirectError.self) {
            try policy.redirect(status: 302, location: location, request: request(), visited: ["https://example.com/start"])
        }
    }

    @Test func reportsControlCharactersEscaped() {
        #expect(throws: HTTPRedirectError.invalidLocation("/a\\u{d}\\u{a}X: 1")) {
            try policy.redirect(status: 302, location: "/a\r\nX: 1", request: request(), visited: [])
        }
    }
}

/// Location resolution and what the next request looks like.
@Suite struct RedirectLocationResolution {
    let policy = HTTPRedirectPolicy.follow

    @Test(arguments: [
        ("g", "/b/c/g"), ("../g", "/b/g"), ("/g", "/g"), ("?y", "/b/c/d;p?y"), ("g?y", "/b/c/g?y"), ("../../../g", "/g"),
        ("./g/.", "/b/c/g/"), ("g;x=1/../y", "/b/c/y"), ("//a/x", "/x"),
    ])
    func resolvesRelativeLocationsAgainstTheLastURL(location: String, path: String) throws {
        let next = try #require(try policy.redirect(status: 302, location: location, request: request(url: ("http", "a", "/b/c/d;p?q")), visited: ["http://a/b/c/d;p?q"]))
        #expect(next.request.path == path)
        #expect(next.request.authority == "a")
        #expect(next.url == "http://a" + path)
    }

    @Test func usesTheRequestWhenNothingWasVisited() throws {
        let next = try #require(try policy.redirect(status: 302, location: "../up", request: request(url: ("http", "h:8080", "/x/y/z")), visited: []))
        #expect(next.url == "http://h:8080/x/up")
        #expect(next.request.authority == "h:8080")
    }

    @Test func keepsTheFragmentOfTheChainUnlessTheLocationHasOne() throws {
        // RFC 9110 §10.2.2: a Location without a fragment inherits the original one.
        let inherited = try #require(try policy.redirect(status: 302, location: "/y", request: request(), visited: ["https://example.com/x#part"]))
        #expect(inherited.url == "https://example.com/y#part")
        #expect(inherited.request.path == "/y")  // a fragment is never sent
        let replaced = try #require(try policy.redirect(status: 302, location: "/y#new", request: request(), visited: ["https://example.com/x#part"]))
        #expect(replaced.url == "https://example.com/y#new")
    }

    @Test func switchesHostSchemeAndPort() throws {
        let next = try #require(try policy.redirect(status: 308, location: "https://Other.Example:8443/p?q=1", request: request(), visited: []))
        #expect(next.request.scheme == "https")
        #expect(next.request.authority == "other.example:8443")
        #expect(next.request.path == "/p?q=1")
    }

    @Test func percentEncodesSpacesAndNonASCIIAndUsesALabels() throws {
        let next = try #require(try policy.redirect(status: 302, location: "https://bücher.example/a b/ü?q=ä ö", request: request(), visited: []))
        #expect(next.request.authority == "xn--bcher-kva.example")
        #expect(next.request.path == "/a%20b/%C3%BC?q=%C3%A4%20%C3%B6")
    }

    @Test func acceptsIPv6Literals() throws {
        let next = try #require(try policy.redirect(status: 302, location: "http://[::1]:8080/v6", request: request(url: ("http", "127.0.0.1", "/")), visited: []))
        #expect(next.request.authority == "[::1]:8080")
        #expect(next.request.path == "/v6")
    }
}
