@_spi(EpsilonInternal) import EpsilonBytes
import EpsilonHTTP1
import EpsilonMallocCounter
import Testing

/// One event exactly as a handler saw it: piece by piece (body pieces are not merged), every
/// range resolved against the bytes it indexes, and where in the stream those bytes began.
struct ExactEvent: Equatable, CustomStringConvertible {
    var event: String
    /// The stream offset of the first byte of the buffer the event's ranges index.
    var base: Int
    var fields: [String]

    var description: String { "\(event) @\(base) \(fields)" }

    init(_ event: HTTP1Event, bytes b: UnsafeRawBufferPointer, base: Int, fields: [HTTP1Field]) {
        switch event {
        case .head(let head):
            self.event = "head \(text(b, head.method))\(text(b, head.target)) \(head.status) \(text(b, head.reason)) "
                + "\(head.framing) \(head.keepAlive) \(head.length)"
        case .body(let r): self.event = "body \(r) \(text(b, r))"
        case .chunkHeader(let size, let ext): self.event = "chunk \(size) \(ext) \(text(b, ext))"
        default: self.event = "\(event)"
        }
        self.base = base
        switch event {
        case .head, .trailers: self.fields = fields.map { "\(text(b, $0.name)): \(text(b, $0.value))" }
        // Ranges into the buffer of the head's (or trailers') call: compared as they are.
        default: self.fields = fields.map { "\($0.name) \($0.value)" }
        }
    }
}

/// Records `receive`'s events exactly; throws at event number `throwAt`, if given.
struct ExactRecorder: HTTP1EventHandler {
    var events: [ExactEvent] = []
    /// The stream offset of the buffer `receive` was given.
    var bufferBase = 0
    var bufferStart: UnsafeRawPointer?
    var throwAt: Int?

    static let planted = HTTP1ParseError(.unexpectedEndOfStream, at: -1)

    mutating func handle(_ event: HTTP1Event, bytes: UnsafeRawBufferPointer, fields: [HTTP1Field]) throws(HTTP1ParseError) {
        let base = bufferBase + (bytes.baseAddress.map { $0 - bufferStart! } ?? 0)
        events.append(ExactEvent(event, bytes: bytes, base: base, fields: fields))
        if events.count == throwAt { throw Self.planted }
    }
}

struct ExactOutcome: Equatable {
    var events: [ExactEvent] = []
    var error: HTTP1ParseError?
    /// `consumedBytes` after every call.
    var consumed: [Int] = []
}

/// The chunk loop in `receive` (HTTP1Parser+ReceiveChunks.swift) must hand out exactly the
/// events `parse` gives, one by one, with the same ranges into the same bytes, the same
/// fields, errors and offsets, however the stream is split; a handler that throws must leave
/// the parser where that event left it.
@Suite struct HTTP1ChunkLoop {
    /// `parse` step by step, as a caller driving the low-level form would.
    static func parseOutcome(_ input: [UInt8], role: HTTP1Parser.Role, configuration: HTTP1Configuration,
                             cuts: [Int]) -> ExactOutcome {
        var parser = HTTP1Parser(role: role, configuration: configuration)
        var outcome = ExactOutcome()
        var pending: [UInt8] = []
        var pendingBase = 0
        var start = 0
        for end in cuts + [input.count] where end >= start {
            pending += input[start..<end]
            start = end
            var offset = 0
            var stop = false
            while !stop {
                pending.withUnsafeBytes { whole in
                    let rest = UnsafeRawBufferPointer(rebasing: whole[offset...])
                    do throws(HTTP1ParseError) {
                        let step = try parser.parse(rest)
                        if step.event != .needMoreData {
                            outcome.events.append(ExactEvent(step.event, bytes: rest, base: pendingBase + offset,
                                                             fields: parser.fields))
                        }
                        offset += step.consumed
                        stop = step.event == .needMoreData || step.event == .upgrade
                    } catch {
                        outcome.error = error
                        stop = true
                    }
                }
            }
            outcome.consumed.append(parser.consumedBytes)
            if outcome.error != nil || outcome.events.last?.event == "upgrade" { break }
            pending.removeFirst(offset)
            pendingBase += offset
        }
        return outcome
    }

    /// `receive`, keeping the unconsumed bytes like a real caller.
    static func receiveOutcome(_ input: [UInt8], role: HTTP1Parser.Role, configuration: HTTP1Configuration,
                               cuts: [Int]) -> ExactOutcome {
        var parser = HTTP1Parser(role: role, configuration: configuration)
        var recorder = ExactRecorder()
        var outcome = ExactOutcome()
        var pending: [UInt8] = []
        var start = 0
        for end in cuts + [input.count] where end >= start {
            pending += input[start..<end]
            start = end
            do throws(HTTP1ParseError) {
                let consumed = try pending.withBytes { (b) throws(HTTP1ParseError) -> Int in
                    recorder.bufferStart = b.baseAddress
                    return try parser.receive(b, handler: &recorder)
                }
                pending.removeFirst(consumed)
                recorder.bufferBase += consumed
            } catch {
                outcome.error = error
            }
            outcome.consumed.append(parser.consumedBytes)
            if outcome.error != nil || recorder.events.last?.event == "upgrade" { break }
        }
        outcome.events = recorder.events
        return outcome
    }

    static func lenient(_ leniencies: HTTP1Leniencies) -> HTTP1Configuration {
        HTTP1Configuration(leniencies: leniencies)
    }

    static func limited(body: UInt64? = nil, chunkLine: Int? = nil, head: Int? = nil) -> HTTP1Configuration {
        var configuration = HTTP1Configuration()
        configuration.maxBodyBytes = body
        if let chunkLine { configuration.maxChunkLineBytes = chunkLine }
        if let head { configuration.maxHeadBytes = head }
        return configuration
    }

    static let requestHead = "PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
    static let responseHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

    static let inputs: [(String, HTTP1Parser.Role, HTTP1Configuration)] = [
        // Plain chunks of 1, 2 and 3 digits, capitals and small letters, then the next message.
        (responseHead + "1\r\na\r\n1A\r\n" + String(repeating: "x", count: 26) + "\r\nb\r\n0123456789a\r\n0\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", .response, HTTP1Configuration()),
        (requestHead + "10f\r\n" + String(repeating: "y", count: 271) + "\r\n0\r\n\r\n" + requestHead + "3\r\nabc\r\n0\r\n\r\n",
         .request, HTTP1Configuration()),
        // 15 digits (the longest plain line), 16 and more with leading zeros (the general path).
        (requestHead + "000000000000003\r\nabc\r\n0000000000000002\r\nde\r\n00000000000000000\r\n\r\n",
         .request, HTTP1Configuration()),
        // Extensions, quoted and not, and trailers.
        (responseHead + "3;a=b\r\nabc\r\n2;q=\"x;y\"\r\nde\r\n0;last\r\nX-T: 1\r\nY: 2\r\n\r\n", .response, HTTP1Configuration()),
        (requestHead + "4\r\nwxyz\r\n0\r\nX: y\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", .request, HTTP1Configuration()),
        // 100-continue ahead of a chunked body.
        ("PUT /c HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
         .request, HTTP1Configuration()),
        // Errors: a bad size, an extension, a missing CRLF, bare LF and CR, overflow.
        (requestHead + "3\r\nabc\r\nz\r\n", .request, HTTP1Configuration()),
        (requestHead + "3;\r\nabc\r\n0\r\n\r\n", .request, HTTP1Configuration()),
        (requestHead + "3\r\nabcd\r\n0\r\n\r\n", .request, HTTP1Configuration()),
        (requestHead + "3\nabc\r\n0\r\n\r\n", .request, HTTP1Configuration()),
        (requestHead + "3\r\nabc\n0\r\n\r\n", .request, HTTP1Configuration()),
        (requestHead + "3\r\nabc\r\n0\n\n", .request, HTTP1Configuration()),
        (requestHead + "3\r\nabc\r\n0\r\n\n", .request, HTTP1Configuration()),
        (requestHead + "3\r\nabc\rX0\r\n\r\n", .request, HTTP1Configuration()),
        (requestHead + "10000000000000000\r\n", .request, HTTP1Configuration()),
        (requestHead + "3 \r\nabc\r\n0\r\n\r\n", .request, HTTP1Configuration()),
        // The same with the leniencies that accept them.
        (requestHead + "3\nabc\n0\n\n", .request, lenient([.bareLF])),
        (requestHead + "3\r\nabc\rd\r\nefghijklmnopq\r0\r\n\r\n", .request, lenient([.bareCR])),
        (requestHead + "3\r\nabc0\r\n\r\n", .request, lenient([.missingCRLFAfterChunk])),
        (requestHead + "3 ; a = b \r\nabc\r\n0\r\n\r\n", .request, lenient([.whitespaceAfterChunkSize])),
        // Limits: the body, the chunk line, the trailer section.
        (requestHead + "3\r\nabc\r\n6\r\n123456\r\n0\r\n\r\n", .request, limited(body: 8)),
        (requestHead + "8\r\n12345678\r\n0\r\n\r\n", .request, limited(body: 8)),
        (requestHead + "3\r\nabc\r\n00000004\r\nabcd\r\n0\r\n\r\n", .request, limited(chunkLine: 8)),
        (requestHead + "3\r\nabc\r\n000004\r\nabcd\r\n0\r\n\r\n", .request, limited(chunkLine: 8)),
        (requestHead + "3;abcdef\r\nabc\r\n0\r\n\r\n", .request, limited(chunkLine: 8)),
        (responseHead + "3\r\nabc\r\n0\r\n\r\n", .response, limited(head: 47)),
        (responseHead + "3\r\nabc\r\n0\r\nX: " + String(repeating: "y", count: 50) + "\r\n\r\n", .response, limited(head: 47)),
    ]

    @Test(arguments: 0..<inputs.count)
    func receiveGivesParsesExactEventsAtEverySplit(_ index: Int) {
        let (raw, role, configuration) = Self.inputs[index]
        let input = bytes(raw)
        let whole = Self.parseOutcome(input, role: role, configuration: configuration, cuts: [])
        #expect(Self.receiveOutcome(input, role: role, configuration: configuration, cuts: []) == whole)
        for cut in 0...input.count {
            let expected = Self.parseOutcome(input, role: role, configuration: configuration, cuts: [cut])
            #expect(Self.receiveOutcome(input, role: role, configuration: configuration, cuts: [cut]) == expected,
                    "cut at \(cut)")
        }
        let everyByte = Array(0..<input.count)
        #expect(Self.receiveOutcome(input, role: role, configuration: configuration, cuts: everyByte)
                == Self.parseOutcome(input, role: role, configuration: configuration, cuts: everyByte), "byte by byte")
    }

    @Test(arguments: 0..<inputs.count)
    func limitsAndErrorsDoNotDependOnTheSplit(_ index: Int) {
        let (raw, role, configuration) = Self.inputs[index]
        let input = bytes(raw)
        let whole = Self.parseOutcome(input, role: role, configuration: configuration, cuts: [])
        for cut in 0...input.count {
            let split = Self.receiveOutcome(input, role: role, configuration: configuration, cuts: [cut])
            #expect(split.error == whole.error, "cut at \(cut)")
            #expect(split.events.map(\.event).filter { !$0.hasPrefix("body") }
                    == whole.events.map(\.event).filter { !$0.hasPrefix("body") }, "cut at \(cut)")
        }
    }

    /// A handler that throws at event k leaves the parser just past that event: feeding the
    /// stream from `consumedBytes` on gives the events after k.
    @Test(arguments: 0..<inputs.count)
    func aThrowingHandlerLeavesTheParserPastItsEvent(_ index: Int) {
        let (raw, role, configuration) = Self.inputs[index]
        let input = bytes(raw)
        let expected = Self.parseOutcome(input, role: role, configuration: configuration, cuts: [])
        for k in 1...max(1, expected.events.count) {
            var parser = HTTP1Parser(role: role, configuration: configuration)
            var recorder = ExactRecorder(throwAt: k)
            var thrown: HTTP1ParseError?
            do throws(HTTP1ParseError) {
                _ = try input.withBytes { (b) throws(HTTP1ParseError) -> Int in
                    recorder.bufferStart = b.baseAddress
                    return try parser.receive(b, handler: &recorder)
                }
            } catch {
                thrown = error
            }
            guard thrown == ExactRecorder.planted else {
                // Fewer events than k: the stream's own error (or none) came first.
                #expect(k > expected.events.count || thrown == expected.error)
                continue
            }
            #expect(Array(recorder.events.prefix(k)) == Array(expected.events.prefix(k)))
            // What remains: a head event's bytes stay unconsumed until it is handed out whole,
            // so resume from the parser's own count.
            let resumeAt = parser.consumedBytes
            var rest = ExactRecorder()
            rest.bufferBase = resumeAt
            var resumedError: HTTP1ParseError?
            do throws(HTTP1ParseError) {
                _ = try Array(input[resumeAt...]).withBytes { (b) throws(HTTP1ParseError) -> Int in
                    rest.bufferStart = b.baseAddress
                    return try parser.receive(b, handler: &rest)
                }
            } catch {
                resumedError = error
            }
            #expect(rest.events == Array(expected.events.dropFirst(k)), "throw at event \(k)")
            #expect(resumedError == expected.error, "throw at event \(k)")
        }
    }

    /// HTTP1Connection reaches chunked bodies through `quickStep` (empty trailer sections
    /// included): the same events as `parse` at every split.
    @Test func connectionGivesParsesEventsForChunkedResponses() throws {
        let response = bytes(Self.responseHead + "3\r\nabc\r\n1A\r\n" + String(repeating: "z", count: 26)
            + "\r\n0\r\n\r\n" + Self.responseHead + "2;e=1\r\nhi\r\n0\r\nT: v\r\n\r\n")
        let expected = Self.parseOutcome(response, role: .response, configuration: HTTP1Configuration(), cuts: [])
            .events.map(\.event).filter { !$0.hasPrefix("body") }
        for cut in 0...response.count {
            var connection = HTTP1Connection(role: .client)
            for _ in 0..<2 {
                try connection.sendRequestHead(method: "GET", target: "/", fields: [("Host", "h")], body: .empty)
            }
            var client = ConnectionEvents()
            var pending: [UInt8] = []
            for piece in [response[..<cut], response[cut...]] {
                pending += piece
                let consumed = try pending.withBytes { (b) throws(HTTP1ParseError) -> Int in
                    try connection.receive(b, handler: &client)
                }
                pending.removeFirst(consumed)
            }
            #expect(client.events.filter { !$0.hasPrefix("body") } == expected, "cut at \(cut)")
            #expect(client.body == "abc" + String(repeating: "z", count: 26) + "hi", "cut at \(cut)")
        }
    }

    struct ConnectionEvents: HTTP1ConnectionHandler {
        var events: [String] = []
        var body = ""
        mutating func handle(_ event: HTTP1Event, bytes b: UnsafeRawBufferPointer,
                             connection: inout HTTP1Connection) throws(HTTP1ParseError) {
            let seen = ExactEvent(event, bytes: b, base: 0, fields: [])
            events.append(seen.event)
            if case .body(let r) = event { body += text(b, r) }
        }
    }

    /// Steady state: `receive` over chunked responses allocates nothing per message.
    @Test func receivingChunkedResponsesAllocatesNothingPerMessage() throws {
        #expect(epsilon_malloc_counter_is_active() == 1, "the malloc interposer must be live for a 0 to mean anything")
        var message = Self.responseHead
        for _ in 0..<16 { message += "400\r\n" + String(repeating: "b", count: 1024) + "\r\n" }
        message += "0\r\n\r\n"
        let input = bytes(message)
        var parser = HTTP1Parser(role: .response)
        var counter = EndCounter()
        try input.withBytes { (b) throws(HTTP1ParseError) in
            _ = try parser.receive(b, handler: &counter)  // warm-up: the fields storage grows once
            epsilon_malloc_counter_start()
            for _ in 0..<2_000 { _ = try parser.receive(b, handler: &counter) }
            let allocations = epsilon_malloc_counter_stop()
            #expect(allocations == 0, "allocations over 2,000 responses: \(allocations)")
        }
        #expect(counter.ends == 2_001)
        #expect(counter.bodyBytes == 2_001 * 16 * 1024)
    }

    struct EndCounter: HTTP1EventHandler {
        var ends = 0
        var bodyBytes = 0
        mutating func handle(_ event: HTTP1Event, bytes: UnsafeRawBufferPointer, fields: [HTTP1Field]) throws(HTTP1ParseError) {
            switch event {
            case .body(let r): bodyBytes += r.count
            case .end: ends += 1
            default: break
            }
        }
    }
}
