import EpsilonHTTPClient
import Testing

private let now: Int64 = 1_733_443_200  // Fri, 06 Dec 2024 00:00:00 GMT

private func jar(_ limits: HTTPCookieJar.Limits = .init()) -> HTTPCookieJar {
    HTTPCookieJar(publicSuffixes: HTTPPublicSuffixList(rules: "com\nuk\nco.uk\n*.ck\n!www.ck"), limits: limits)
}

extension HTTPCookieJar {
    /// Stores one field received over https at `now`.
    @discardableResult
    fileprivate func set(_ field: String, host: String = "www.example.com", path: String = "/", scheme: String = "https", at time: Int64 = now) -> Int {
        store(setCookieFields: [field], scheme: scheme, host: host, path: path, now: time)
    }

    fileprivate func field(host: String = "www.example.com", path: String = "/", scheme: String = "https", at time: Int64 = now) -> String? {
        cookieField(scheme: scheme, host: host, path: path, now: time)
    }
}

/// RFC 6265 §5.1.3 and §5.3 steps 4–6: which hosts a cookie goes back to.
@Suite struct RFC6265_DomainMatching {
    @Test func aCookieWithoutDomainIsHostOnly() throws {
        let jar = jar()
        #expect(jar.set("sid=1") == 1)
        #expect(jar.field() == "sid=1")
        #expect(jar.field(host: "a.www.example.com") == nil)
        #expect(jar.field(host: "example.com") == nil)
        let cookie = try #require(jar.cookies.first)
        #expect(cookie.isHostOnly)
        #expect(cookie.domain == "www.example.com")
    }

    @Test func aDomainCookieGoesToTheDomainAndItsSubdomains() throws {
        let jar = jar()
        jar.set("sid=1; Domain=.Example.COM")
        #expect(jar.field(host: "example.com") == "sid=1")
        #expect(jar.field(host: "deep.www.example.com") == "sid=1")
        #expect(jar.field(host: "notexample.com") == nil)
        #expect(jar.field(host: "example.com.evil.net") == nil)
        let cookie = try #require(jar.cookies.first)
        #expect(!cookie.isHostOnly)
        #expect(cookie.domain == "example.com")
    }

    @Test(arguments: ["Domain=other.com", "Domain=ww.example.com", "Domain=sub.www.example.com", "Domain=example"])
    func refusesADomainThatDoesNotCoverTheHost(attribute: String) {
        let jar = jar()
        #expect(jar.set("sid=1; \(attribute)") == 0)
        #expect(jar.cookies.isEmpty)
    }

    @Test func ignoresHostCaseAPortAndATrailingDot() {
        let jar = jar()
        jar.set("sid=1", host: "WWW.Example.com:8443")
        #expect(jar.field(host: "www.example.com.") == "sid=1")
    }

    @Test func ipAddressesOnlyMatchThemselves() {
        let jar = jar()
        jar.set("a=1", host: "127.0.0.1")
        jar.set("b=2; Domain=0.0.1", host: "127.0.0.1")
        #expect(jar.field(host: "127.0.0.1") == "a=1")
        jar.set("c=3", host: "[::1]:8080")
        #expect(jar.field(host: "::1") == "c=3")
    }
}

/// RFC 6265 §5.1.4: default paths and path matching.
@Suite struct RFC6265_PathMatching {
    @Test func theDefaultPathIsTheDirectoryOfTheRequest() throws {
        let jar = jar()
        jar.set("a=1", path: "/docs/guide/page?x=/y")
        #expect(try #require(jar.cookies.first).path == "/docs/guide")
        #expect(jar.field(path: "/docs/guide") == "a=1")
        #expect(jar.field(path: "/docs/guide/other") == "a=1")
        #expect(jar.field(path: "/docs/guidebook") == nil)
        #expect(jar.field(path: "/docs") == nil)
    }

    @Test(arguments: [("/", "/"), ("/top", "/"), ("", "/"), ("no-slash", "/")])
    func theDefaultPathOfAShallowRequestIsSlash(requestPath: String, cookiePath: String) throws {
        let jar = jar()
        jar.set("a=1", path: requestPath)
        #expect(try #require(jar.cookies.first).path == cookiePath)
    }

    @Test func aPathAttributeReplacesTheDefault() {
        let jar = jar()
        jar.set("a=1; Path=/api/", path: "/")
        jar.set("b=2; Path=relative", path: "/x/y")  // not starting with "/": the default path applies
        #expect(jar.field(path: "/api/v1") == "a=1")
        #expect(jar.field(path: "/api") == nil)
        #expect(jar.field(path: "/x/z") == "b=2")
    }

    @Test func longerPathsComeFirstThenOlderCookies() {
        let jar = jar()
        jar.set("root=1; Path=/", at: now)
        jar.set("deep=2; Path=/a/b", at: now + 1)
        jar.set("mid=3; Path=/a", at: now + 2)
        jar.set("root2=4; Path=/", at: now + 3)
        #expect(jar.field(path: "/a/b/c", at: now + 4) == "deep=2; mid=3; root=1; root2=4")
    }
}

/// Secure, HttpOnly, SameSite and the name prefixes.
@Suite struct RFC6265_SecureHTTPOnlyAndSameSite {
    @Test func secureCookiesTravelOnlyOverHTTPS() {
        let jar = jar()
        jar.set("s=1; Secure")
        jar.set("p=2")
        #expect(jar.field(scheme: "https") == "s=1; p=2")
        #expect(jar.field(scheme: "http") == "p=2")
        #expect(jar.field(scheme: "wss") == "s=1; p=2")
    }

    @Test func anInsecureResponseCannotSetOrShadowASecureCookie() {
        let jar = jar()
        #expect(jar.set("s=1; Secure", scheme: "http") == 0)
        jar.set("s=1; Secure")
        #expect(jar.set("s=evil", scheme: "http") == 0)
        #expect(jar.field() == "s=1")
    }

    @Test func keepsHTTPOnlyAndSameSite() throws {
        let jar = jar()
        jar.set("a=1; HttpOnly; SameSite=Strict")
        jar.set("b=2; SameSite=lax")
        jar.set("c=3; SameSite=None; Secure")
        jar.set("d=4; SameSite=sometimes")
        let byName = Dictionary(uniqueKeysWithValues: jar.cookies.map { ($0.name, $0) })
        #expect(byName["a"]?.isHTTPOnly == true)
        #expect(byName["a"]?.sameSite == .strict)
        #expect(byName["b"]?.sameSite == .lax)
        #expect(byName["b"]?.isHTTPOnly == false)
        #expect(byName["c"]?.sameSite == HTTPCookie.SameSite.none)
        #expect(byName["d"]?.sameSite == nil)
        // SameSite is kept, not enforced: all four go out.
        #expect(jar.field() == "a=1; b=2; c=3; d=4")
    }

    @Test func enforcesTheSecureAndHostNamePrefixes() {
        let jar = jar()
        #expect(jar.set("__Secure-a=1") == 0)
        #expect(jar.set("__Secure-a=1; Secure") == 1)
        #expect(jar.set("__Host-b=1; Secure; Path=/; Domain=example.com") == 0)
        #expect(jar.set("__Host-b=1; Secure; Path=/x") == 0)
        #expect(jar.set("__Host-b=1; Path=/") == 0)
        #expect(jar.set("__Host-b=1; Secure; Path=/") == 1)
    }
}

/// RFC 6265 §5.2.1, §5.2.2, §5.3 step 3: lifetimes.
@Suite struct RFC6265_ExpiresAndMaxAge {
    @Test func aCookieWithoutExpiryIsASessionCookie() throws {
        let jar = jar()
        jar.set("a=1")
        #expect(try #require(jar.cookies.first).expiresAt == nil)
        #expect(jar.field(at: now + 10 * 365 * 86_400) == "a=1")
    }

    @Test func expiresSetsTheExpiry() throws {
        let jar = jar()
        jar.set("a=1; Expires=Sat, 07 Dec 2024 00:00:00 GMT")
        #expect(try #require(jar.cookies.first).expiresAt == now + 86_400)
        #expect(jar.field(at: now + 86_399) == "a=1")
        #expect(jar.field(at: now + 86_400) == nil)
        #expect(jar.cookies.isEmpty)
    }

    @Test(arguments: ["a=1; Max-Age=60; Expires=Sat, 07 Dec 2024 00:00:00 GMT", "a=1; Expires=Sat, 07 Dec 2024 00:00:00 GMT; Max-Age=60"])
    func maxAgeWinsOverExpires(field: String) throws {
        let jar = jar()
        jar.set(field)
        #expect(try #require(jar.cookies.first).expiresAt == now + 60)
    }

    @Test(arguments: ["a=gone; Max-Age=0", "a=gone; Max-Age=-1", "a=gone; Expires=Thu, 01 Jan 1970 00:00:00 GMT"])
    func aPastExpiryDeletesTheCookie(deletion: String) {
        let jar = jar()
        jar.set("a=1")
        jar.set("b=2")
        #expect(jar.set(deletion) == 1)
        #expect(jar.field() == "b=2")
    }

    @Test func anInvalidMaxAgeOrExpiresIsIgnored() throws {
        let jar = jar()
        jar.set("a=1; Max-Age=1e3; Expires=not a date")
        #expect(try #require(jar.cookies.first).expiresAt == nil)
    }

    @Test func aHugeMaxAgeIsClampedNotOverflowed() throws {
        let jar = jar()
        jar.set("a=1; Max-Age=99999999999999999999999999")
        #expect(try #require(jar.cookies.first).expiresAt == Int64.max / 10 + now)
    }

    @Test func replacingACookieKeepsItsCreationTime() throws {
        let jar = jar()
        jar.set("a=1", at: now)
        jar.set("a=2", at: now + 100)
        let cookie = try #require(jar.cookies.first)
        #expect(cookie.value == "2")
        #expect(cookie.createdAt == now)
        #expect(jar.cookies.count == 1)
    }
}

/// RFC 6265 §5.2: what is not a cookie.
@Suite struct RFC6265_SetCookieParsing {
    @Test(arguments: ["novalue", "=value", " =value", "a=1\u{1}", "a\r\nb=1", "a=b\u{7F}", ""])
    func ignoresFieldsThatAreNoCookie(field: String) {
        let jar = jar()
        #expect(jar.set(field) == 0)
        #expect(jar.cookies.isEmpty)
    }

    @Test func trimsNameAndValueAndKeepsQuotes() {
        let jar = jar()
        jar.set("  name  =  \"quoted value\"  ; path=/")
        #expect(jar.field() == "name=\"quoted value\"")
    }

    @Test func attributeNamesAreCaseInsensitiveAndTheLastOneWins() throws {
        let jar = jar()
        jar.set("a=1; PATH=/one; path=/two; sEcUrE; MAX-AGE=5; max-age=7")
        let cookie = try #require(jar.cookies.first)
        #expect(cookie.path == "/two")
        #expect(cookie.isSecure)
        #expect(cookie.expiresAt == now + 7)
    }

    @Test func storesSeveralFieldsOfOneResponse() {
        let jar = jar()
        #expect(jar.store(setCookieFields: ["a=1", "b=2", "bad"], scheme: "https", host: "www.example.com", path: "/", now: now) == 2)
        #expect(jar.field() == "a=1; b=2")
    }
}

/// RFC 6265 §6.1 limits: per cookie, per domain, in all; the oldest go first.
@Suite struct CookieJarLimits {
    @Test func refusesACookieOverTheSizeLimit() {
        let jar = jar()
        #expect(jar.set("n=" + String(repeating: "v", count: 4095)) == 1)  // 1 + 4095 = 4096 bytes
        #expect(jar.set("m=" + String(repeating: "v", count: 4096)) == 0)
        #expect(jar.cookies.map(\.name) == ["n"])
    }

    @Test func keepsFiftyCookiesPerDomainEvictingTheOldest() {
        let jar = jar()
        for index in 0..<51 { jar.set("c\(index)=\(index)", at: now + Int64(index)) }
        jar.set("other=1", host: "other.example.com", at: now + 60)
        let names = Set(jar.cookies.map(\.name))
        #expect(jar.cookies.count == 51)
        #expect(!names.contains("c0"))
        #expect(names.contains("c1") && names.contains("c50") && names.contains("other"))
    }

    @Test func keepsAtMostTheTotalEvictingTheOldest() {
        let jar = jar(.init(maxCookieBytes: 4096, maxCookiesPerDomain: 50, maxCookies: 5))
        for index in 0..<8 { jar.set("c=\(index)", host: "h\(index).example.com", at: now + Int64(index)) }
        #expect(jar.cookies.map(\.value) == ["3", "4", "5", "6", "7"])
    }

    @Test func removeAllEmptiesTheJar() {
        let jar = jar()
        jar.set("a=1")
        jar.removeAll()
        #expect(jar.cookies.isEmpty)
        #expect(jar.field() == nil)
    }

    @Test func isSafeToShareBetweenTasks() async {
        let jar = jar()
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for index in 0..<20 { jar.set("t\(task)i\(index)=1", host: "h\(task).example.com") }
                    _ = jar.field(host: "h\(task).example.com")
                }
            }
        }
        #expect(jar.cookies.count == 160)
    }
}
