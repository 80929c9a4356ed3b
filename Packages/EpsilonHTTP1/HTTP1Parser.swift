/// A sans-IO HTTP/1.1 parser for requests or responses (RFC 9112).
///
/// Drive it with ``receive(_:handler:)-(UnsafeRawBufferPointer,_)``: one call hands every
/// event the bytes hold to your ``HTTP1EventHandler`` and returns how many bytes it consumed.
/// Keep the unconsumed bytes (an incomplete head), append what arrives next, and call again:
/// any split of a stream gives the same events. Nothing is copied: the head's method, target
/// and fields and every body piece are ranges into the bytes passed to `handle`,
/// picohttpparser-style, recorded in storage the parser owns and reuses (``fields``), so
/// steady-state parsing allocates nothing.
///
/// ```swift
/// var parser = HTTP1Parser(role: .request)
/// var handler = MyHandler()                       // some HTTP1EventHandler
/// let consumed = try parser.receive(bytes, handler: &handler)
/// // keep bytes[consumed...], append the next read, call again
/// ```
///
/// ``parse(_:)-(UnsafeRawBufferPointer)`` is the low-level form `receive` is built on: one
/// ``HTTP1Step`` (an event and the bytes it consumed) per call, for callers that drive the
/// loop themselves.
///
/// Heads are handed out whole: a head is reported once its blank line has arrived, never in
/// pieces, so a handler sees complete names and values. Errors are typed, carry the stream
/// offset of the offending byte and leave the parser failed.
public struct HTTP1Parser: Sendable {
    /// Which side of the conversation the parser reads.
    public enum Role: Sendable, Equatable {
        /// Parse requests (a server).
        case request
        /// Parse responses (a client).
        case response
    }

    /// What the request answered by the next response was, for framing (RFC 9112 §6.3).
    public enum RequestKind: Sendable, Equatable {
        /// Any method but HEAD and CONNECT.
        case ordinary
        /// HEAD: the response has no body, whatever its fields say.
        case head
        /// CONNECT: a 2xx response turns the connection into a tunnel.
        case connect
    }

    /// Where a message head stands while its lines arrive.
    struct HeadProgress: Sendable {
        /// Start of the next unparsed line, relative to the head's first byte.
        var next = 0
        var startLineDone = false
        /// Whether bytes of an incomplete line are waiting in the caller's buffer.
        var partialLine = false
        var method = 0..<0
        var target = 0..<0
        var status = 0
        var reason = 0..<0
        var version = HTTP1Version.http11
    }

    /// Where the parser stands. Payload-free, so dispatching on it is one jump: what a state
    /// needs lives beside it (``progress`` for heads and trailers, ``remaining`` for body
    /// bytes, ``failure`` once failed).
    @usableFromInline
    enum State: UInt8, Sendable {
        case head
        case fixedBody
        case bodyUntilClose
        case chunkLine
        case chunkData
        case chunkDataEnd
        case trailers
        /// The last chunk and its trailers are done: report `chunkEnd`, then the end.
        case lastChunkEnd
        case messageEnd
        case upgraded
        case closed
        case failed
    }

    /// The side this parser reads.
    public let role: Role
    /// Limits and leniencies; change them between messages only.
    public var configuration: HTTP1Configuration
    /// The fields of the last head or trailer section, as ranges into the buffer of the call
    /// that returned it. Reused for every message.
    public internal(set) var fields: [HTTP1Field] = []

    @usableFromInline
    var state: State = .head
    /// The head or trailer section being parsed (states `head` and `trailers`).
    var progress = HeadProgress()
    /// Body bytes left in a Content-Length body or a chunk (states `fixedBody` and `chunkData`).
    @usableFromInline
    var remaining: UInt64 = 0
    /// The error the parser failed with (state `failed`).
    var failure = HTTP1ParseError(.unexpectedEndOfStream, at: 0)
    /// Which stored fields may be framing fields (Content-Length, Transfer-Encoding,
    /// Connection, Upgrade, Host, Expect), told apart by length and first byte as each is
    /// stored: bit k for field k, bit 63 for any field from index 63 on. Only these are compared
    /// in full when the head completes.
    var framingCandidates: UInt64 = 0
    /// Whether ``fields`` still holds the last head's fields while a new head's start line is
    /// parsed; the field lines overwrite them (see `parsePlainFieldLines`).
    var staleFields = false
    /// Bytes consumed since the parser was created: the base of error offsets.
    @usableFromInline
    var streamOffset = 0
    var requestKind: RequestKind = .ordinary
    /// Persistence and upgrade of the message being parsed, decided by its head.
    @usableFromInline
    var messageKeepsAlive = true
    var messageUpgrades = false
    @usableFromInline
    var bodyBytesSeen: UInt64 = 0
    /// Whether the head just reported asked for `100 Continue`, to be reported next.
    @usableFromInline
    var pendingExpectContinue = false
    /// Whether the message being parsed is a 1xx response that a final one will follow.
    var pendingInformational = false

    /// Creates a parser for one connection.
    public init(role: Role, configuration: HTTP1Configuration = HTTP1Configuration()) {
        self.role = role
        self.configuration = configuration
        fields.reserveCapacity(min(configuration.maxFieldCount, 32))
    }

    /// Bytes this parser consumed so far.
    public var consumedBytes: Int { streamOffset }

    /// Tells a response parser what the request its next response answers was.
    /// Set it before feeding each response; it falls back to ``RequestKind/ordinary`` after
    /// every final response.
    public mutating func expectResponse(to kind: RequestKind) {
        requestKind = kind
    }

    /// Continues parsing HTTP/1.1 after an ``HTTP1Event/upgrade`` the server declined.
    public mutating func declineUpgrade() {
        if state == .upgraded { startNextMessage(keepAlive: messageKeepsAlive) }
    }

    /// Whether the parser is between messages, with no partial message buffered.
    public var isIdle: Bool {
        state == .head && progress.next == 0 && !progress.partialLine
    }

    /// Parses the next event from `bytes`, which must begin with the bytes the previous call
    /// left unconsumed: the low-level, one-step form of
    /// ``receive(_:handler:)-(UnsafeRawBufferPointer,_)``. Ranges in the step index `bytes`.
    public mutating func parse(_ bytes: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> HTTP1Step {
        let step: HTTP1Step
        do {
            step = try nextStep(bytes)
        } catch {
            fail(error)
            throw error
        }
        streamOffset += step.consumed
        return step
    }

    /// Parses the next event from `bytes`; see ``parse(_:)-(UnsafeRawBufferPointer)``.
    public mutating func parse(_ bytes: RawSpan) throws(HTTP1ParseError) -> HTTP1Step {
        try bytes.withUnsafeBytes { (buffer) throws(HTTP1ParseError) -> HTTP1Step in
            try parse(buffer)
        }
    }

    /// Tells the parser the stream ended (the peer closed its side).
    ///
    /// Returns ``HTTP1Event/end`` when the close completes a message (a response body
    /// delimited by the connection close), `nil` when no message was in progress.
    /// Throws ``HTTP1ParseError/Rule/unexpectedEndOfStream`` when a message was cut short.
    public mutating func finish() throws(HTTP1ParseError) -> HTTP1Event? {
        switch state {
        case .bodyUntilClose:
            state = .closed
            return .end
        case .closed, .upgraded:
            return nil
        case .head where progress.next == 0 && !progress.partialLine:
            state = .closed
            return nil
        case .failed:
            throw failure
        default:
            let error = HTTP1ParseError(.unexpectedEndOfStream, at: streamOffset)
            fail(error)
            throw error
        }
    }

    // MARK: Dispatch

    /// Inlined into ``parse(_:)-(UnsafeRawBufferPointer)`` so the step is built in place, not
    /// copied out (it is as large as a head).
    @inline(__always)
    mutating func nextStep(_ b: UnsafeRawBufferPointer) throws(HTTP1ParseError) -> HTTP1Step {
        if pendingExpectContinue {
            pendingExpectContinue = false
            return HTTP1Step(.expectContinue, consumed: 0)
        }
        switch state {
        case .head:
            return try parseHead(b)
        case .fixedBody:
            guard b.count > 0 else { return HTTP1Step(.needMoreData, consumed: 0) }
            let n = Int(min(UInt64(b.count), remaining))
            remaining -= UInt64(n)
            if remaining == 0 { state = .messageEnd }
            return HTTP1Step(.body(0..<n), consumed: n)
        case .bodyUntilClose:
            guard b.count > 0 else { return HTTP1Step(.needMoreData, consumed: 0) }
            // Up to the limit, then fail at the first byte past it: the same events and
            // offset however the body is split.
            var n = b.count
            if let limit = configuration.maxBodyBytes {
                guard bodyBytesSeen < limit else { throw HTTP1ParseError(.bodyTooLarge, at: streamOffset) }
                n = Int(min(UInt64(n), limit - bodyBytesSeen))
            }
            bodyBytesSeen += UInt64(n)
            return HTTP1Step(.body(0..<n), consumed: n)
        case .chunkLine:
            return try parseChunkLine(b)
        case .chunkData:
            guard b.count > 0 else { return HTTP1Step(.needMoreData, consumed: 0) }
            let n = Int(min(UInt64(b.count), remaining))
            remaining -= UInt64(n)
            if remaining == 0 { state = .chunkDataEnd }
            return HTTP1Step(.body(0..<n), consumed: n)
        case .chunkDataEnd:
            return try parseChunkDataEnd(b)
        case .trailers:
            return try parseTrailers(b)
        case .lastChunkEnd:
            state = .messageEnd
            return HTTP1Step(.chunkEnd, consumed: 0)
        case .messageEnd:
            finishMessage()
            return HTTP1Step(.end, consumed: 0)
        case .upgraded:
            return HTTP1Step(.upgrade, consumed: 0)
        case .closed:
            guard b.count > 0 else { return HTTP1Step(.needMoreData, consumed: 0) }
            // With the leniency, what follows a closing message is discarded, never parsed.
            guard configuration.leniencies.contains(.dataAfterClose) else {
                throw HTTP1ParseError(.dataAfterClose, at: streamOffset)
            }
            return HTTP1Step(.needMoreData, consumed: b.count)
        case .failed:
            throw failure
        }
    }

    /// Leaves the parser failed: every further call throws `error`.
    @usableFromInline
    mutating func fail(_ error: HTTP1ParseError) {
        state = .failed
        failure = error
    }

    /// Counts body bytes against the configured limit.
    mutating func countBody(_ n: UInt64, at index: Int) throws(HTTP1ParseError) {
        bodyBytesSeen &+= n
        if let limit = configuration.maxBodyBytes, bodyBytesSeen > limit {
            throw HTTP1ParseError(.bodyTooLarge, at: streamOffset + index)
        }
    }

    /// Moves past a complete message.
    @usableFromInline
    mutating func finishMessage() {
        if role == .response && !pendingInformational { requestKind = .ordinary }
        if messageUpgrades {
            state = .upgraded
        } else {
            startNextMessage(keepAlive: messageKeepsAlive)
        }
    }

    mutating func startNextMessage(keepAlive: Bool) {
        bodyBytesSeen = 0
        if keepAlive {
            state = .head
            progress = HeadProgress()
        } else {
            state = .closed
        }
    }
}
