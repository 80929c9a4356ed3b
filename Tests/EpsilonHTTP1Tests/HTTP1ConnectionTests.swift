@_spi(EpsilonInternal) import EpsilonBytes
import EpsilonHTTP1
import Testing

/// A server handler that records events and answers each request at its end, inline, with
/// its target as the body (or what `answer` says).
struct EchoServer: HTTP1ConnectionHandler {
    enum Continue { case ignore, accept, refuse }
    var events: [String] = []
    var target = ""
    var method = ""
    var onContinue = Continue.ignore
    var upgrade = false
    var status = 200
    var length = HTTP1BodyLength.unknown

    mutating func handle(_ event: HTTP1Event, bytes: UnsafeRawBufferPointer, connection: inout HTTP1Connection) throws(HTTP1ParseError) {
        switch event {
        case .head(let head):
            method = text(bytes, head.method)
            target = text(bytes, head.target)
            events.append("head \(method) \(target)")
        case .body(let range):
            if let last = events.last, last.hasPrefix("body ") {
                events[events.count - 1] = last + text(bytes, range)
            } else {
                events.append("body " + text(bytes, range))
            }
        case .expectContinue:
            events.append("expectContinue")
            switch onContinue {
            case .ignore: break
            case .accept: try? connection.sendContinue()
            case .refuse: try? connection.sendResponseHead(status: 417, reason: "Expectation Failed", body: .empty)
            }
        case .end:
            events.append("end")
            guard !connection.isClosed, !upgrade else { return }
            let body = Array(target.utf8)
            let length = length == .unknown ? HTTP1BodyLength.unknown : .known(UInt64(body.count))
            do throws(HTTP1UsageError) {
                try connection.sendResponseHead(status: status, reason: "OK", fields: [("Server", "t")], body: length)
                if status != 304 && method != "HEAD" { try connection.sendBody(body) }
                try connection.sendEnd()
            } catch {
                events.append("usage error \(error)")
            }
        case .upgrade:
            events.append("upgrade")
            try? connection.sendResponseHead(status: 101, reason: "Switching Protocols",
                                             fields: [("Connection", "upgrade"), ("Upgrade", "websocket")], body: .empty)
        default:
            events.append("\(event)")
        }
    }
}

/// A client handler that records events, bodies merged.
struct RecordingClient: HTTP1ConnectionHandler {
    var events: [String] = []
    mutating func handle(_ event: HTTP1Event, bytes: UnsafeRawBufferPointer, connection: inout HTTP1Connection) throws(HTTP1ParseError) {
        switch event {
        case .head(let head): events.append("head \(head.status)")
        case .body(let range):
            if let last = events.last, last.hasPrefix("body ") {
                events[events.count - 1] = last + text(bytes, range)
            } else {
                events.append("body " + text(bytes, range))
            }
        case .chunkHeader, .chunkEnd: break
        default: events.append("\(event)")
        }
    }
}

/// Feeds `input` to `connection` in pieces ending at `cuts`, as the contract's loop does;
/// returns the output and the bytes left unconsumed.
func drive<H: HTTP1ConnectionHandler>(_ connection: inout HTTP1Connection, _ handler: inout H, _ input: [UInt8],
                                      cuts: [Int] = []) throws(HTTP1ParseError) -> (output: String, leftover: [UInt8]) {
    var pending: [UInt8] = []
    var out: [UInt8] = []
    var start = 0
    for end in cuts + [input.count] where end >= start {
        pending += input[start..<end]
        start = end
        let consumed = try pending.withBytes { (b) throws(HTTP1ParseError) -> Int in try connection.receive(b, handler: &handler) }
        pending.removeFirst(consumed)
        connection.writeOutput(into: &out)
        if connection.isUpgraded || connection.isClosed {
            pending += input[start...]
            break
        }
    }
    return (String(decoding: out, as: UTF8.self), pending)
}

@Suite struct HTTP1ConnectionServer {
    static let pipeline = bytes(
        "GET /one HTTP/1.1\r\nHost: h\r\n\r\n"
        + "POST /two HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
        + "\r\nGET /three HTTP/1.1\r\nHost: h\r\n\r\n")

    @Test func answersPipelinedRequestsInOrderAndEverySplitGivesTheSameEvents() throws {
        var connection = HTTP1Connection(role: .server)
        var handler = EchoServer()
        handler.length = .known(0)
        let whole = try drive(&connection, &handler, Self.pipeline)
        #expect(handler.events == ["head GET /one", "end", "head POST /two", "body abc", "end", "head GET /three", "end"])
        #expect(whole.output == "HTTP/1.1 200 OK\r\nServer: t\r\nContent-Length: 4\r\n\r\n/one"
                + "HTTP/1.1 200 OK\r\nServer: t\r\nContent-Length: 4\r\n\r\n/two"
                + "HTTP/1.1 200 OK\r\nServer: t\r\nContent-Length: 6\r\n\r\n/three")
        #expect(whole.leftover.isEmpty && connection.isIdle)
        for cut in 0...Self.pipeline.count {
            var split = HTTP1Connection(role: .server)
            var splitHandler = EchoServer()
            splitHandler.length = .known(0)
            let result = try drive(&split, &splitHandler, Self.pipeline, cuts: [cut])
            #expect(splitHandler.events == handler.events, "split at \(cut)")
            #expect(result.output == whole.output, "split at \(cut)")
        }
    }

    @Test func aSecondResponseBeforeTheFirstEndsIsAUsageErrorAndWritesNothing() throws {
        struct Late: HTTP1ConnectionHandler {
            var errors: [HTTP1UsageError] = []
            mutating func handle(_ event: HTTP1Event, bytes: UnsafeRawBufferPointer, connection: inout HTTP1Connection) throws(HTTP1ParseError) {
                guard case .head = event else { return }
                do throws(HTTP1UsageError) {
                    try connection.sendResponseHead(status: 200, reason: "OK", body: .unknown)
                } catch {
                    errors.append(error)
                }
            }
        }
        var connection = HTTP1Connection(role: .server)
        var handler = Late()
        let result = try drive(&connection, &handler, bytes("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"))
        #expect(handler.errors == [.messageInProgress])
        #expect(result.output == "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        #expect(throws: HTTP1UsageError.messageInProgress) { try connection.sendResponseHead(status: 204, reason: "", body: .empty) }
        try connection.sendBody(Array("hi".utf8))
        try connection.sendEnd(trailers: [("X", "y")])
        #expect(throws: HTTP1UsageError.bodyNotAllowed) { try connection.sendResponseHead(status: 204, reason: "", body: .known(3)) }
        try connection.sendResponseHead(status: 204, reason: "No Content", body: .empty)
        #expect(throws: HTTP1UsageError.noRequestToAnswer) { try connection.sendResponseHead(status: 200, reason: "OK", body: .empty) }
        var out: [UInt8] = []
        connection.writeOutput(into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "2\r\nhi\r\n0\r\nX: y\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
    }

    @Test func usageErrorsLeaveTheConnectionAsItWas() throws {
        var connection = HTTP1Connection(role: .server)
        var handler = RecordingClient()
        _ = try drive(&connection, &handler, bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"))
        #expect(throws: HTTP1UsageError.framingField) {
            try connection.sendResponseHead(status: 200, reason: "OK", fields: [("content-length", "3")], body: .unknown)
        }
        #expect(throws: HTTP1UsageError.invalidHead(.invalidFieldValue)) {
            try connection.sendResponseHead(status: 200, reason: "OK", fields: [("A", "b"), ("X", "evil\r\nSet-Cookie: 1")], body: .unknown)
        }
        #expect(throws: HTTP1UsageError.noMessageInProgress) { try connection.sendBody([1]) }
        #expect(throws: HTTP1UsageError.wrongRole) { try connection.sendRequestHead(method: "GET", target: "/", body: .empty) }
        #expect(!connection.hasOutput)
        try connection.sendResponseHead(status: 200, reason: "OK", body: .known(2))
        #expect(throws: HTTP1UsageError.bodyExceedsContentLength) { try connection.sendBody([1, 2, 3]) }
        try connection.sendBody([0x6F])
        #expect(throws: HTTP1UsageError.bodyIncomplete) { try connection.sendEnd() }
        try connection.sendBody([0x6B])
        try connection.sendEnd()
        var out: [UInt8] = []
        connection.writeOutput(into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    }

    @Test func headAnd304CarryTheLengthButNoContent() throws {
        var connection = HTTP1Connection(role: .server)
        var handler = EchoServer()
        handler.length = .known(0)
        let head = try drive(&connection, &handler, bytes("HEAD /abc HTTP/1.1\r\nHost: h\r\n\r\n"))
        #expect(head.output == "HTTP/1.1 200 OK\r\nServer: t\r\nContent-Length: 4\r\n\r\n")
        handler.status = 304
        let notModified = try drive(&connection, &handler, bytes("GET /abc HTTP/1.1\r\nHost: h\r\n\r\n"))
        #expect(notModified.output == "HTTP/1.1 304 OK\r\nServer: t\r\nContent-Length: 4\r\n\r\n")
        #expect(connection.isIdle && !connection.isClosed)
    }

    @Test func connectionCloseFromTheClientClosesAfterTheResponse() throws {
        var connection = HTTP1Connection(role: .server)
        var handler = EchoServer()
        let result = try drive(&connection, &handler, bytes("GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"))
        #expect(result.output == "HTTP/1.1 200 OK\r\nServer: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n/a\r\n0\r\n\r\n")
        #expect(connection.isClosed)
        #expect(handler.events == ["head GET /a", "end"], "nothing after a closing request is read")
    }

    @Test func closeFromTheServerSaysSo() throws {
        var connection = HTTP1Connection(role: .server)
        var handler = RecordingClient()
        _ = try drive(&connection, &handler, bytes("GET /a HTTP/1.1\r\nHost: h\r\n\r\n"))
        try connection.sendResponseHead(status: 503, reason: "Busy", body: .empty, close: true)
        #expect(connection.isClosed)
        var out: [UInt8] = []
        connection.writeOutput(into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    }

    @Test func http10KeepAliveIsAnsweredWithKeepAliveAndALength() throws {
        var connection = HTTP1Connection(role: .server)
        var handler = EchoServer()
        handler.length = .known(0)
        let kept = try drive(&connection, &handler, bytes("GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"))
        #expect(kept.output == "HTTP/1.1 200 OK\r\nServer: t\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n/k")
        #expect(!connection.isClosed)
        handler.length = .unknown
        let closed = try drive(&connection, &handler, bytes("GET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"))
        #expect(closed.output == "HTTP/1.1 200 OK\r\nServer: t\r\nConnection: close\r\n\r\n/c", "no chunked for HTTP/1.0: the close ends the body")
        #expect(connection.isClosed)
        var plain = HTTP1Connection(role: .server)
        handler.length = .known(0)
        let once = try drive(&plain, &handler, bytes("GET /p HTTP/1.0\r\n\r\n"))
        #expect(once.output.hasSuffix("Content-Length: 2\r\nConnection: close\r\n\r\n/p"))
        #expect(plain.isClosed)
    }

    static let expecting = bytes("PUT /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")

    @Test func acceptedExpectContinueSends100BeforeTheBody() throws {
        var connection = HTTP1Connection(role: .server)
        var handler = EchoServer()
        handler.onContinue = .accept
        handler.length = .known(0)
        let first = try drive(&connection, &handler, Self.expecting)
        #expect(first.output == "HTTP/1.1 100 Continue\r\n\r\n")
        let second = try drive(&connection, &handler, bytes("dataGET /n HTTP/1.1\r\nHost: h\r\n\r\n"))
        #expect(second.output == "HTTP/1.1 200 OK\r\nServer: t\r\nContent-Length: 3\r\n\r\n/upHTTP/1.1 200 OK\r\nServer: t\r\nContent-Length: 2\r\n\r\n/n")
        #expect(handler.events == ["head PUT /up", "expectContinue", "body data", "end", "head GET /n", "end"])
        #expect(throws: HTTP1UsageError.continueNotExpected) { try connection.sendContinue() }
    }

    @Test func refusedExpectContinueAnswersFinallyAndCloses() throws {
        var connection = HTTP1Connection(role: .server)
        var handler = EchoServer()
        handler.onContinue = .refuse
        let result = try drive(&connection, &handler, Self.expecting + bytes("data"))
        #expect(result.output == "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        #expect(connection.isClosed)
    }

    @Test func expectContinueWithoutContentNeedsNoContinueAndKeepsTheConnection() throws {
        // RFC 9110 §10.1.1: nothing to wait for; the answer must not close the connection.
        var connection = HTTP1Connection(role: .server)
        var handler = EchoServer()
        handler.onContinue = .refuse
        let input = bytes("GET /a HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n")
        let result = try drive(&connection, &handler, input)
        #expect(!result.output.contains("100 Continue") && !result.output.contains("Connection: close"))
        #expect(result.output.hasPrefix("HTTP/1.1 200 OK\r\n") && result.output.contains("/b\r\n"))
        #expect(handler.events == ["head GET /a", "end", "head GET /b", "end"])
        #expect(!connection.isClosed)
    }

    @Test func upgradeHandsOffWithTheLeftoverBytes() throws {
        let head = "GET /chat HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
        let input = bytes(head + "\u{81}\u{2}hi")
        for cut in 0...input.count {
            var connection = HTTP1Connection(role: .server)
            var handler = EchoServer()
            handler.upgrade = true
            let result = try drive(&connection, &handler, input, cuts: [cut])
            #expect(connection.isUpgraded, "split at \(cut)")
            #expect(result.leftover == bytes("\u{81}\u{2}hi"), "split at \(cut)")
            #expect(result.output == "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n")
            #expect(handler.events == ["head GET /chat", "end", "upgrade"])
        }
    }

    @Test func aDeclinedUpgradeGoesOnWithHTTP1() throws {
        var connection = HTTP1Connection(role: .server)
        var handler = EchoServer()
        handler.length = .known(0)
        let input = bytes("GET /a HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n")
        let result = try drive(&connection, &handler, input)
        #expect(handler.events == ["head GET /a", "end", "head GET /b", "end"])
        #expect(result.output.hasSuffix("\r\n\r\n/b") && !connection.isUpgraded)
    }

    @Test func aBrokenRequestGetsA400AndTheConnectionStaysFailed() throws {
        var connection = HTTP1Connection(role: .server)
        var handler = EchoServer()
        let input = bytes("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")
        var out: [UInt8] = []
        #expect(throws: HTTP1ParseError.self) {
            _ = try input.withBytes { (b) throws(HTTP1ParseError) -> Int in try connection.receive(b, handler: &handler) }
        }
        connection.writeOutput(into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        #expect(connection.isClosed)
        #expect(throws: HTTP1ParseError(.contentLengthWithTransferEncoding, at: 41)) {
            _ = try input.withBytes { (b) throws(HTTP1ParseError) -> Int in try connection.receive(b, handler: &handler) }
        }
    }

    @Test func pausesWhenTooManyRequestsWaitAndGoesOnOnceAnswered() throws {
        var connection = HTTP1Connection(role: .server)
        connection.maxPendingRequests = 2
        var handler = RecordingClient()
        let input = bytes(String(repeating: "GET / HTTP/1.1\r\nHost: h\r\n\r\n", count: 3))
        let first = try drive(&connection, &handler, input)
        #expect(first.leftover.count == 27)
        try connection.sendResponseHead(status: 200, reason: "OK", body: .empty)
        let second = try drive(&connection, &handler, first.leftover)
        #expect(second.leftover.isEmpty)
        #expect(handler.events.filter { $0 == "end" }.count == 3)
    }
}

@Suite struct HTTP1ConnectionClient {
    @Test func pairsPipelinedResponsesWithTheirRequestsAtEverySplit() throws {
        let responses = bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"          // to HEAD: no body
                              + "HTTP/1.1 100 Continue\r\n\r\n"
                              + "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"
                              + "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"
                              + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        func client() throws -> HTTP1Connection {
            var connection = HTTP1Connection(role: .client)
            try connection.sendRequestHead(method: "HEAD", target: "/", fields: [("Host", "h")], body: .empty)
            try connection.sendRequestHead(method: "POST", target: "/p", fields: [("Host", "h")], body: .known(2))
            try connection.sendBody(Array("xy".utf8))
            try connection.sendEnd()
            try connection.sendRequestHead(method: "GET", target: "/c", fields: [("Host", "h")], body: .empty)
            try connection.sendRequestHead(method: "GET", target: "/d", fields: [("Host", "h")], body: .unknown)
            try connection.sendEnd()
            return connection
        }
        var connection = try client()
        var out: [UInt8] = []
        connection.writeOutput(into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "HEAD / HTTP/1.1\r\nHost: h\r\n\r\n"
                + "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nxy"
                + "GET /c HTTP/1.1\r\nHost: h\r\n\r\n"
                + "GET /d HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        var handler = RecordingClient()
        _ = try drive(&connection, &handler, responses)
        #expect(handler.events == ["head 200", "end", "head 100", "end", "head 200", "body hi", "end", "head 304", "end",
                                   "head 200", "body ok", "end"])
        #expect(connection.isClosed)
        for cut in 0...responses.count {
            var split = try client()
            var splitHandler = RecordingClient()
            _ = try drive(&split, &splitHandler, responses, cuts: [cut])
            #expect(splitHandler.events == handler.events, "split at \(cut)")
        }
    }

    @Test func connectionCloseFromTheClientClosesAfterTheResponse() throws {
        var connection = HTTP1Connection(role: .client)
        try connection.sendRequestHead(method: "GET", target: "/", fields: [("Host", "h")], body: .empty, close: true)
        var out: [UInt8] = []
        connection.writeOutput(into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        var handler = RecordingClient()
        _ = try drive(&connection, &handler, bytes("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
        #expect(connection.isClosed)
        #expect(throws: HTTP1UsageError.connectionClosed) { try connection.sendRequestHead(method: "GET", target: "/", body: .empty) }
    }

    @Test func aCloseDelimitedResponseEndsAtTheEndOfTheStream() throws {
        var connection = HTTP1Connection(role: .client)
        try connection.sendRequestHead(method: "GET", target: "/", fields: [("Host", "h")], body: .empty)
        var handler = RecordingClient()
        _ = try drive(&connection, &handler, bytes("HTTP/1.1 200 OK\r\n\r\nall of it"))
        try connection.receiveEndOfStream(handler: &handler)
        #expect(handler.events == ["head 200", "body all of it", "end"])
        #expect(connection.isClosed)
    }

    @Test(arguments: [("GET", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"),
                      ("CONNECT", "HTTP/1.1 200 Connection Established\r\n\r\n")])
    func switchingHandsOffWithTheLeftoverBytes(_ method: String, _ response: String) throws {
        var connection = HTTP1Connection(role: .client)
        let fields: [(name: String, value: String)] = method == "GET" ? [("Host", "h"), ("Connection", "upgrade"), ("Upgrade", "websocket")] : [("Host", "h:443")]
        try connection.sendRequestHead(method: method, target: method == "GET" ? "/" : "h:443", fields: fields, body: .empty)
        var handler = RecordingClient()
        let result = try drive(&connection, &handler, bytes(response + "tunnel"))
        #expect(connection.isUpgraded)
        #expect(result.leftover == bytes("tunnel"))
        #expect(handler.events.suffix(2) == ["end", "upgrade"])
    }

    @Test func aResponseWithoutARequestIsAPeerError() {
        var connection = HTTP1Connection(role: .client)
        var handler = RecordingClient()
        #expect(throws: HTTP1ParseError(.responseWithoutRequest, at: 0)) {
            _ = try drive(&connection, &handler, bytes("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
        }
    }
}
