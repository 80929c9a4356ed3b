import EpsilonHTTP1
import Testing

/// RFC 9112 §2.2: empty lines before a request-line are skipped, and the request that follows
/// them is parsed in the same call (issue 13: a leading CRLF stalled a caller that waits for
/// more data on `needMoreData`).
@Suite struct RFC9112_2_2_LeadingEmptyLines {
    /// Feeds `input` in two pieces split at `cut`, like a strict caller: after each piece it
    /// parses until the first `needMoreData` (whatever it consumed) and only then reads on.
    /// Returns the events and the bytes left unconsumed at the end.
    static func strictCaller(_ input: [UInt8], cut: Int, role: HTTP1Parser.Role = .request) throws -> ([String], Int) {
        var parser = HTTP1Parser(role: role)
        var pending: [UInt8] = []
        var events: [String] = []
        for piece in [input[..<cut], input[cut...]] {
            pending += piece
            let consumed: Int = try pending.withUnsafeBytes { (b: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> Int in
                var offset = 0
                while true {
                    let step = try parser.parse(UnsafeRawBufferPointer(rebasing: b[offset...]))
                    let rest = UnsafeRawBufferPointer(rebasing: b[offset...])
                    offset += step.consumed
                    switch step.event {
                    case .needMoreData: return offset
                    case .head(let head):
                        let start = head.isRequest ? text(rest, head.method) + " " + text(rest, head.target) : "\(head.status)"
                        events.append("head \(start) " + parser.fields.map { text(rest, $0.name) + "=" + text(rest, $0.value) }.joined(separator: ","))
                    case .body(let range):
                        // Body pieces follow the split: merge them.
                        if let last = events.last, last.hasPrefix("body ") {
                            events[events.count - 1] = last + text(rest, range)
                        } else {
                            events.append("body " + text(rest, range))
                        }
                    case .end: events.append("end")
                    default: events.append("\(step.event)")
                    }
                }
            }
            pending.removeFirst(consumed)
        }
        return (events, pending.count)
    }

    /// Streams and how many requests each holds.
    static let requests: [(String, Int)] = [
        ("\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n", 1),
        ("\r\n\r\n\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n", 1),
        ("GET /a HTTP/1.1\r\nHost: h\r\n\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n", 2),
        ("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n", 2),
    ]

    @Test(arguments: requests)
    func parsesTheRequestAfterEmptyLinesAtEverySplit(_ raw: String, requests: Int) throws {
        let input = bytes(raw)
        let (whole, left) = try Self.strictCaller(input, cut: input.count)
        #expect(left == 0)
        #expect(whole.filter { $0 == "end" }.count == requests)
        for cut in 0...input.count {
            let (events, rest) = try Self.strictCaller(input, cut: cut)
            #expect(events == whole, "split at \(cut)")
            #expect(rest == 0, "split at \(cut)")
        }
    }

    @Test func reportsTheHeadsFieldsAsRangesIntoTheCallersBuffer() throws {
        let (events, _) = try Self.strictCaller(bytes("\r\n\r\nGET /x HTTP/1.1\r\nHost: example\r\nA: b\r\n\r\n"), cut: 0)
        #expect(events == ["head GET /x Host=example,A=b", "end"])
    }

    @Test func parsesAResponseAfterEmptyLinesInTheSameCall() throws {
        let raw = bytes("\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
        var parser = HTTP1Parser(role: .response)
        let step = try raw.withUnsafeBytes { (b: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> HTTP1Step in try parser.parse(b) }
        guard case .head(let head) = step.event else {
            Issue.record("expected a head, got \(step.event)")
            return
        }
        #expect(head.status == 200)
        #expect(head.reason == 15..<17)
        #expect(step.consumed == raw.count - 2)
    }

    @Test func errorOffsetsCountTheSkippedBytes() {
        let outcome = parse(bytes("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n"))
        #expect(outcome.error == HTTP1ParseError(.whitespaceBeforeColon, at: 4 + 16 + 9 + 3))
    }
}
