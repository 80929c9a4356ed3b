import EpsilonHTTP2
@testable import EpsilonHTTPServer
import Testing

/// The request checks added after probing `epsilon serve` (Tests/Server/edge_cases.py runs
/// the same cases against the binary): expectations (RFC 9110 §10.1.1), HTTP/2 `:path`,
/// `:authority` and `host` (RFC 9113 §8.3.1), the HTTP/2 head size, and range lists.
@Suite struct RequestEdgeCaseTests {
    @Test(arguments: [
        ("100-continue", true), ("100-CONTINUE", true), (" 100-continue ", true), ("100-continue,", true),
        ("", true), ("foo", false), ("100-continue, foo", false), ("100-continued", false), ("100", false),
    ])
    func expectation(_ value: String, _ accepted: Bool) {
        let bytes = Array(value.utf8)
        #expect(bytes.withUnsafeBytes { HTTP1RequestChecks.onlyContinue($0) } == accepted)
    }

    static func list(_ fields: [(String, String)]) -> HTTP2HeaderList {
        var list = HTTP2HeaderList()
        for (name, value) in fields { list.append(name: name, value: value) }
        return list
    }

    static func request(path: String = "/a", method: String = "GET", authority: String? = "localhost",
                        extra: [(String, String)] = []) -> [(String, String)] {
        var fields = [(":method", method), (":scheme", "http"), (":path", path)]
        if let authority { fields.append((":authority", authority)) }
        return fields + extra
    }

    @Test(arguments: [
        ("origin-form", request(), false),
        ("with a query", request(path: "/a?b=c"), false),
        ("OPTIONS *", request(path: "*", method: "OPTIONS"), false),
        ("GET *", request(path: "*"), true),
        ("absolute URI in :path", request(path: "http://localhost/a"), true),
        ("no leading slash", request(path: "a"), true),
        ("authority with a space", request(authority: "a b"), true),
        ("authority with a bad port", request(authority: "localhost:8x"), true),
        ("host only", request(authority: nil, extra: [("host", "localhost")]), false),
        ("invalid host only", request(authority: nil, extra: [("host", "a/b")]), true),
        ("host equal to :authority", request(extra: [("host", "localhost")]), false),
        ("host differing in case", request(extra: [("host", "LocalHost")]), false),
        ("host with the default port", request(extra: [("host", "localhost:80")]), false),
        ("host naming another authority", request(extra: [("host", "other")]), true),
        ("host with another port", request(extra: [("host", "localhost:8080")]), true),
    ])
    func http2Head(_ name: String, _ fields: [(String, String)], _ bad: Bool) {
        let list = Self.list(fields)
        #expect(HTTP2RequestChecks.isBadRequest(list, HTTP2RequestHead.Summary(list)) == bad, "\(name)")
    }

    @Test func http2HeadBytesAndExpectation() {
        let list = Self.list(Self.request(extra: [("x-long", String(repeating: "a", count: 1000)), ("expect", "tea")]))
        let summary = HTTP2RequestHead.Summary(list)
        // ":method: GET" … each as `name: value` CRLF.
        #expect(summary.headBytes == (7 + 3 + 4) + (7 + 4 + 4) + (5 + 2 + 4) + (10 + 9 + 4) + (6 + 1000 + 4) + (6 + 3 + 4))
        #expect(summary.expectationFailed)
        #expect(!HTTP2RequestHead.Summary(Self.list(Self.request(extra: [("expect", "100-continue")]))).expectationFailed)
    }

    @Test(arguments: [
        ("bytes=200-300,400-500", StaticRangeRequest.unsatisfiable), ("bytes=0-1,200-300", .whole),
        ("bytes=0-1,", .partial(0...1)), ("bytes=,5-9", .partial(5...9)), ("bytes= , -5 ,", .partial(95...99)),
        ("bytes=0-99999999999999999999", .partial(0...99)), ("bytes=,", .whole), ("bytes=-0,-0", .unsatisfiable),
        ("bytes=200-300,x", .whole),
    ])
    func rangeLists(_ value: String, _ want: StaticRangeRequest) {
        #expect(StaticByteRange.evaluate(Array(value.utf8), length: 100) == want)
    }

    @Test func tooManyRangesServeTheWholeFile() {
        let many = "bytes=" + (0..<(StaticByteRange.maxRanges + 1)).map { "\(200 + $0)-" }.joined(separator: ",")
        #expect(StaticByteRange.evaluate(Array(many.utf8), length: 100) == .whole)
        let allowed = "bytes=" + (0..<StaticByteRange.maxRanges).map { "\(200 + $0)-" }.joined(separator: ",")
        #expect(StaticByteRange.evaluate(Array(allowed.utf8), length: 100) == .unsatisfiable)
    }
}
