@_spi(EpsilonInternal) import EpsilonBytes

// What the application sends: heads, bodies, ends, 100 Continue. Each call is checked against
// the state first and leaves the connection as it was when it throws.

extension HTTP1Connection {
    /// Sends a response head answering the oldest request not yet answered (server).
    ///
    /// The connection writes the framing itself from `body`: `Content-Length`, chunked (an
    /// HTTP/1.1 request) or close-delimited (an HTTP/1.0 request), and nothing for a 1xx or
    /// 204 response; a response to HEAD and a 304 carry the length of `body` but no content.
    /// It adds `Connection: close` when the connection closes after this response (the request
    /// or `close` asked for it, the body is close-delimited, or it refuses
    /// `Expect: 100-continue` before the body arrived) and `Connection: keep-alive` for a
    /// persistent HTTP/1.0 request. A `101` to an Upgrade request or a `2xx` to CONNECT
    /// switches protocols once written (``isUpgraded``).
    ///
    /// - Parameters:
    ///   - fields: other fields, in order; `Content-Length` and `Transfer-Encoding` are refused
    ///     (``HTTP1UsageError/framingField``). A `Connection` field listing `close` counts
    ///     as `close: true`.
    /// - Throws: ``HTTP1UsageError`` when no request waits for an answer, the previous
    ///   response has not ended, or a part of the head is invalid; nothing is written then.
    public mutating func sendResponseHead(status: Int, reason: some StringProtocol, fields: [(name: String, value: String)] = [],
                                          body: HTTP1BodyLength, close: Bool = false) throws(HTTP1UsageError) {
        // A String once, then code specialized for it (see sendRequestHead).
        try sendResponseHead(status: status, reasonText: reason.description, fields: fields, body: body, close: close)
    }

    private mutating func sendResponseHead(status: Int, reasonText reason: String, fields: [(name: String, value: String)],
                                           body: HTTP1BodyLength, close: Bool) throws(HTTP1UsageError) {
        guard role == .server else { throw .wrongRole }
        guard lifecycle == .open else { throw .connectionClosed }
        guard outbound == .idle else { throw .messageInProgress }
        guard let exchange = exchanges.first else { throw .noRequestToAnswer }
        let asksClose = try Self.checkFields(fields)
        let mark = try writeHead(fields: fields) { (output) throws(HTTP1SerializeError) in
            try HTTP1Serializer.writeStatusLine(status: status, reason: reason, into: &output)
        }

        // RFC 9110 §15.2: interim responses; the request still waits for its final one.
        if status < 200 && status != 101 {
            guard body == .empty || body == .known(0) else {
                output.removeSubrange(mark...)
                throw .bodyNotAllowed
            }
            HTTP1Serializer.writeEndOfHead(into: &output)
            if status == 100 { exchanges[0].continueSent = true }
            return
        }

        // RFC 9110 §7.8, §9.3.6: switching protocols.
        let switches = exchange.upgradeRequested
            && (exchange.kind == .connect ? status / 100 == 2 : status == 101)
        if switches {
            HTTP1Serializer.writeEndOfHead(into: &output)
            exchanges.removeFirst()
            lifecycle = .upgraded
            return
        }
        if status == 101 {
            // A 101 to a request that did not ask to switch.
            output.removeSubrange(mark...)
            throw .invalidHead(.invalidStatus)
        }
        if exchange.upgradeRequested { exchanges[0].upgradeRequested = false }

        var framing: OutboundBody
        var closeAfter = close || asksClose || !exchange.keepAlive
        // A refused 100-continue (RFC 9110 §10.1.1): the client may or may not send the body,
        // so close rather than risk reading it as the next request. Other early answers keep
        // reading the request's body as usual.
        if exchange.expectsContinue && !exchange.continueSent && !exchange.requestComplete { closeAfter = true }
        if status == 204 || status == 304 || exchange.kind == .head {
            // RFC 9110 §8.6, §9.3.2, §15.4.5: no content; 204 carries no length either.
            if status == 204 {
                guard body == .empty || body == .known(0) else {
                    output.removeSubrange(mark...)
                    throw .bodyNotAllowed
                }
            } else if case .known(let length) = body {
                appendContentLength(length)
            } else if body == .empty && exchange.kind == .head {
                appendContentLength(0)
            }
            framing = .none
        } else {
            switch body {
            case .empty:
                appendContentLength(0)
                framing = .none
            case .known(let length):
                appendContentLength(length)
                framing = length == 0 ? .none : .fixed(remaining: length)
            case .unknown:
                if exchange.version == .http10 {
                    // RFC 9112 §6.3 ¶8: HTTP/1.0 has no chunked coding; the close ends the body.
                    framing = .untilClose
                    closeAfter = true
                } else {
                    appendTransferEncodingChunked()
                    framing = .chunked
                }
            }
        }
        appendPersistence(closeAfter: closeAfter, requestVersion: exchange.version)
        HTTP1Serializer.writeEndOfHead(into: &output)
        outbound = .body(framing, closeAfter: closeAfter)
        if framing == .none { finishOutboundMessage(closeAfter: closeAfter) }
    }

    /// Sends `100 Continue` to the request that asked for it with `Expect: 100-continue`
    /// (server): the client then sends the body (RFC 9110 §10.1.1). To refuse, send the final
    /// response instead; the connection closes after it.
    public mutating func sendContinue() throws(HTTP1UsageError) {
        guard role == .server else { throw .wrongRole }
        guard lifecycle == .open else { throw .connectionClosed }
        guard outbound == .idle, let exchange = exchanges.first, exchange.expectsContinue,
              !exchange.continueSent, !exchange.requestComplete else { throw .continueNotExpected }
        do throws(HTTP1SerializeError) {
            try HTTP1Serializer.writeStatusLine(status: 100, reason: "Continue", into: &output)
        } catch {
            throw .invalidHead(error)
        }
        HTTP1Serializer.writeEndOfHead(into: &output)
        exchanges[0].continueSent = true
    }

    /// Sends a request head (client). Requests may be pipelined: each response is paired with
    /// the oldest request not yet answered.
    ///
    /// The connection frames the body from `body` (`Content-Length` or chunked; a CONNECT
    /// request has none) and adds `Connection: close` when `close` is set (or a `Connection`
    /// field lists `close`); the connection then closes after the response.
    /// Put `Host` in `fields` (RFC 9112 §3.2).
    public mutating func sendRequestHead(method: some StringProtocol, target: some StringProtocol, fields: [(name: String, value: String)] = [],
                                         body: HTTP1BodyLength, close: Bool = false) throws(HTTP1UsageError) {
        // Strings once, then code specialized for them: the generic body, called from another
        // module, ran unspecialized (witness-table calls per byte of the method and target).
        try sendRequestHead(methodText: method.description, targetText: target.description, fields: fields, body: body, close: close)
    }

    private mutating func sendRequestHead(methodText method: String, targetText target: String, fields: [(name: String, value: String)],
                                          body: HTTP1BodyLength, close: Bool) throws(HTTP1UsageError) {
        guard role == .client else { throw .wrongRole }
        guard lifecycle == .open else { throw .connectionClosed }
        guard outbound == .idle else { throw .messageInProgress }
        let asksClose = try Self.checkFields(fields)
        let kind: HTTP1Parser.RequestKind = method == "HEAD" ? .head : method == "CONNECT" ? .connect : .ordinary
        if kind == .connect, body != .empty { throw .bodyNotAllowed }
        try writeHead(fields: fields) { (output) throws(HTTP1SerializeError) in
            try HTTP1Serializer.writeRequestLine(method: method, target: target, into: &output)
        }
        var upgrade = kind == .connect
        for field in fields where ASCII.equalsIgnoringCase(field.name, "upgrade") { upgrade = true }
        let framing: OutboundBody
        switch body {
        case .empty: framing = .none
        case .known(let length):
            appendContentLength(length)
            framing = length == 0 ? .none : .fixed(remaining: length)
        case .unknown:
            appendTransferEncodingChunked()
            framing = .chunked
        }
        let closeAfter = close || asksClose
        if close && !asksClose { appendConnectionClose() }
        HTTP1Serializer.writeEndOfHead(into: &output)
        exchanges.append(Exchange(kind: kind, version: .http11, keepAlive: !closeAfter,
                                  expectsContinue: false, upgradeRequested: upgrade))
        outbound = .body(framing, closeAfter: false)
        if framing == .none { finishOutboundMessage(closeAfter: false) }
    }

    /// Sends a piece of the body of the message whose head was sent last. An empty piece
    /// writes nothing.
    public mutating func sendBody(_ bytes: some Collection<UInt8>) throws(HTTP1UsageError) {
        guard lifecycle == .open else { throw .connectionClosed }
        guard case .body(let framing, let closeAfter) = outbound else { throw .noMessageInProgress }
        let count = bytes.count
        guard count > 0 else { return }
        switch framing {
        case .none:
            throw .bodyNotAllowed
        case .fixed(let remaining):
            guard UInt64(count) <= remaining else { throw .bodyExceedsContentLength }
            output.append(contentsOf: bytes)
            outbound = .body(.fixed(remaining: remaining - UInt64(count)), closeAfter: closeAfter)
        case .chunked:
            HTTP1Serializer.writeChunk(bytes, into: &output)
        case .untilClose:
            output.append(contentsOf: bytes)
        }
    }

    /// Ends the message whose head was sent last, with trailer fields for a chunked body
    /// (ignored otherwise). After a response that closes the connection, ``isClosed`` is true.
    public mutating func sendEnd(trailers: [(name: String, value: String)] = []) throws(HTTP1UsageError) {
        guard lifecycle == .open else { throw .connectionClosed }
        guard case .body(let framing, let closeAfter) = outbound else { throw .noMessageInProgress }
        switch framing {
        case .fixed(let remaining) where remaining > 0:
            throw .bodyIncomplete
        case .chunked:
            let mark = output.count
            HTTP1Serializer.writeLastChunk(into: &output)
            do throws(HTTP1SerializeError) {
                for field in trailers { try HTTP1Serializer.writeField(name: field.name, value: field.value, into: &output) }
            } catch {
                output.removeSubrange(mark...)
                throw .invalidHead(error)
            }
            HTTP1Serializer.writeEndOfHead(into: &output)
        default:
            break
        }
        finishOutboundMessage(closeAfter: closeAfter)
    }

    /// After the last byte of a message went out.
    mutating func finishOutboundMessage(closeAfter: Bool) {
        outbound = .idle
        switch role {
        case .server:
            exchanges.removeFirst()
            if closeAfter { lifecycle = .closed }
        case .client:
            exchanges[exchanges.count - 1].requestComplete = true
        }
    }

    /// Refuses framing fields; returns whether a Connection field lists `close`.
    static func checkFields(_ fields: [(name: String, value: String)]) throws(HTTP1UsageError) -> Bool {
        var close = false
        for field in fields {
            let name = field.name
            if ASCII.equalsIgnoringCase(name, "content-length") || ASCII.equalsIgnoringCase(name, "transfer-encoding") {
                throw .framingField
            }
            if ASCII.equalsIgnoringCase(name, "connection") {
                for option in field.value.utf8.split(separator: 0x2C) {
                    var token = option[...]
                    while let first = token.first, ASCII.isWhitespace(first) { token.removeFirst() }
                    while let last = token.last, ASCII.isWhitespace(last) { token.removeLast() }
                    if ASCII.equalsIgnoringCase(token, "close".utf8) { close = true }
                }
            }
        }
        return close
    }

    mutating func appendPersistence(closeAfter: Bool, requestVersion: HTTP1Version) {
        if closeAfter {
            appendConnectionClose()
        } else if requestVersion == .http10 {
            // RFC 9112 §9.3: an HTTP/1.0 peer closes unless told the connection persists.
            output.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
    }

    mutating func appendConnectionClose() {
        output.append(contentsOf: "Connection: close\r\n".utf8)
    }

    mutating func appendContentLength(_ length: UInt64) {
        output.append(contentsOf: "Content-Length: ".utf8)
        HTTP1Serializer.appendNumber(length, radix: 10, into: &output)
        HTTP1Serializer.appendCRLF(into: &output)
    }

    mutating func appendTransferEncodingChunked() {
        output.append(contentsOf: "Transfer-Encoding: chunked\r\n".utf8)
    }

    /// Writes a final error response with no content that closes the connection.
    mutating func writeErrorResponse(status: Int, reason: StaticString) {
        do throws(HTTP1SerializeError) {
            try HTTP1Serializer.writeStatusLine(status: status, reason: reason.description, into: &output)
        } catch {
            return
        }
        appendContentLength(0)
        appendConnectionClose()
        HTTP1Serializer.writeEndOfHead(into: &output)
    }

    /// Writes a start line (by `startLine`) and `fields` into the output and returns where the
    /// head began (for a later refusal to take it back); when the serializer refuses a part,
    /// takes back everything it wrote, so a refused head leaves no trace.
    @discardableResult
    private mutating func writeHead(
        fields: [(name: String, value: String)],
        startLine: (inout [UInt8]) throws(HTTP1SerializeError) -> Void
    ) throws(HTTP1UsageError) -> Int {
        let mark = output.count
        do throws(HTTP1SerializeError) {
            try startLine(&output)
            for field in fields { try HTTP1Serializer.writeField(name: field.name, value: field.value, into: &output) }
        } catch {
            output.removeSubrange(mark...)
            throw .invalidHead(error)
        }
        return mark
    }
}
