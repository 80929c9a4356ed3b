@_spi(EpsilonInternal) import EpsilonBytes
import EpsilonHTTP1
import Testing

/// Records `receive`'s events in the form `parse(_:...)` (ParsedMessage.swift) records them.
struct SeenRecorder: HTTP1EventHandler {
    var outcome = ParseOutcome()

    mutating func handle(_ event: HTTP1Event, bytes b: UnsafeRawBufferPointer, fields: [HTTP1Field]) throws(HTTP1ParseError) {
        let seen: Seen
        switch event {
        case .needMoreData: return
        case .head(let head):
            let start = head.isRequest
                ? "\(text(b, head.method)) \(text(b, head.target)) \(head.version)"
                : "\(head.version) \(head.status) \(text(b, head.reason))"
            seen = .head(start: start, fields: fields.map { "\(text(b, $0.name)): \(text(b, $0.value))" },
                         framing: head.framing, keepAlive: head.keepAlive, upgrade: head.upgrade)
        case .expectContinue: seen = .expectContinue
        case .body(let r): seen = .body(text(b, r))
        case .chunkHeader(let size, let ext): seen = .chunk(size: size, extensions: text(b, ext))
        case .chunkEnd: seen = .chunkEnd
        case .trailers: seen = .trailers(fields.map { "\(text(b, $0.name)): \(text(b, $0.value))" })
        case .end: seen = .end
        case .upgrade: seen = .upgrade
        }
        if case .body(let more) = seen, case .body(let previous)? = outcome.events.last {
            outcome.events[outcome.events.count - 1] = .body(previous + more)
        } else {
            outcome.events.append(seen)
        }
    }
}

/// `receive` delivers body pieces, plain chunk lines, chunk ends and message ends without a
/// `parse` call: it must give exactly `parse`'s events, errors and offsets, however the
/// stream is split, and leave the parser as `parse` does (failed after an error).
@Suite struct HTTP1ReceiveFastPaths {
    static func receiveOutcome(_ input: [UInt8], role: HTTP1Parser.Role, configuration: HTTP1Configuration,
                               cuts: [Int]) -> ParseOutcome {
        var parser = HTTP1Parser(role: role, configuration: configuration)
        var recorder = SeenRecorder()
        var pending: [UInt8] = []
        var start = 0
        for end in cuts + [input.count] where end >= start {
            pending += input[start..<end]
            start = end
            do throws(HTTP1ParseError) {
                let consumed = try pending.withBytes { (b) throws(HTTP1ParseError) -> Int in try parser.receive(b, handler: &recorder) }
                pending.removeFirst(consumed)
            } catch {
                recorder.outcome.error = error
                // Failed for good, as after `parse`.
                let again = pending.withUnsafeBytes { b -> HTTP1ParseError? in
                    do throws(HTTP1ParseError) { _ = try parser.parse(b); return nil } catch { return error }
                }
                #expect(again == error)
                break
            }
            if recorder.outcome.events.last == .upgrade { break }
        }
        return recorder.outcome
    }

    static let limitedBody: HTTP1Configuration = {
        var configuration = HTTP1Configuration()
        configuration.maxBodyBytes = 8
        return configuration
    }()

    static let inputs: [(String, HTTP1Parser.Role, HTTP1Configuration)] = [
        ("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nHost: h\r\n\r\n"
            + "PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX: y\r\n\r\n",
         .request, HTTP1Configuration()),
        ("PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n",
         .request, HTTP1Configuration()),
        ("POST /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nokGET / HTTP/1.1\r\nHost: h\r\n\r\n",
         .request, HTTP1Configuration()),
        ("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
         .response, HTTP1Configuration()),
        // Errors in the fast paths' states: a bad chunk end, a chunk over the body limit, a
        // chunk line of 16 digits (the general path), a bare LF after chunk data.
        ("PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX0\r\n\r\n", .request, HTTP1Configuration()),
        ("PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n8\r\n12345678\r\n0\r\n\r\n",
         .request, limitedBody),
        ("PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0000000000000003\r\nabc\r\n0\r\n\r\n", .request, HTTP1Configuration()),
        ("PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n", .request, HTTP1Configuration()),
        ("PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n", .request,
         HTTP1Configuration(leniencies: [.bareLF])),
    ]

    @Test(arguments: 0..<inputs.count)
    func receiveGivesParsesEventsAtEverySplit(_ index: Int) {
        let (raw, role, configuration) = Self.inputs[index]
        let input = bytes(raw)
        let expected = parse(input, role: role, configuration: configuration)
        #expect(Self.receiveOutcome(input, role: role, configuration: configuration, cuts: []) == expected)
        for cut in 0...input.count {
            #expect(Self.receiveOutcome(input, role: role, configuration: configuration, cuts: [cut]) == expected, "cut at \(cut)")
        }
        #expect(Self.receiveOutcome(input, role: role, configuration: configuration, cuts: Array(0..<input.count)) == expected,
                "byte by byte")
    }
}
