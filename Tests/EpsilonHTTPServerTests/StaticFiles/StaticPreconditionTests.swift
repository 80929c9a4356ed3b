@testable import EpsilonHTTPServer
import EpsilonHTTPTypes
import Testing

/// RFC 9110 §13.2.2 precedence, ranges and Accept-Encoding choice, as pure tables.
@Suite struct StaticPreconditionTests {
    static let etag = "\"abc-10-123\""
    static let modified: Int64 = 1_700_000_000
    static let validators = StaticValidators(etag: etag, lastModified: modified)
    static let before = HTTPDate.format(secondsSince1970: modified - 60)
    static let same = HTTPDate.format(secondsSince1970: modified)
    static let after = HTTPDate.format(secondsSince1970: modified + 60)

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var ifMatch: String?
        var ifNoneMatch: String?
        var ifModifiedSince: String?
        var ifUnmodifiedSince: String?
        var getOrHead = true
        var want: StaticPreconditionResult
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "none", want: .proceed),
        Case(name: "If-Match same", ifMatch: etag, want: .proceed),
        Case(name: "If-Match *", ifMatch: "*", want: .proceed),
        Case(name: "If-Match other", ifMatch: "\"x\"", want: .preconditionFailed),
        Case(name: "If-Match weak is not strong", ifMatch: "W/" + etag, want: .preconditionFailed),
        Case(name: "If-Match list", ifMatch: "\"x\", " + etag, want: .proceed),
        Case(name: "If-Unmodified-Since after", ifUnmodifiedSince: after, want: .proceed),
        Case(name: "If-Unmodified-Since before", ifUnmodifiedSince: before, want: .preconditionFailed),
        Case(name: "If-Unmodified-Since bad date ignored", ifUnmodifiedSince: "yesterday", want: .proceed),
        Case(name: "If-Match wins over If-Unmodified-Since", ifMatch: etag, ifUnmodifiedSince: before, want: .proceed),
        Case(name: "If-None-Match same", ifNoneMatch: etag, want: .notModified),
        Case(name: "If-None-Match weak compare", ifNoneMatch: "W/" + etag, want: .notModified),
        Case(name: "If-None-Match *", ifNoneMatch: "*", want: .notModified),
        Case(name: "If-None-Match other", ifNoneMatch: "\"x\"", want: .proceed),
        Case(name: "If-None-Match on other methods is 412", ifNoneMatch: etag, getOrHead: false, want: .preconditionFailed),
        Case(name: "If-Modified-Since same", ifModifiedSince: same, want: .notModified),
        Case(name: "If-Modified-Since after", ifModifiedSince: after, want: .notModified),
        Case(name: "If-Modified-Since before", ifModifiedSince: before, want: .proceed),
        Case(name: "If-Modified-Since only for GET/HEAD", ifModifiedSince: same, getOrHead: false, want: .proceed),
        Case(name: "If-None-Match miss overrides If-Modified-Since", ifNoneMatch: "\"x\"", ifModifiedSince: same, want: .proceed),
        Case(name: "If-Match fails before If-None-Match", ifMatch: "\"x\"", ifNoneMatch: etag, want: .preconditionFailed),
        Case(name: "If-Unmodified-Since fails before If-Modified-Since", ifModifiedSince: same, ifUnmodifiedSince: before,
             want: .preconditionFailed),
    ]

    @Test(arguments: cases)
    func precedence(_ c: Case) {
        let fields = StaticConditionalFields(ifMatch: c.ifMatch.map { Array($0.utf8) }, ifNoneMatch: c.ifNoneMatch.map { Array($0.utf8) },
                                             ifModifiedSince: c.ifModifiedSince.map { Array($0.utf8) },
                                             ifUnmodifiedSince: c.ifUnmodifiedSince.map { Array($0.utf8) }, ifRange: nil)
        let got = StaticPreconditions.evaluate(fields, validators: Self.validators, isGetOrHead: c.getOrHead,
                                               now: Self.modified + 3600, parseDate: { $0.withUnsafeBytes { HTTPDate.parse($0) } })
        #expect(got == c.want)
    }

    @Test func ifModifiedSinceInTheFutureIsIgnored() {
        let fields = StaticConditionalFields(ifModifiedSince: Array(Self.after.utf8))
        let got = StaticPreconditions.evaluate(fields, validators: Self.validators, isGetOrHead: true, now: Self.modified + 10,
                                               parseDate: { $0.withUnsafeBytes { HTTPDate.parse($0) } })
        #expect(got == .proceed)
    }

    @Test(arguments: [(etag, true), ("W/" + etag, false), ("\"x\"", false), (same, true), (after, false), ("junk", false),
                      (etag + ", \"x\"", false)])
    func ifRange(_ value: String, _ holds: Bool) {
        #expect(StaticPreconditions.ifRangeHolds(Array(value.utf8), validators: Self.validators,
                                                 parseDate: { $0.withUnsafeBytes { HTTPDate.parse($0) } }) == holds)
    }

    @Test(arguments: [
        ("bytes=0-0", StaticRangeRequest.partial(0...0)), ("bytes=10-19", .partial(10...19)), ("bytes=-5", .partial(95...99)),
        ("bytes=90-", .partial(90...99)), ("bytes=50-500", .partial(50...99)), ("bytes=-500", .partial(0...99)),
        ("BYTES=1-2", .partial(1...2)), ("bytes= 3-4 ", .partial(3...4)),
        ("bytes=100-", .unsatisfiable), ("bytes=-0", .unsatisfiable), ("bytes=100-200", .unsatisfiable),
        ("bytes=0-1,5-6", .whole), ("bytes=5-1", .whole), ("bytes=a-b", .whole), ("items=0-1", .whole), ("bytes=", .whole),
        ("bytes=1", .whole), ("bytes=99999999999999999999-", .whole),
    ])
    func range(_ value: String, _ want: StaticRangeRequest) {
        #expect(StaticByteRange.evaluate(Array(value.utf8), length: 100) == want)
    }

    @Test func rangeOnEmptyFileIsUnsatisfiable() {
        #expect(StaticByteRange.evaluate(Array("bytes=0-".utf8), length: 0) == .unsatisfiable)
        #expect(StaticByteRange.evaluate(Array("bytes=-1".utf8), length: 0) == .unsatisfiable)
    }

    @Test(arguments: [
        ("gzip", [StaticContentCoding.gzip]), ("br", [.brotli]), ("gzip, br", [.brotli, .gzip]), ("br;q=0.5, gzip", [.gzip, .brotli]),
        ("gzip;q=0", []), ("*", [.brotli, .gzip]), ("*;q=0.2, gzip;q=0.5", [.gzip, .brotli]), ("identity", []), ("", []),
        ("x-gzip", [.gzip]), ("br;q=1.5", []), ("BR ; Q=0.9", [.brotli]),
    ])
    func acceptEncoding(_ value: String, _ want: [StaticContentCoding]) {
        #expect(StaticAcceptEncoding.preferred(Array(value.utf8)) == want)
    }
}
