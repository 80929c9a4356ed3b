import EpsilonHTTP1
import Testing

/// The whole-head fast path (plain field lines scanned straight, fields written over the last
/// head's, framing fields told apart by length and first byte) gives what the line-by-line
/// path gives, however the stream is split.
@Suite struct HTTP1FastPath {
    /// Every single cut and a byte-by-byte feed give the events of the whole buffer.
    func expectSplitInvariant(_ raw: String, configuration: HTTP1Configuration = HTTP1Configuration(),
                              sourceLocation: SourceLocation = #_sourceLocation) -> ParseOutcome {
        let input = bytes(raw)
        let whole = parse(input, configuration: configuration)
        for cut in 1..<input.count {
            #expect(parse(input, configuration: configuration, cuts: [cut]) == whole, "cut at \(cut)",
                    sourceLocation: sourceLocation)
        }
        #expect(parse(input, configuration: configuration, cuts: Array(1..<input.count)) == whole, "byte by byte",
                sourceLocation: sourceLocation)
        return whole
    }

    @Test func fieldCountsThatGrowAndShrinkAcrossMessagesOnOneParser() {
        let raw = "GET /1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\nX-One: 1\r\nX-Two: 2\r\n\r\n"
            + "GET /2 HTTP/1.1\r\nHost: b\r\n\r\n"
            + "GET /3 HTTP/1.1\r\nHost: c\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n"
            + "GET /4 HTTP/1.1\r\nX: y\r\nHost: d\r\n\r\n"
        let outcome = expectSplitInvariant(raw)
        #expect(outcome.error == nil)
        #expect(outcome.events == [
            .head(start: "GET /1 HTTP/1.1", fields: ["Host: a", "Accept: */*", "X-One: 1", "X-Two: 2"], framing: .none, keepAlive: true, upgrade: false),
            .end,
            .head(start: "GET /2 HTTP/1.1", fields: ["Host: b"], framing: .none, keepAlive: true, upgrade: false),
            .end,
            .head(start: "GET /3 HTTP/1.1", fields: ["Host: c", "A: 1", "B: 2", "C: 3", "D: 4", "E: 5"], framing: .none, keepAlive: true, upgrade: false),
            .end,
            .head(start: "GET /4 HTTP/1.1", fields: ["X: y", "Host: d"], framing: .none, keepAlive: true, upgrade: false),
            .end,
        ])
    }

    @Test func plainAndLenientLinesMixedInOneHead() {
        // A tab inside a value and trailing whitespace stay on the fast path; the fold, the
        // space before a colon and the control byte go line by line, then the fast path resumes.
        let raw = "POST /x HTTP/1.1\r\nHost: h\r\nA: one\ttwo  \r\nFolded: first\r\n  second\r\nB : 2\r\n"
            + "C: \u{01}c\r\nContent-Length: 3\r\nD: d\r\n\r\nabc"
        let lenient = HTTP1Configuration(leniencies: [.obsoleteLineFolding, .whitespaceBeforeColon, .controlBytesInValues])
        let outcome = expectSplitInvariant(raw, configuration: lenient)
        #expect(outcome.error == nil)
        #expect(outcome.events == [
            .head(start: "POST /x HTTP/1.1",
                  fields: ["Host: h", "A: one\ttwo", "Folded: first\r\n  second", "B: 2", "C: \u{01}c", "Content-Length: 3", "D: d"],
                  framing: .contentLength(3), keepAlive: true, upgrade: false),
            .body("abc"), .end,
        ])
        // Strict, the fold is reported where it starts, as before.
        let strict = expectSplitInvariant(raw)
        #expect(strict.error == HTTP1ParseError(.obsoleteLineFolding, at: 56))
    }

    @Test func framingFieldsPastTheSixtyThirdAreRead() {
        var raw = "POST /many HTTP/1.1\r\nHost: h\r\n"
        for k in 0..<70 { raw += "X-\(k): \(k)\r\n" }
        raw += "Content-Length: 2\r\nConnection: close\r\n\r\nok"
        let outcome = expectSplitInvariant(raw)
        #expect(outcome.error == nil)
        guard case .head(_, let fields, let framing, let keepAlive, _)? = outcome.events.first else {
            Issue.record("no head: \(outcome)")
            return
        }
        #expect(fields.count == 73)
        #expect(framing == .contentLength(2))
        #expect(keepAlive == false)
        #expect(Array(outcome.events.dropFirst()) == [.body("ok"), .end])
    }

    @Test func namesThatOnlyLookLikeFramingFieldsAreNotTaken() {
        // Same length and first byte as Host, Content-Length and Transfer-Encoding.
        let raw = "POST / HTTP/1.1\r\nHxst: h\r\nContent-Lengtx: 5\r\nTransfer-Encodinx: chunked\r\nHost: h\r\n\r\n"
        let outcome = expectSplitInvariant(raw)
        #expect(outcome.error == nil)
        #expect(outcome.events.count == 2)
        if case .head(_, _, let framing, _, _)? = outcome.events.first { #expect(framing == .none) }
        let missingHost = expectSplitInvariant("GET / HTTP/1.1\r\nHxst: h\r\n\r\n")
        #expect(missingHost.error?.rule == .missingOrDuplicateHost)
    }

    @Test func uppercaseFramingValuesAreRecognised() {
        let raw = "POST / HTTP/1.1\r\nHOST: h\r\nTRANSFER-ENCODING: CHUNKED\r\nCONNECTION: KEEP-ALIVE\r\n\r\n"
            + "3\r\nabc\r\n0\r\n\r\n"
        let outcome = expectSplitInvariant(raw)
        #expect(outcome.error == nil)
        #expect(Array(outcome.events.dropFirst()) == [
            .chunk(size: 3, extensions: ""), .body("abc"), .chunkEnd, .chunk(size: 0, extensions: ""), .chunkEnd, .end,
        ])
    }
}
