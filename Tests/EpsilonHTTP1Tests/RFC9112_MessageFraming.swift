import EpsilonHTTP1
import Testing

/// Framing, persistence and the events around a message (RFC 9112 §6, §9; RFC 9110 §10.1.1).
@Suite struct RFC9112_MessageFraming {
    @Test func parsesContentLengthBodyAndPipelinedRequests() {
        let raw = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nHost: h\r\n\r\n"
        let outcome = parse(bytes(raw))
        #expect(outcome.error == nil)
        #expect(outcome.events == [
            .head(start: "POST /a HTTP/1.1", fields: ["Host: h", "Content-Length: 5"], framing: .contentLength(5), keepAlive: true, upgrade: false),
            .body("hello"), .end,
            .head(start: "GET /b HTTP/1.1", fields: ["Host: h"], framing: .none, keepAlive: true, upgrade: false),
            .end,
        ])
    }

    @Test func parsesChunkedBodyWithExtensionsAndTrailers() {
        let raw = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;name=\"v\"\r\nhello\r\n0\r\nDigest: x\r\n\r\n"
        let events = parse(bytes(raw)).events
        #expect(Array(events.dropFirst()) == [
            .chunk(size: 5, extensions: ";name=\"v\""), .body("hello"), .chunkEnd,
            .chunk(size: 0, extensions: ""), .trailers(["Digest: x"]), .chunkEnd, .end,
        ])
    }

    @Test func persistenceFollowsVersionAndConnection() {
        func keepAlive(_ raw: String) -> Bool? {
            if case .head(_, _, _, let keepAlive, _)? = parse(bytes(raw)).events.first { return keepAlive }
            return nil
        }
        #expect(keepAlive("GET / HTTP/1.1\r\nHost: h\r\n\r\n") == true)
        #expect(keepAlive("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n") == false)
        #expect(keepAlive("GET / HTTP/1.0\r\n\r\n") == false)
        #expect(keepAlive("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") == true)
        #expect(keepAlive("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, CLOSE\r\n\r\n") == false)
    }

    @Test func surfacesExpectContinue() {
        let raw = "PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx"
        #expect(parse(bytes(raw)).events.dropFirst().first == .expectContinue)
    }

    @Test func upgradeStopsAfterTheMessageAndLeavesTheRestUnconsumed() throws {
        let head = "GET /chat HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
        let input = bytes(head + "\u{81}\u{05}frame")
        var parser = HTTP1Parser(role: .request)
        var consumed = 0
        var events: [HTTP1Event] = []
        try input.withUnsafeBytes { b in
            while events.last != .upgrade {
                let step = try parser.parse(UnsafeRawBufferPointer(rebasing: b[consumed...]))
                events.append(step.event)
                consumed += step.consumed
            }
        }
        #expect(consumed == head.utf8.count, "the new protocol's bytes start right after the head")
        #expect(events.suffix(2) == [.end, .upgrade])
    }

    @Test func connectRequestBecomesATunnel() {
        let outcome = parse(bytes("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nTLS..."))
        #expect(outcome.events.suffix(2) == [.end, .upgrade])
    }

    @Test func responseToHEADHasNoBodyWhateverItsLength() {
        let outcome = parse(bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"), role: .response, requestKind: .head)
        #expect(outcome.events.last == .end)
        #expect(outcome.error == nil)
    }

    @Test(arguments: [204, 304])
    func bodilessStatusesEndAtTheHead(_ status: Int) {
        let raw = "HTTP/1.1 \(status) X\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        let events = parse(bytes(raw), role: .response).events
        #expect(events.filter { $0 == .end }.count == 2)
    }

    @Test func informationalResponsePrecedesTheFinalOne() {
        let raw = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        let events = parse(bytes(raw), role: .response, requestKind: .head).events
        // The HEAD context survives the 1xx, so the final response has no body.
        #expect(events.count == 4)
        #expect(events.last == .end)
        #expect(!events.contains(.body("ok")))
    }

    @Test func closeDelimitedResponseEndsAtFinish() {
        let outcome = parse(bytes("HTTP/1.1 200 OK\r\n\r\nuntil close"), role: .response, finish: true)
        #expect(outcome.events.suffix(2) == [.body("until close"), .end])
    }

    @Test func truncatedMessageIsAnErrorAtFinish() {
        let outcome = parse(bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"), role: .response, finish: true)
        #expect(outcome.error?.rule == .unexpectedEndOfStream)
    }

    @Test func switchingProtocolsResponseUpgrades() {
        let outcome = parse(bytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\u{81}"), role: .response)
        #expect(outcome.events.suffix(2) == [.end, .upgrade])
    }

    @Test func connectSuccessTurnsTheResponseIntoATunnel() {
        let outcome = parse(bytes("HTTP/1.1 200 OK\r\n\r\nbytes"), role: .response, requestKind: .connect)
        #expect(outcome.events.suffix(2) == [.end, .upgrade])
    }
}

/// Limits and the failed state.
@Suite struct HTTP1Limits {
    @Test func headLargerThanTheLimitFails() {
        var configuration = HTTP1Configuration()
        configuration.maxHeadBytes = 64
        let raw = "GET / HTTP/1.1\r\nHost: h\r\nX: " + String(repeating: "a", count: 100) + "\r\n\r\n"
        #expect(parse(bytes(raw), configuration: configuration).error?.rule == .headTooLarge)
        // Without a line end in sight, too.
        #expect(parse(bytes(String(repeating: "a", count: 100)), configuration: configuration).error?.rule == .headTooLarge)
    }

    @Test func tooManyFieldsFail() {
        var configuration = HTTP1Configuration()
        configuration.maxFieldCount = 3
        let raw = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"
        #expect(parse(bytes(raw), configuration: configuration).error?.rule == .tooManyFields)
    }

    @Test func longTargetFails() {
        var configuration = HTTP1Configuration()
        configuration.maxTargetBytes = 8
        #expect(parse(bytes("GET /123456789 HTTP/1.1\r\nHost: h\r\n\r\n"), configuration: configuration).error?.rule == .targetTooLong)
    }

    @Test func longChunkLineFails() {
        var configuration = HTTP1Configuration()
        configuration.maxChunkLineBytes = 16
        let raw = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;" + String(repeating: "x", count: 40)
        #expect(parse(bytes(raw), configuration: configuration).error?.rule == .chunkLineTooLong)
    }

    @Test func bodyLimitAppliesToDeclaredAndChunkedBodies() {
        var configuration = HTTP1Configuration()
        configuration.maxBodyBytes = 4
        #expect(parse(bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"), configuration: configuration).error?.rule == .bodyTooLarge)
        let chunked = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n"
        #expect(parse(bytes(chunked), configuration: configuration).error?.rule == .bodyTooLarge)
    }

    @Test func parserStaysFailedWithTheSameError() {
        var parser = HTTP1Parser(role: .request)
        let bad = bytes("G@T / HTTP/1.1\r\n\r\n")
        var first: HTTP1ParseError?
        var second: HTTP1ParseError?
        bad.withUnsafeBytes { b in
            do throws(HTTP1ParseError) { _ = try parser.parse(b) } catch { first = error }
            do throws(HTTP1ParseError) { _ = try parser.parse(b) } catch { second = error }
        }
        #expect(first != nil)
        #expect(first == second)
        #expect(first?.offset == 1)
    }

    @Test func errorOffsetsCountFromTheStreamStart() {
        let raw = "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\nBad@Name: x\r\n\r\n"
        #expect(parse(bytes(raw)).error == HTTP1ParseError(.invalidFieldName, at: 27 + 25 + 3))
    }
}

/// The span entry point gives the same steps as the pointer one.
@Suite struct HTTP1SpanInput {
    @Test func rawSpanInputMatchesPointerInput() throws {
        let input = Array("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc".utf8)
        var viaSpan = HTTP1Parser(role: .request)
        var viaPointer = HTTP1Parser(role: .request)
        var offset = 0
        while offset < input.count {
            let rest = Array(input[offset...])
            let fromSpan = try viaSpan.parse(rest.span.bytes)
            let fromPointer = try rest.withUnsafeBytes { b in try viaPointer.parse(b) }
            #expect(fromSpan == fromPointer)
            offset += fromSpan.consumed
            if fromSpan.consumed == 0 && fromSpan.event == .needMoreData { break }
        }
        #expect(offset == input.count)
    }
}
