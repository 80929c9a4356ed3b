@_spi(EpsilonInternal) import EpsilonBytes
import EpsilonHTTP1
import Testing

/// Records what `receive` delivers, as owned text.
struct RecordingHandler: HTTP1EventHandler {
    var events: [String] = []

    mutating func handle(_ event: HTTP1Event, bytes: UnsafeRawBufferPointer, fields: [HTTP1Field]) throws(HTTP1ParseError) {
        switch event {
        case .head(let head):
            let start = head.isRequest ? text(bytes, head.method) + " " + text(bytes, head.target) : "\(head.status) " + text(bytes, head.reason)
            var names: [String] = []
            for field in fields { names.append(text(bytes, field.name) + "=" + text(bytes, field.value)) }
            events.append("head \(start) [\(names.joined(separator: ","))]")
        case .body(let range):
            if let last = events.last, last.hasPrefix("body ") {
                events[events.count - 1] = last + text(bytes, range)
            } else {
                events.append("body " + text(bytes, range))
            }
        case .chunkHeader(let size, _): events.append("chunk \(size)")
        default: events.append("\(event)")
        }
    }
}

/// Drives `receive` like the contract's loop: keep what was not consumed, append, call again.
func receiveAll(_ input: [UInt8], cuts: [Int], role: HTTP1Parser.Role = .request,
                configuration: HTTP1Configuration = HTTP1Configuration()) throws(HTTP1ParseError) -> (events: [String], leftover: [UInt8]) {
    var parser = HTTP1Parser(role: role, configuration: configuration)
    var handler = RecordingHandler()
    var pending: [UInt8] = []
    var start = 0
    for end in cuts + [input.count] where end >= start {
        pending += input[start..<end]
        start = end
        let consumed = try pending.withBytes { (b) throws(HTTP1ParseError) -> Int in try parser.receive(b, handler: &handler) }
        pending.removeFirst(consumed)
        if handler.events.last == "upgrade" {
            pending += input[start...]
            break
        }
    }
    return (handler.events, pending)
}


@Suite struct HTTP1Receive {
    static let pipelined = bytes(
        "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
        + "GET /b HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n"
        + "\r\nPUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX: y\r\n\r\n")

    @Test func deliversEveryEventOfThePipelineInOneCall() throws {
        var parser = HTTP1Parser(role: .request)
        var handler = RecordingHandler()
        let consumed = try Self.pipelined.withBytes { (b) throws(HTTP1ParseError) -> Int in try parser.receive(b, handler: &handler) }
        #expect(consumed == Self.pipelined.count)
        #expect(handler.events == [
            "head POST /a [Host=h,Content-Length=5]", "body hello", "end",
            "head GET /b [Host=h,Accept=*/*]", "end",
            "head PUT /c [Host=h,Transfer-Encoding=chunked]", "chunk 3", "body abc", "chunkEnd", "chunk 0",
            "trailers", "chunkEnd", "end",
        ])
    }

    @Test func everySplitGivesTheSameEvents() throws {
        let whole = try receiveAll(Self.pipelined, cuts: [])
        for cut in 0...Self.pipelined.count {
            let split = try receiveAll(Self.pipelined, cuts: [cut])
            #expect(split.events == whole.events, "split at \(cut)")
            #expect(split.leftover.isEmpty)
        }
        // Byte by byte.
        let single = try receiveAll(Self.pipelined, cuts: Array(0...Self.pipelined.count))
        #expect(single.events == whole.events)
    }

    @Test func leavesAnIncompleteHeadUnconsumed() throws {
        let input = bytes("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHo")
        var parser = HTTP1Parser(role: .request)
        var handler = RecordingHandler()
        let consumed = try input.withBytes { (b) throws(HTTP1ParseError) -> Int in try parser.receive(b, handler: &handler) }
        #expect(consumed == 28)
        #expect(handler.events == ["head GET /a [Host=h]", "end"])
    }

    @Test func stopsAfterAnUpgradeWithTheNewProtocolsBytesUnconsumed() throws {
        let head = "GET /chat HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
        let input = bytes(head + "\u{1}\u{2}frame")
        var parser = HTTP1Parser(role: .request)
        var handler = RecordingHandler()
        let consumed = try input.withBytes { (b) throws(HTTP1ParseError) -> Int in try parser.receive(b, handler: &handler) }
        #expect(consumed == head.utf8.count)
        #expect(handler.events.suffix(2) == ["end", "upgrade"])
    }

    @Test func rawSpanAndPointerAgree() throws {
        var parser = HTTP1Parser(role: .request)
        var handler = RecordingHandler()
        let consumed = try parser.receive(Self.pipelined.span.bytes, handler: &handler)
        #expect(consumed == Self.pipelined.count)
        #expect(handler.events == (try receiveAll(Self.pipelined, cuts: [])).events)
    }

    @Test func errorsNameRuleOffsetAndSection() {
        var parser = HTTP1Parser(role: .request)
        var handler = RecordingHandler()
        let input = bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")
        #expect(throws: HTTP1ParseError(.contentLengthWithTransferEncoding, at: 42)) {
            _ = try input.withBytes { (b) throws(HTTP1ParseError) -> Int in try parser.receive(b, handler: &handler) }
        }
        let error = HTTP1ParseError(.contentLengthWithTransferEncoding, at: 42)
        #expect(error.rule == .contentLengthWithTransferEncoding)
        #expect(error.section == "RFC 9112 §6.3 ¶3")
        #expect(HTTP1ParseError.Rule.allCases.allSatisfy { !$0.section.isEmpty })
    }
}

/// RFC 9110 §9.3.6: a CONNECT request has no content; what follows its head is tunnel data.
@Suite struct RFC9110_9_3_6_Connect {
    @Test(arguments: ["Content-Length: 10", "Transfer-Encoding: chunked"])
    func strictParserRefusesFramingFieldsOnConnect(_ field: String) {
        let raw = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\(field)\r\n\r\n0123456789"
        let outcome = parse(bytes(raw))
        #expect(outcome.error?.rule == .framingFieldInConnect)
        #expect(outcome.error?.offset == 57 + field.utf8.count - (field.hasPrefix("Content") ? 2 : 7))
        #expect(outcome.error?.section == "RFC 9110 §9.3.6")
    }

    @Test(arguments: ["Content-Length: 10", "Transfer-Encoding: chunked", "Content-Length: 3\r\nTransfer-Encoding: chunked"])
    func lenientParserEndsTheMessageAtTheHeadAndHandsTheRestOver(_ field: String) throws {
        let head = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\(field)\r\n\r\n"
        let input = bytes(head + "0123456789")
        let configuration = HTTP1Configuration(leniencies: .framingFieldsInConnect)
        for cut in 0...input.count {
            let (events, leftover) = try receiveAll(input, cuts: [cut], configuration: configuration)
            #expect(events.count == 3 && events.suffix(2) == ["end", "upgrade"], "split at \(cut)")
            #expect(leftover == bytes("0123456789"), "split at \(cut)")
        }
    }

    @Test func connectWithoutFramingFieldsIsATunnel() throws {
        let head = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
        let (events, leftover) = try receiveAll(bytes(head + "\u{16}\u{3}\u{1}"), cuts: [])
        #expect(events == ["head CONNECT example.com:443 [Host=example.com:443]", "end", "upgrade"])
        #expect(leftover == [0x16, 0x03, 0x01])
    }
}
