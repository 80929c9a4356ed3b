import EpsilonHTTP1
import Testing

/// The request-smuggling vectors: each is rejected by the strict default, and the one flag
/// that relaxes its rule changes exactly that.
@Suite struct RFC9112_RequestSmuggling {
    func strict(_ raw: String) -> HTTP1ParseError.Rule? {
        parse(bytes(raw)).error?.rule
    }

    func lenient(_ raw: String, _ flags: HTTP1Leniencies) -> ParseOutcome {
        parse(bytes(raw), configuration: HTTP1Configuration(leniencies: flags))
    }

    // RFC 9112 §6.3 ¶3
    @Test func rejectsTransferEncodingWithContentLength() {
        let raw = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        #expect(strict(raw) == .contentLengthWithTransferEncoding)
        let relaxed = lenient(raw, .contentLengthWithTransferEncoding)
        #expect(relaxed.error == nil)
        guard case .head(_, _, let framing, _, _)? = relaxed.events.first else { Issue.record("no head"); return }
        #expect(framing == .chunked, "Transfer-Encoding wins over Content-Length")
    }

    // RFC 9110 §8.6
    @Test func rejectsDifferingContentLengths() {
        let raw = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"
        #expect(strict(raw) == .conflictingContentLength)
        #expect(lenient(raw, .repeatedContentLength).error?.rule == .conflictingContentLength,
                "differing values stay fatal even when equal repeats are allowed")
    }

    @Test func rejectsRepeatedEqualContentLengthUnlessAllowed() {
        let raw = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc"
        #expect(strict(raw) == .invalidContentLength)
        #expect(lenient(raw, .repeatedContentLength).events.contains(.body("abc")))
    }

    @Test(arguments: ["+3", "-3", "3a", "", "0x3", "3 3", "99999999999999999999999"])
    func rejectsMalformedContentLength(_ value: String) {
        let raw = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \(value)\r\n\r\nabc"
        #expect(strict(raw) == .invalidContentLength)
    }

    // RFC 9112 §6.3 ¶4
    @Test func rejectsRequestWhoseLastTransferCodingIsNotChunked() {
        let raw = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nabc"
        #expect(strict(raw) == .transferEncodingNotChunked)
        let relaxed = lenient(raw, .transferEncodingNotChunked)
        guard case .head(_, _, let framing, let keepAlive, _)? = relaxed.events.first else { Issue.record("no head"); return }
        #expect(framing == .untilClose)
        #expect(!keepAlive)
    }

    // RFC 9112 §6.1: chunked only once, and last.
    @Test func rejectsChunkedBeforeAnotherCoding() {
        let raw = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
        #expect(strict(raw) == .invalidTransferEncoding)
        #expect(lenient(raw, .transferEncodingNotChunked).error == nil)
    }

    @Test func rejectsChunkedTwice() {
        let raw = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
        #expect(strict(raw) == .invalidTransferEncoding)
    }

    // RFC 9112 §5.2
    @Test func rejectsObsoleteLineFolding() {
        let raw = "GET / HTTP/1.1\r\nHost: a\r\nX: one\r\n two\r\n\r\n"
        #expect(strict(raw) == .obsoleteLineFolding)
        let relaxed = lenient(raw, .obsoleteLineFolding)
        guard case .head(_, let fields, _, _, _)? = relaxed.events.first else { Issue.record("no head"); return }
        #expect(fields.last == "X: one\r\n two", "the folded value is handed out raw")
    }

    // RFC 9112 §2.2
    @Test func rejectsBareLF() {
        let raw = "GET / HTTP/1.1\nHost: a\n\n"
        #expect(strict(raw) == .bareLF)
        #expect(lenient(raw, .bareLF).events.last == .end)
    }

    @Test func rejectsBareCR() {
        let raw = "GET / HTTP/1.1\rHost: a\r\n\r\n"
        #expect(strict(raw) == .bareCR)
        #expect(lenient(raw, .bareCR).events.last == .end)
        #expect(strict("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n") == .bareCR, "a CR inside a value")
    }

    // RFC 9112 §5.1
    @Test func rejectsWhitespaceBetweenNameAndColon() {
        let raw = "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n"
        #expect(strict(raw) == .whitespaceBeforeColon)
        #expect(lenient(raw, .whitespaceBeforeColon).error == nil)
    }

    // RFC 9110 §5.5
    @Test func rejectsControlBytesInValues() {
        let raw = "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{0C}b\r\n\r\n"
        #expect(strict(raw) == .invalidFieldValue)
        #expect(lenient(raw, .controlBytesInValues).error == nil)
        let nul = "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{00}b\r\n\r\n"
        #expect(lenient(nul, .all).error?.rule == .invalidFieldValue, "NUL is never accepted")
    }

    // RFC 9110 §9.1 and §5.1
    @Test(arguments: ["G(T", "GE\u{7F}T", "G\u{00}ET", "GET\t"])
    func rejectsInvalidMethodBytes(_ method: String) {
        let reason = strict("\(method) / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(reason == .invalidMethod || reason == .expectedSpaceAfterMethod)
    }

    @Test(arguments: ["X(Y", "X/Y", "X\"Y", "X@Y", "{X}"])
    func rejectsInvalidFieldNameBytes(_ name: String) {
        #expect(strict("GET / HTTP/1.1\r\nHost: a\r\n\(name): v\r\n\r\n") == .invalidFieldName)
    }

    // RFC 9112 §7.1
    @Test func rejectsChunkSizeOverflow() {
        let raw = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\n"
        #expect(strict(raw) == .invalidChunkSize)
        #expect(strict("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n") == .invalidChunkSize)
    }

    // RFC 9112 §3.2
    @Test func rejectsMissingOrDuplicateHostInHTTP11() {
        #expect(strict("GET / HTTP/1.1\r\n\r\n") == .missingOrDuplicateHost)
        #expect(strict("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == .missingOrDuplicateHost)
        #expect(strict("GET / HTTP/1.0\r\n\r\n") == nil, "HTTP/1.0 has no Host requirement")
        #expect(lenient("GET / HTTP/1.1\r\n\r\n", .missingHost).events.last == .end)
    }

    @Test func rejectsInvalidChunkExtension() {
        let raw = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;a=\"x\r\nA\r\n0\r\n\r\n"
        #expect(strict(raw) == .invalidChunkExtension)
    }

    @Test func rejectsSpaceAfterChunkSizeUnlessAllowed() {
        let raw = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1 \r\nA\r\n0\r\n\r\n"
        #expect(strict(raw) == .invalidChunkSize)
        #expect(lenient(raw, .whitespaceAfterChunkSize).events.contains(.body("A")))
    }

    @Test func rejectsChunkDataWithoutCRLF() {
        let raw = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nAB\r\n0\r\n\r\n"
        #expect(strict(raw) == .missingCRLFAfterChunk)
    }

    @Test func rejectsDataAfterConnectionClose() {
        let raw = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"
        #expect(strict(raw) == .dataAfterClose)
        let relaxed = lenient(raw, .dataAfterClose)
        #expect(relaxed.error == nil)
        #expect(relaxed.events.filter { if case .head = $0 { true } else { false } }.count == 1,
                "what follows a closing message is discarded, never parsed as a request")
    }
}
