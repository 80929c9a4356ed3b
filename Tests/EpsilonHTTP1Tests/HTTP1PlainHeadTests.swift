@_spi(EpsilonInternal) import EpsilonBytes
import EpsilonHTTP1
import Testing

/// Records `receive`'s events whole: every part of a head (flags, length, expectsContinue
/// included) and its field ranges.
private struct WholeRecorder: HTTP1EventHandler {
    var events: [HTTP1Event] = []
    var heads: [[HTTP1Field]] = []

    mutating func handle(_ event: HTTP1Event, bytes: UnsafeRawBufferPointer, fields: [HTTP1Field]) throws(HTTP1ParseError) {
        events.append(event)
        if case .head = event { heads.append(fields) }
    }
}

/// What one way of driving a parser over a whole input produced.
private struct WholeOutcome: Equatable {
    var events: [HTTP1Event] = []
    var heads: [[HTTP1Field]] = []
    var error: HTTP1ParseError?
    var consumed = 0
    var finish: Result<HTTP1Event?, HTTP1ParseError>?
    var idle = false
}

/// `receive` takes a whole plain head (strict, HTTP/1.1, framed by Content-Length, chunked or
/// nothing) in one pass and leaves every other head to `parse`: the events, every part of the
/// heads, the fields, errors, offsets and the parser's state afterwards must be `parse`'s,
/// for heads on the plain path and for every way off it, however the bytes are split.
@Suite struct HTTP1PlainHeadTests {
    static let small: HTTP1Configuration = {
        var configuration = HTTP1Configuration()
        configuration.maxFieldCount = 5
        configuration.maxBodyBytes = 8
        configuration.maxTargetBytes = 4
        return configuration
    }()

    static func headLimit(_ n: Int) -> HTTP1Configuration {
        var configuration = HTTP1Configuration()
        configuration.maxHeadBytes = n
        return configuration
    }

    static let manyFields = (0..<40).map { "X-Field-\($0): value \($0)\r\n" }.joined()

    static let requests: [(String, HTTP1Configuration)] = [
        ("GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nhost: h\r\nAccept: */*\r\n\r\n", HTTP1Configuration()),
        ("POST /x HTTP/1.1\r\nHOST: h\r\nContent-Length: 0\r\n\r\nPOST /y HTTP/1.1\r\nHost: h\r\ncontent-LENGTH: 007\r\n\r\n1234567",
         HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: h\r\nConnection: Keep-Alive\r\nConnection: CLOSE\r\n\r\n", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: h\r\nConnection: close, keep-alive\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n",
         HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: h\r\nConnection: clos\r\nConnection: keep-alivE\r\nConnection: closed\r\n\r\n", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", HTTP1Configuration()),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP1Configuration()),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
            + "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: CHUNKED\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         HTTP1Configuration()),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"
            + "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", HTTP1Configuration()),
        ("CONNECT h:1 HTTP/1.1\r\nHost: h:1\r\n\r\ntunnel", HTTP1Configuration()),
        ("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\nDELETE /x HTTP/1.1\r\nHost: h\r\n\r\n", HTTP1Configuration()),
        ("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: h\r\nX:\t a\tb \t\r\nY:\r\nZ:  \r\n\r\n", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: h\r\nX: a\u{1}b\r\n\r\n", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: h\r\nX: a\u{7F}b\r\n\r\n", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost : h\r\n\r\n", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", HTTP1Configuration(leniencies: [.obsoleteLineFolding])),
        ("GET / HTTP/1.1\r\nHost: h\nX: a\r\n\r\n", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: h\r\n\n", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: h\r\n\r\r\n", HTTP1Configuration()),
        ("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP1Configuration()),
        ("GET /\u{7F} HTTP/1.1\r\nHost: h\r\n\r\n", HTTP1Configuration()),
        ("GET / HTTP/1.2\r\nHost: h\r\n\r\n", HTTP1Configuration()),
        ("GET / http/1.1\r\nHost: h\r\n\r\n", HTTP1Configuration()),
        ("GET / HTTP/1.1\nHost: h\r\n\r\n", HTTP1Configuration()),
        ("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1234567890123456789\r\n\r\n", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1a\r\n\r\n", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", HTTP1Configuration(leniencies: [.repeatedContentLength])),
        ("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 8\r\n\r\n12345678POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\n123456789", small),
        ("GET /abcd HTTP/1.1\r\nHost: h\r\n\r\nGET /abcde HTTP/1.1\r\nHost: h\r\n\r\n", small),
        ("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", small),
        ("GET / HTTP/1.1\r\nHost: h\r\n" + manyFields + "\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n" + manyFields + "\r\n",
         HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: h\r\n\r\n", headLimit(27)),
        ("GET / HTTP/1.1\r\nHost: h\r\n\r\n", headLimit(26)),
        ("GET / HTTP/1.1\r\nHost: h\r\nX: 1\r\n\r\n", headLimit(20)),
        ("GET / HTTP/1.1\r\nHost: h\r\n\r\n", headLimit(-1)),
        ("POST /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok", HTTP1Configuration()),
        ("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nframes", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: h\r\nUpgradE: x\r\nExpecT: x\r\n\r\n", HTTP1Configuration()),
        ("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHostx: h\r\nHost-: h\r\nHos: h\r\nContent-Lengthy: 5\r\nContent-Lengt: 5\r\nConnection-X: close\r\n"
            + "Connectio: close\r\nTransfer-Encodin: chunked\r\nhost: h\r\n0ost: 1\r\n\r\n", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: h\r\nX-\u{C3}\u{A9}: v\r\n\r\n", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: h\r\nX: caf\u{C3}\u{A9}\r\n\r\n", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP1Configuration(leniencies: [.keepAlive])),
        ("GET / HTTP/1.1\r\nHost: h\r\n\r\nGET", HTTP1Configuration()),
        ("GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\nContent-Le", HTTP1Configuration()),
    ]

    static let responses: [(String, HTTP1Parser.RequestKind)] = [
        ("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"
            + "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", .ordinary),
        ("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", .ordinary),
        ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\nframes", .ordinary),
        ("HTTP/1.1 200 \r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200\r\nContent-Length: 1\r\n\r\ny", .ordinary),
        ("HTTP/1.1 200 caf\u{C3}\u{A9}\tok\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200 bad\u{1}\r\n\r\n", .ordinary),
        ("HTTP/1.1 200 OK\r\nServer: x\r\n\r\nbody until close", .ordinary),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\nhi\r\n0\r\n\r\n", .ordinary),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\nhi\r\n0\r\n\r\n", .ordinary),
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", .head),
        ("HTTP/1.1 200 Connection established\r\n\r\ntunnel", .connect),
        ("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", .ordinary),
        ("HTTP/1.1 099 X\r\n\r\n", .ordinary),
        ("HTTP/1.1 2x0 X\r\n\r\n", .ordinary),
        ("HTTP/1.1 600 Odd\r\nContent-Length: 1\r\n\r\nx", .ordinary),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nyz",
         .ordinary),
    ]

    /// A loop of `parse` calls over the whole input, as a caller of the one-step form drives it.
    private static func parseLoop(_ input: [UInt8], role: HTTP1Parser.Role, configuration: HTTP1Configuration,
                                  kind: HTTP1Parser.RequestKind) -> WholeOutcome {
        var parser = HTTP1Parser(role: role, configuration: configuration)
        parser.expectResponse(to: kind)
        var outcome = WholeOutcome()
        input.withUnsafeBytes { whole in
            var offset = 0
            while true {
                let rest = UnsafeRawBufferPointer(rebasing: whole[offset...])
                do throws(HTTP1ParseError) {
                    let step = try parser.parse(rest)
                    offset += step.consumed
                    if step.event == .needMoreData { break }
                    outcome.events.append(step.event)
                    if case .head = step.event { outcome.heads.append(parser.fields) }
                    if step.event == .upgrade { break }
                } catch {
                    outcome.error = error
                    break
                }
            }
        }
        outcome.consumed = parser.consumedBytes
        outcome.idle = parser.isIdle
        outcome.finish = Result(catching: { () throws(HTTP1ParseError) -> HTTP1Event? in try parser.finish() })
        return outcome
    }

    private static func receiveWhole(_ input: [UInt8], role: HTTP1Parser.Role, configuration: HTTP1Configuration,
                                     kind: HTTP1Parser.RequestKind) -> WholeOutcome {
        var parser = HTTP1Parser(role: role, configuration: configuration)
        parser.expectResponse(to: kind)
        var recorder = WholeRecorder()
        var outcome = WholeOutcome()
        do throws(HTTP1ParseError) {
            _ = try input.withBytes { (b) throws(HTTP1ParseError) -> Int in try parser.receive(b, handler: &recorder) }
        } catch {
            outcome.error = error
        }
        outcome.events = recorder.events
        outcome.heads = recorder.heads
        outcome.consumed = parser.consumedBytes
        outcome.idle = parser.isIdle
        outcome.finish = Result(catching: { () throws(HTTP1ParseError) -> HTTP1Event? in try parser.finish() })
        return outcome
    }

    private static func check(_ raw: String, role: HTTP1Parser.Role, configuration: HTTP1Configuration,
                              kind: HTTP1Parser.RequestKind) {
        let input = Array(raw.utf8)
        #expect(receiveWhole(input, role: role, configuration: configuration, kind: kind)
                == parseLoop(input, role: role, configuration: configuration, kind: kind), "\(raw.debugDescription)")
        // Every split (kind: ordinary only; the split driver does not set it).
        guard kind == .ordinary else { return }
        let expected = parse(input, role: role, configuration: configuration)
        for cut in 0...input.count {
            #expect(HTTP1ReceiveFastPaths.receiveOutcome(input, role: role, configuration: configuration, cuts: [cut]) == expected,
                    "\(raw.debugDescription) cut at \(cut)")
        }
        #expect(HTTP1ReceiveFastPaths.receiveOutcome(input, role: role, configuration: configuration, cuts: Array(0..<input.count))
                == expected, "\(raw.debugDescription) byte by byte")
    }

    @Test(arguments: 0..<requests.count)
    func requestHeadsAsParseGivesThem(_ index: Int) {
        let (raw, configuration) = Self.requests[index]
        Self.check(raw, role: .request, configuration: configuration, kind: .ordinary)
    }

    @Test(arguments: 0..<responses.count)
    func responseHeadsAsParseGivesThem(_ index: Int) {
        let (raw, kind) = Self.responses[index]
        Self.check(raw, role: .response, configuration: HTTP1Configuration(), kind: kind)
    }

    /// A head whose plain scan is given up after its fields were stored keeps no trace: the
    /// next head's fields are exactly its own.
    @Test func fieldsAfterAHeadLeftToParse() {
        let input = Array(("GET / HTTP/1.1\r\nHost: h\r\n" + Self.manyFields + "X: a\r\n b\r\n\r\n"
            + "GET / HTTP/1.1\r\nHost: h\r\n\r\n").utf8)
        let configuration = HTTP1Configuration(leniencies: [.obsoleteLineFolding])
        #expect(Self.receiveWhole(input, role: .request, configuration: configuration, kind: .ordinary)
                == Self.parseLoop(input, role: .request, configuration: configuration, kind: .ordinary))
    }
}
