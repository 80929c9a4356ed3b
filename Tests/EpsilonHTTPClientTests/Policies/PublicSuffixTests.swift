@testable import EpsilonHTTPClient
import Foundation
import Testing

private let now: Int64 = 1_733_443_200

/// The public-suffix list: the algorithm on a small inline list, then Debian's real list
/// (`publicsuffix` package, installed by .ci/run) and the jar refusing cookies for suffixes.
@Suite struct PublicSuffixListRules {
    let list = HTTPPublicSuffixList(rules: """
        // comments and blank lines are skipped

        com
        co.uk
        uk
        *.ck
        !www.ck
        公司.cn   trailing text after whitespace is ignored
        """)

    @Test func countsItsRules() {
        #expect(list.ruleCount == 6)
    }

    @Test(arguments: ["com", "COM", "com.", "co.uk", "uk", "anything.ck", "公司.cn", "xn--55qx5d.cn", "localhost", "org"])
    func recognisesPublicSuffixes(domain: String) {
        #expect(list.isPublicSuffix(domain))
    }

    @Test(arguments: ["example.com", "example.co.uk", "www.ck", "a.www.ck", "b.anything.ck", "shop.公司.cn", "", ".", "a..com"])
    func recognisesOtherDomains(domain: String) {
        #expect(!list.isPublicSuffix(domain))
    }

    @Test func encodesInternationalLabelsAsALabels() {
        #expect(Punycode.asciiLabel("公司") == "xn--55qx5d")
        #expect(Punycode.asciiLabel("aéroport") == "xn--aroport-bya")
        #expect(Punycode.asciiLabel("бг") == "xn--90ae")
        #expect(Punycode.asciiLabel("bücher") == "xn--bcher-kva")
        #expect(Punycode.asciiLabel("plain") == "plain")
        #expect(Punycode.asciiLabel(Substring(String(repeating: "é", count: 64))) == nil)
    }
}

@Suite struct PublicSuffixListDebian {
    @Test func loadsTheInstalledList() throws {
        let list = try HTTPPublicSuffixList()
        #expect(list.ruleCount > 5000)
        for suffix in ["com", "co.uk", "github.io", "anything.kawasaki.jp", "xn--55qx5d.cn", "公司.cn"] {
            #expect(list.isPublicSuffix(suffix), "\(suffix)")
        }
        for domain in ["example.com", "bbc.co.uk", "user.github.io", "city.kawasaki.jp", "www.ck"] {
            #expect(!list.isPublicSuffix(domain), "\(domain)")
        }
    }

    @Test func theJarRefusesACookieForAPublicSuffix() throws {
        let jar = HTTPCookieJar(publicSuffixes: try HTTPPublicSuffixList())
        #expect(jar.store(setCookieFields: ["a=1; Domain=co.uk"], scheme: "https", host: "shop.example.co.uk", path: "/", now: now) == 0)
        #expect(jar.store(setCookieFields: ["b=1; Domain=github.io"], scheme: "https", host: "user.github.io", path: "/", now: now) == 0)
        #expect(jar.store(setCookieFields: ["c=1; Domain=example.co.uk"], scheme: "https", host: "shop.example.co.uk", path: "/", now: now) == 1)
        #expect(jar.cookieField(scheme: "https", host: "other.example.co.uk", path: "/", now: now) == "c=1")
        #expect(jar.cookieField(scheme: "https", host: "evil.co.uk", path: "/", now: now) == nil)
    }

    @Test func aSuffixThatIsTheHostItselfMakesAHostOnlyCookie() throws {
        // RFC 6265 §5.3 step 5: Domain equal to the request host is kept, host-only.
        let jar = HTTPCookieJar(publicSuffixes: try HTTPPublicSuffixList())
        #expect(jar.store(setCookieFields: ["a=1; Domain=github.io"], scheme: "https", host: "github.io", path: "/", now: now) == 1)
        #expect(try #require(jar.cookies.first).isHostOnly)
        #expect(jar.cookieField(scheme: "https", host: "user.github.io", path: "/", now: now) == nil)
    }

    @Test func withoutAListOnlyDomainMatchingApplies() {
        let jar = HTTPCookieJar(publicSuffixes: nil)
        #expect(jar.store(setCookieFields: ["a=1; Domain=co.uk"], scheme: "https", host: "shop.example.co.uk", path: "/", now: now) == 1)
    }

    @Test func reportsAMissingOrForeignFile() {
        #expect(throws: HTTPPublicSuffixListError.unreadable(path: "/nonexistent/list.dat")) {
            try HTTPPublicSuffixList(contentsOf: "/nonexistent/list.dat")
        }
        let commentsOnly = FileManager.default.temporaryDirectory.appendingPathComponent("epsilon-psl-\(getpid()).dat").path
        #expect(FileManager.default.createFile(atPath: commentsOnly, contents: Data("// no rules here\n\n".utf8)))
        defer { try? FileManager.default.removeItem(atPath: commentsOnly) }
        #expect(throws: HTTPPublicSuffixListError.noRules(path: commentsOnly)) {
            try HTTPPublicSuffixList(contentsOf: commentsOnly)
        }
    }
}

/// RFC 6265 §5.1.1 cookie-date: the Expires formats servers actually send.
@Suite struct RFC6265_5_1_1_CookieDate {
    @Test(arguments: [
        "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
        "Sun, 06-Nov-1994 08:49:37 GMT", "Sun, 06 nov 1994 08:49:37", "06 November 1994 08:49:37 GMT+0000",
        "Sun Nov 06 1994 08:49:37 GMT+0100 (CET)", "1994 Nov 6 8:49:37",
    ])
    func parsesTheVariants(text: String) {
        #expect(CookieDate.parse(Substring(text)) == 784_111_777)
    }

    @Test(arguments: [
        "Sun, 06 Nov 1994", "08:49:37 GMT", "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1600 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Xyz 1994 08:49:37 GMT", "", "Sun, 29 Feb 2023 00:00:00 GMT",
    ])
    func rejectsDatesMissingAPartOrOutOfRange(text: String) {
        #expect(CookieDate.parse(Substring(text)) == nil)
    }

    @Test func mapsTwoDigitYears() {
        #expect(CookieDate.parse("Thu, 01 Jan 70 00:00:00 GMT") == 0)
        #expect(CookieDate.parse("Sat, 01 Jan 00 00:00:00 GMT") == 946_684_800)
        #expect(CookieDate.parse("Sun, 01 Jan 69 00:00:00 GMT") == 3_124_224_000)
    }
}
