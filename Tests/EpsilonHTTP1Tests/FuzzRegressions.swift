import EpsilonHTTP1
import Testing

/// Inputs the libFuzzer harnesses (Fuzz/) found, each kept here so the bug cannot come back
/// unnoticed. The name says which harness found it; the comment says what was wrong.
@Suite struct FuzzRegressions {
    /// How a regression input is fed: whole, in a few pieces, or one byte at a time.
    enum Feeding: CaseIterable, Sendable {
        case whole, pieces, byteByByte
        func cuts(_ count: Int, _ pieces: [Int]) -> [Int] {
            switch self {
            case .whole: []
            case .pieces: pieces.filter { $0 < count }
            case .byteByByte: Array(1..<count)
            }
        }
    }

    /// HTTP1SplitInvariance: with `maxHeadBytes` 200, a 236-byte method followed by a bad
    /// byte failed with `expectedSpaceAfterMethod at 236` when the stream came whole, but with
    /// `headTooLarge at 200` when it came in pieces (the partial head crossed the limit
    /// first). The parser now looks no further than one byte past the limit, so both fail
    /// with `headTooLarge at 200`.
    @Test(arguments: Feeding.allCases)
    func headLimitWinsOverAByteBeyondIt(feeding: Feeding) {
        var configuration = HTTP1Configuration()
        configuration.maxHeadBytes = 200
        let input = bytes(String(repeating: "i", count: 115) + String(repeating: "#", count: 121)) + [0xF6]
        let outcome = parse(input, configuration: configuration, cuts: feeding.cuts(input.count, [106, 212]))
        #expect(outcome.events.isEmpty)
        #expect(outcome.error == HTTP1ParseError(.headTooLarge, at: 200))
    }

    /// The same rule for a response head whose reason phrase runs past the limit into a bad
    /// byte, and for a trailer section.
    @Test(arguments: Feeding.allCases)
    func headLimitIsTheSameWholeOrSplitForResponsesAndTrailers(feeding: Feeding) {
        var configuration = HTTP1Configuration()
        configuration.maxHeadBytes = 200
        let response = bytes("HTTP/1.1 200 " + String(repeating: "r", count: 220)) + [0x01]
        #expect(parse(response, role: .response, configuration: configuration, cuts: feeding.cuts(response.count, [50, 150])).error
                == HTTP1ParseError(.headTooLarge, at: 200))

        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
        let trailers = bytes(head + "X: " + String(repeating: "t", count: 210) + "\u{1}")
        let outcome = parse(trailers, configuration: configuration, cuts: feeding.cuts(trailers.count, [70, 150]))
        #expect(outcome.error == HTTP1ParseError(.headTooLarge, at: head.utf8.count + 200))
    }

    /// A head that ends exactly at the limit is still accepted, whole or byte by byte.
    @Test(arguments: [false, true])
    func headOfExactlyTheLimitParses(byteByByte: Bool) {
        let input = bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        var configuration = HTTP1Configuration()
        configuration.maxHeadBytes = input.count
        let outcome = parse(input, configuration: configuration, cuts: byteByByte ? Array(1..<input.count) : [])
        #expect(outcome.error == nil)
        #expect(outcome.events.last == .end)
        configuration.maxHeadBytes = input.count - 1
        #expect(parse(input, configuration: configuration).error == HTTP1ParseError(.headTooLarge, at: input.count - 1))
    }

    /// HTTP1SerializerRoundTrip: a version with a number above 9 trapped (UInt8 overflow
    /// writing `0x30 + major`). The serializer now throws `invalidVersion` and leaves the
    /// buffer as it was.
    @Test(arguments: [HTTP1Version(major: 250, minor: 0), HTTP1Version(major: 1, minor: 10), HTTP1Version(major: 255, minor: 255)])
    func serializerRejectsVersionsThatAreNotOneDigit(version: HTTP1Version) {
        var out: [UInt8] = Array("kept".utf8)
        #expect(throws: HTTP1SerializeError.invalidVersion) {
            try HTTP1Serializer.writeStatusLine(status: 200, reason: "OK", version: version, into: &out)
        }
        #expect(throws: HTTP1SerializeError.invalidVersion) {
            try HTTP1Serializer.writeRequestLine(method: "GET", target: "/", version: version, into: &out)
        }
        #expect(out == Array("kept".utf8))
    }

    /// Single-digit versions other than 1.x are still written (a client may probe with them).
    @Test func serializerWritesAnySingleDigitVersion() throws {
        var out: [UInt8] = []
        try HTTP1Serializer.writeStatusLine(status: 200, reason: "", version: HTTP1Version(major: 9, minor: 9), into: &out)
        #expect(out == Array("HTTP/9.9 200 \r\n".utf8))
    }

    /// HTTP1SplitInvariance: a response body read until close, with `maxBodyBytes` 300,
    /// failed at once at its first byte when it came whole (`bodyTooLarge at 20`), but after
    /// 300 body bytes when it came in pieces (`bodyTooLarge at 320`). Now both hand out the
    /// 300 bytes allowed and fail at the first byte past them.
    @Test(arguments: Feeding.allCases)
    func bodyUntilCloseLimitIsTheSameWholeOrSplit(feeding: Feeding) {
        var configuration = HTTP1Configuration()
        configuration.maxBodyBytes = 300
        let head = "HTTP/1.1 200 OKz\r\n\r\n"
        let input = bytes(head + String(repeating: "b", count: 330))
        let outcome = parse(input, role: .response, configuration: configuration, cuts: feeding.cuts(input.count, [21, 22, 23]))
        #expect(outcome.events.count == 2)
        #expect(outcome.events.last == .body(String(repeating: "b", count: 300)))
        #expect(outcome.error == HTTP1ParseError(.bodyTooLarge, at: head.utf8.count + 300))
    }

    /// A body read until close that stays within the limit ends normally.
    @Test func bodyUntilCloseWithinTheLimitEnds() {
        var configuration = HTTP1Configuration()
        configuration.maxBodyBytes = 5
        let outcome = parse(bytes("HTTP/1.1 200 OK\r\n\r\nhello"), role: .response, configuration: configuration, finish: true)
        #expect(outcome.error == nil)
        #expect(outcome.events.suffix(2) == [.body("hello"), .end])
    }

    /// The chunk-size line limit, like the head limit, wins over a bad byte beyond it.
    @Test(arguments: Feeding.allCases)
    func chunkLineLimitWinsOverAByteBeyondIt(feeding: Feeding) {
        var configuration = HTTP1Configuration()
        configuration.maxChunkLineBytes = 24
        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        let input = bytes(head + "1;" + String(repeating: "e", count: 40) + "\u{1}\r\n")
        let outcome = parse(input, configuration: configuration, cuts: feeding.cuts(input.count, [70, 80]))
        #expect(outcome.error == HTTP1ParseError(.chunkLineTooLong, at: head.utf8.count + 24))
    }
}
