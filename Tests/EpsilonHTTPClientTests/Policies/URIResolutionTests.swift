@testable import EpsilonHTTPClient
import Testing

/// RFC 3986 §5.4: every example of reference resolution against `http://a/b/c/d;p?q`.
@Suite struct RFC3986_5_4_ReferenceResolution {
    static let base = URIReference("http://a/b/c/d;p?q")

    static let normalExamples: [(String, String)] = [
        ("g:h", "g:h"), ("g", "http://a/b/c/g"), ("./g", "http://a/b/c/g"), ("g/", "http://a/b/c/g/"),
        ("/g", "http://a/g"), ("//g", "http://g"), ("?y", "http://a/b/c/d;p?y"), ("g?y", "http://a/b/c/g?y"),
        ("#s", "http://a/b/c/d;p?q#s"), ("g#s", "http://a/b/c/g#s"), ("g?y#s", "http://a/b/c/g?y#s"),
        (";x", "http://a/b/c/;x"), ("g;x", "http://a/b/c/g;x"), ("g;x?y#s", "http://a/b/c/g;x?y#s"),
        ("", "http://a/b/c/d;p?q"), (".", "http://a/b/c/"), ("./", "http://a/b/c/"), ("..", "http://a/b/"),
        ("../", "http://a/b/"), ("../g", "http://a/b/g"), ("../..", "http://a/"), ("../../", "http://a/"),
        ("../../g", "http://a/g"),
    ]

    static let abnormalExamples: [(String, String)] = [
        ("../../../g", "http://a/g"), ("../../../../g", "http://a/g"), ("/./g", "http://a/g"), ("/../g", "http://a/g"),
        ("g.", "http://a/b/c/g."), (".g", "http://a/b/c/.g"), ("g..", "http://a/b/c/g.."), ("..g", "http://a/b/c/..g"),
        ("./../g", "http://a/b/g"), ("./g/.", "http://a/b/c/g/"), ("g/./h", "http://a/b/c/g/h"), ("g/../h", "http://a/b/c/h"),
        ("g;x=1/./y", "http://a/b/c/g;x=1/y"), ("g;x=1/../y", "http://a/b/c/y"), ("g?y/./x", "http://a/b/c/g?y/./x"),
        ("g?y/../x", "http://a/b/c/g?y/../x"), ("g#s/./x", "http://a/b/c/g#s/./x"), ("g#s/../x", "http://a/b/c/g#s/../x"),
        ("http:g", "http:g"),
    ]

    @Test(arguments: normalExamples)
    func resolvesTheNormalExamples(reference: String, expected: String) {
        #expect(URIReference(Substring(reference)).resolved(against: Self.base).text == expected)
    }

    @Test(arguments: abnormalExamples)
    func resolvesTheAbnormalExamples(reference: String, expected: String) {
        #expect(URIReference(Substring(reference)).resolved(against: Self.base).text == expected)
    }

    @Test func splitsTheFiveComponents() {
        let reference = URIReference("https://h:8443/p/q?x=1#f")
        #expect(reference.scheme == "https")
        #expect(reference.authority == "h:8443")
        #expect(reference.path == "/p/q")
        #expect(reference.query == "x=1")
        #expect(reference.fragment == "f")
        #expect(URIReference("/a:b").scheme == nil)  // a colon after a slash is no scheme
        #expect(URIReference("1x:y").scheme == nil)  // a scheme starts with a letter
    }
}
