// An HTTP/1.1 connection, one role, like h11's Connection: it owns a parser and frames what
// the application sends, pairing each response with its request (RFC 9112 §6.3, §9).

/// Receives the events of an ``HTTP1Connection``, with the connection itself so that a server
/// can answer (pipelined) requests inline.
///
/// The handler is a generic parameter: no closure or existential per event.
public protocol HTTP1ConnectionHandler {
    /// Handles one event.
    ///
    /// The event's ranges and those of ``HTTP1Connection/fields`` are offsets into `bytes`,
    /// valid only during this call. Whatever the handler sends through `connection` goes out
    /// in order after everything sent before; a handler must not call `receive` on it.
    mutating func handle(_ event: HTTP1Event, bytes: UnsafeRawBufferPointer, connection: inout HTTP1Connection) throws(HTTP1ParseError)
}

/// A sans-IO HTTP/1.1 connection for one role (a server or a client): bytes in, events out,
/// messages in, bytes out.
///
/// It owns an ``HTTP1Parser`` and frames what the application sends: it pairs each response
/// with its request (HEAD, 1xx, 204, 304 and CONNECT have no content), decides keep-alive or
/// close (`Connection: close` on either side, HTTP/1.0 keep-alive), writes `Content-Length`,
/// chunked or close-delimited bodies, answers `Expect: 100-continue` when told to, and stops
/// after a protocol switch (101, or a 2xx to CONNECT) with the new protocol's bytes left
/// unconsumed.
///
/// Pipelining: a server receives requests ahead of its responses (up to
/// ``maxPendingRequests``, then `receive` pauses); each response answers the oldest request
/// not yet answered, and a response head sent before the previous response ended is a usage
/// error (``HTTP1UsageError/messageInProgress``), never queued.
///
/// ```swift
/// struct Hello: HTTP1ConnectionHandler {
///     mutating func handle(_ event: HTTP1Event, bytes: UnsafeRawBufferPointer,
///                          connection: inout HTTP1Connection) throws(HTTP1ParseError) {
///         guard case .end = event, connection.role == .server else { return }
///         try? connection.sendResponseHead(status: 200, reason: "OK", body: .known(5))
///         try? connection.sendBody("hello".utf8)
///         try? connection.sendEnd()
///     }
/// }
/// var connection = HTTP1Connection(role: .server)
/// var handler = Hello()
/// let consumed = try connection.receive(bytes, handler: &handler)   // keep bytes[consumed...]
/// connection.writeOutput(into: &outbound)
/// if connection.isClosed { /* close after the write */ }
/// ```
public struct HTTP1Connection: Sendable {
    /// Which side of the conversation this connection is.
    public enum Role: Sendable, Equatable {
        /// Receives requests, sends responses.
        case server
        /// Sends requests, receives responses.
        case client
    }

    /// One request and what is known of its answer, in request order.
    struct Exchange: Sendable {
        var kind: HTTP1Parser.RequestKind
        var version: HTTP1Version
        /// What the request said about persistence (and, for a client, the response).
        var keepAlive: Bool
        var expectsContinue: Bool
        var continueSent = false
        /// The request's end was received (server) or sent (client).
        var requestComplete = false
        /// The request asked to switch protocols (Upgrade or CONNECT).
        var upgradeRequested: Bool
    }

    /// What may follow the head just sent.
    enum OutboundBody: Sendable, Equatable {
        /// Nothing: the head's message has no content (HEAD, 204, 304, CONNECT request).
        case none
        /// Exactly this many more bytes.
        case fixed(remaining: UInt64)
        case chunked
        /// Until the connection closes (a response to HTTP/1.0 of unknown length).
        case untilClose
    }

    /// Where the sending side stands.
    enum Outbound: Sendable, Equatable {
        /// Between messages.
        case idle
        /// A head went out; its body and end may follow.
        case body(OutboundBody, closeAfter: Bool)
    }

    /// Where the connection as a whole stands.
    enum Lifecycle: Sendable, Equatable {
        case open
        /// Done: the last response or request ended with close, or the peer broke a rule.
        case closed
        /// Switched protocols: the bytes not consumed belong to the new protocol.
        case upgraded
    }

    /// The side this connection is.
    public let role: Role
    /// How many received requests may wait for their responses before `receive` pauses
    /// (server). Default: 16.
    public var maxPendingRequests = 16
    var parser: HTTP1Parser
    var output: [UInt8] = []
    /// Requests not yet answered, oldest first: received (server) or sent (client).
    var exchanges: [Exchange] = []
    var outbound = Outbound.idle
    var lifecycle = Lifecycle.open
    var failure: HTTP1ParseError?
    /// The parser is between messages: a client tells it what the next response answers.
    var atMessageStart = true
    /// The `.upgrade` event for the request at the end of ``exchanges`` was delivered.
    var upgradeDelivered = false
    var inReceive = false

    /// Creates a connection for one role, with the parser's limits and leniencies.
    public init(role: Role, configuration: HTTP1Configuration = HTTP1Configuration()) {
        self.role = role
        parser = HTTP1Parser(role: role == .server ? .request : .response, configuration: configuration)
        exchanges.reserveCapacity(4)
    }

    /// The fields of the last head or trailer section, as ranges into the `bytes` of the
    /// event that reported it.
    public var fields: [HTTP1Field] { parser.fields }

    /// Whether the connection is done: write out what ``writeOutput(into:)`` gives, then close
    /// the transport.
    public var isClosed: Bool { lifecycle == .closed }

    /// Whether the connection switched protocols: the bytes `receive` did not consume, and all
    /// that follow, belong to the new protocol.
    public var isUpgraded: Bool { lifecycle == .upgraded }

    /// Whether no request or response is in progress on either side: a server may close such
    /// a connection without cutting a message.
    public var isIdle: Bool { exchanges.isEmpty && outbound == .idle && parser.isIdle }

    /// Whether a message head has been received whose body has not ended yet (a server reads
    /// a request body, a client a response body).
    public var isReceivingBody: Bool { !atMessageStart && !parser.isIdle && !parser.isHeadInProgress }

    // MARK: Receive

    /// Parses every event `bytes` hold and hands each to `handler` with the connection;
    /// returns how many bytes it consumed.
    ///
    /// `bytes` must begin with the bytes the previous call left unconsumed; an incomplete head
    /// stays unconsumed. The call also stops, leaving the rest unconsumed, when the connection
    /// closes or switches protocols (``isClosed``, ``isUpgraded``), when a request asks to
    /// switch and has no answer yet, and when ``maxPendingRequests`` requests wait for their
    /// responses: call it again with the same bytes once answered.
    ///
    /// A peer error leaves the connection failed (later calls throw it again) and, on a
    /// server with nothing else to answer, a `400` (`413`, `414`, `431` for limits, `505` for an unsupported version) with
    /// `Connection: close` ready for ``writeOutput(into:)``. A call from inside `handle`
    /// consumes nothing.
    public mutating func receive(_ bytes: UnsafeRawBufferPointer, handler: inout some HTTP1ConnectionHandler) throws(HTTP1ParseError) -> Int {
        if let failure { throw failure }
        guard !inReceive else { return 0 }
        inReceive = true
        defer { inReceive = false }
        var offset = 0
        while lifecycle == .open {
            // The last message closes the connection: what follows is not read (RFC 9112 §9.6).
            if parser.isClosedForInput { return offset }
            if parser.isUpgraded && role == .server {
                // A request asked to switch; go on only once it was answered without switching.
                guard let last = exchanges.last, last.upgradeRequested else {
                    parser.declineUpgrade()
                    upgradeDelivered = false
                    continue
                }
                if upgradeDelivered { return offset }
            } else if atMessageStart {
                if role == .server && exchanges.count >= maxPendingRequests { return offset }
                if role == .client { parser.expectResponse(to: exchanges.first?.kind ?? .ordinary) }
            }
            // Chunk lines, their data and CRLFs in one loop (HTTP1Connection+Chunks.swift).
            if parser.isAtChunkLine {
                offset = try receiveChunks(bytes, from: offset, handler: &handler)
                guard lifecycle == .open else { break }
            }
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            let step: HTTP1Step
            do {
                // Body pieces, plain chunk lines, chunk ends and message ends without `parse`.
                if let quick = try parser.quickStep(rest) {
                    step = quick
                } else {
                    step = try parser.parse(rest)
                }
            } catch {
                fail(error)
                throw error
            }
            offset &+= step.consumed
            switch step.event {
            case .needMoreData:
                return offset
            case .head(let head):
                do throws(HTTP1ParseError) {
                    try receivedHead(head, rest)
                } catch {
                    fail(error)
                    throw error
                }
            case .end:
                receivedEnd()
            case .upgrade:
                upgradeDelivered = true
                if role == .client { lifecycle = .upgraded }
            default:
                break
            }
            try handler.handle(step.event, bytes: rest, connection: &self)
        }
        return offset
    }

    /// Parses every event `bytes` hold; see ``receive(_:handler:)-(UnsafeRawBufferPointer,_)``.
    public mutating func receive(_ bytes: RawSpan, handler: inout some HTTP1ConnectionHandler) throws(HTTP1ParseError) -> Int {
        try bytes.withUnsafeBytes { (buffer) throws(HTTP1ParseError) -> Int in
            try receive(buffer, handler: &handler)
        }
    }

    /// Tells the connection the peer closed its side. Delivers the ``HTTP1Event/end`` of a
    /// response delimited by the close; throws ``HTTP1ParseError/Rule/unexpectedEndOfStream``
    /// when a message was cut short. The connection is closed afterwards.
    public mutating func receiveEndOfStream(handler: inout some HTTP1ConnectionHandler) throws(HTTP1ParseError) {
        if let failure { throw failure }
        guard lifecycle == .open else { return }
        let event: HTTP1Event?
        do {
            event = try parser.finish()
        } catch {
            fail(error)
            throw error
        }
        if let event {
            receivedEnd()
            try handler.handle(event, bytes: UnsafeRawBufferPointer(start: nil, count: 0), connection: &self)
        }
        lifecycle = .closed
    }

    mutating func receivedHead(_ head: HTTP1Head, _ bytes: UnsafeRawBufferPointer) throws(HTTP1ParseError) {
        atMessageStart = false
        switch role {
        case .server:
            let kind: HTTP1Parser.RequestKind = bytes.equals(head.method, "HEAD") ? .head
                : bytes.equals(head.method, "CONNECT") ? .connect : .ordinary
            exchanges.append(Exchange(kind: kind, version: head.version, keepAlive: head.keepAlive,
                                      expectsContinue: head.expectsContinue, upgradeRequested: head.upgrade))
        case .client:
            guard !exchanges.isEmpty else {
                throw HTTP1ParseError(.responseWithoutRequest, at: parser.consumedBytes - head.length)
            }
            // RFC 9112 §9.3: a final response decides persistence; a 1xx does not.
            if head.status >= 200 || head.status == 101 {
                exchanges[0].keepAlive = exchanges[0].keepAlive && head.keepAlive
            }
        }
    }

    mutating func receivedEnd() {
        atMessageStart = true
        switch role {
        case .server:
            if !exchanges.isEmpty { exchanges[exchanges.count - 1].requestComplete = true }
        case .client:
            // A 1xx (but 101) is followed by the final response to the same request.
            guard parser.lastStatusWasFinal, !exchanges.isEmpty else { return }
            let exchange = exchanges.removeFirst()
            if parser.isUpgraded { return }
            if !exchange.keepAlive { lifecycle = .closed }
        }
    }

    mutating func fail(_ error: HTTP1ParseError) {
        failure = error
        lifecycle = .closed
        // A server answers the broken request if nothing else is owed first.
        guard role == .server, outbound == .idle, exchanges.count <= 1 else { return }
        let (status, reason): (Int, StaticString) = switch error.rule {
        case .headTooLarge, .tooManyFields: (431, "Request Header Fields Too Large")
        case .bodyTooLarge: (413, "Content Too Large")
        case .targetTooLong: (414, "URI Too Long")
        case .unsupportedVersion: (505, "HTTP Version Not Supported")
        default: (400, "Bad Request")
        }
        writeErrorResponse(status: status, reason: reason)
    }

    // MARK: Output

    /// Appends everything the connection has to send, in order, to `buffer`, and forgets it.
    public mutating func writeOutput(into buffer: inout [UInt8]) {
        guard !output.isEmpty else { return }
        buffer.append(contentsOf: output)
        output.removeAll(keepingCapacity: true)
    }

    /// Whether ``writeOutput(into:)`` has bytes to give.
    public var hasOutput: Bool { !output.isEmpty }
}

extension HTTP1Parser {
    /// Whether the parser stopped after a message that switched protocols.
    var isUpgraded: Bool { state == .upgraded }
    /// Whether the last message closed the connection.
    var isClosedForInput: Bool { state == .closed }
    /// Whether a head (not a body or trailers) is being received.
    var isHeadInProgress: Bool { state == .head }
    /// Whether the last response head was a final one (not a 1xx other than 101).
    var lastStatusWasFinal: Bool { !pendingInformational }
}
