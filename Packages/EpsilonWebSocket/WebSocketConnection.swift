@_spi(EpsilonInternal) import EpsilonBytes

/// What the connection reports to a ``WebSocketEventHandler``.
///
/// Payload views point into the caller's input (unmasked data), the connection's reusable
/// unmask buffer (masked data) or its control-frame storage, and are valid only during the
/// `handle` call.
public enum WebSocketEvent: CustomStringConvertible {
    /// A data message starts. `compressed` is true when its first frame had RSV1 set under a
    /// negotiated compression extension: its data is then delivered as received (compressed),
    /// neither UTF-8-checked nor counted against the message limit; the extension does that.
    case messageBegan(WebSocketMessageKind, compressed: Bool)
    /// The next piece of the current message's payload (never empty).
    case messageData(WebSocketPayloadView)
    /// The current message is complete (and, for uncompressed text, valid UTF-8).
    case messageEnded
    /// A Ping arrived. With ``WebSocketConnection/PingPolicy/automaticPong`` its Pong is
    /// already in the connection's output, ahead of anything the handler sends now.
    case ping(WebSocketPayloadView)
    /// A Pong arrived.
    case pong(WebSocketPayloadView)
    /// The peer's Close frame: its status code (nil if it sent none) and reason (valid UTF-8).
    /// Unless the handler sends its own Close now, the connection answers with the same code
    /// when `handle` returns.
    case close(WebSocketCloseCode?, reason: WebSocketPayloadView)

    /// A short description for logs and tests.
    public var description: String {
        switch self {
        case .messageBegan(let kind, let compressed): return "messageBegan(\(kind)\(compressed ? ", compressed" : ""))"
        case .messageData(let view): return "messageData(\(view.count) bytes)"
        case .messageEnded: return "messageEnded"
        case .ping(let view): return "ping(\(view.count) bytes)"
        case .pong(let view): return "pong(\(view.count) bytes)"
        case .close(let code, let reason):
            return "close(\(code.map { "\($0)" } ?? "no code"), reason: \"\(reason.text)\")"
        }
    }
}

/// Receives the events of a ``WebSocketConnection`` and may answer them at once.
///
/// The connection calls it with a concrete type (`some WebSocketEventHandler`), so the
/// compiler can specialize the call. It passes *itself* as `connection`, in a consistent
/// state: whatever the handler sends through it (`send`, `sendPing`, `sendClose`, …) lands in
/// the connection's output right after what the connection produced on its own for the input
/// so far (an automatic Pong), so frames leave in the order of the input that caused them.
/// Throwing from `handle` fails the connection with that error. A handler must not call
/// `receive` on the connection it was handed.
public protocol WebSocketEventHandler {
    /// Handles one event; `connection` is the machine that delivers it.
    mutating func handle(_ event: WebSocketEvent, connection: inout WebSocketConnection) throws(WebSocketError)
}

/// The WebSocket connection machine for one end (RFC 6455 §5–§7), after the opening handshake.
///
/// It decodes frames (see ``WebSocketFrameDecoder``), assembles messages across fragments with
/// control frames interleaved, validates text incrementally as UTF-8, enforces the frame and
/// message limits, and runs the close handshake: open → closing → closed, with a timer for a
/// peer that never answers our Close. It is driven with the five verbs of "Driving a machine"
/// (Documentation/DrivingAMachine.md): ``receive(_:now:handler:)-(UnsafeRawBufferPointer,_,_)``,
/// ``WebSocketEventHandler/handle(_:connection:)``, `send…`, ``writeOutput(into:)``, and
/// ``nextDeadline`` with ``handleTimeouts(now:)``.
///
/// Frames it sends on its own — a Pong under ``PingPolicy/automaticPong``, the reply to the
/// peer's Close, the Close that reports a protocol error — go into its output in the order of
/// the input that caused them, among the frames the handler sends while handling that input.
///
/// After the peer's Close frame arrives, the rest of the input is ignored: RFC 6455 §5.5.1
/// says nothing may follow it. Data frames that arrive after *we* sent Close are still
/// delivered.
///
/// ```swift
/// var connection = WebSocketConnection(role: .server)
/// var handler = Echo()                       // a WebSocketEventHandler that sends from handle
/// try connection.receive(bytes, now: clock.now(), handler: &handler)
/// connection.writeOutput(into: &writeQueue)  // Pongs, echoes and Close replies, in order
/// ```
public struct WebSocketConnection: Sendable {
    /// How the connection answers Pings.
    public enum PingPolicy: Sendable, Hashable {
        /// Write a Pong with each Ping's payload into the output, in order. If the Pongs written
        /// since the last ``WebSocketConnection/writeOutput(into:)`` would pass
        /// ``Configuration/maxQueuedPongBytes``, the previous automatic Pong is withdrawn and
        /// only the latest Ping is answered, as RFC 6455 §5.5.3 allows, so a Ping flood cannot
        /// grow memory.
        case automaticPong
        /// Only report the Ping; the handler decides whether and when to answer.
        case manual
    }

    /// Where client masking keys come from.
    public enum MaskingKeys: Sendable, Hashable {
        /// A fresh key from the system's random source for every frame (RFC 6455 §5.3).
        case random
        /// Always this key (for tests and reproducible captures only).
        case fixed(UInt32)
    }

    /// Limits and policies.
    public struct Configuration: Sendable, Hashable {
        /// The largest frame payload accepted (default 16 MiB).
        public var maxFramePayload: UInt64 = 16 << 20
        /// The largest message accepted, summed over its fragments (default 16 MiB). For a
        /// compressed message this bounds the compressed bytes; the extension bounds the rest.
        public var maxMessageSize: UInt64 = 16 << 20
        /// How Pings are answered (default automatic).
        public var pingPolicy: PingPolicy = .automaticPong
        /// Whether RSV1 means "Per-Message Compressed" (set when permessage-deflate was negotiated).
        public var allowsCompressedMessages = false
        /// Accept non-minimal length encodings (a leniency; default false).
        public var acceptsNonMinimalLengths = false
        /// Where client masking keys come from (default random).
        public var maskingKeys: MaskingKeys = .random
        /// The most bytes of automatic Pong frames kept in the output between two
        /// ``WebSocketConnection/writeOutput(into:)`` calls (default 4 KiB; one more Pong may pass it).
        public var maxQueuedPongBytes = 4096
        /// How long, in nanoseconds, the peer has to answer our Close before the connection
        /// reports itself ``State/closed`` anyway (default 5 s; RFC 6455 §7.1.1).
        public var closeTimeout: UInt64 = 5_000_000_000
        /// Creates the default configuration.
        public init() {}
    }

    /// Where the connection stands in the close handshake.
    public enum State: Sendable, Equatable {
        /// Data flows both ways.
        case open
        /// We sent Close and wait for the peer's (``nextDeadline`` says until when).
        case closeSent
        /// The peer sent Close. Seen only while the handler handles that Close: the
        /// connection answers it when `handle` returns, unless the handler sent its own.
        case closeReceived
        /// Both Close frames are through, or the peer did not answer ours in time
        /// (``closeTimedOut``): write the output, then close the TCP connection.
        case closed
        /// The peer broke a rule; a Close frame reporting it is in the output unless one was
        /// already sent. Write the output, then close the TCP connection.
        case failed(WebSocketError)
    }

    // The message being received.
    enum Incoming: Sendable {
        case idle
        case message(WebSocketMessageKind, compressed: Bool)
    }

    // The frame being received.
    enum Frame: Sendable {
        case none
        case data(WebSocketFrameHeader)
        case control(WebSocketFrameHeader)
    }

    /// The role this end plays.
    public let role: WebSocketRole
    /// The configuration in force.
    public let configuration: Configuration
    /// The close-handshake state.
    public internal(set) var state: State = .open
    /// Whether the connection closed because the peer did not answer our Close within
    /// ``Configuration/closeTimeout``.
    public internal(set) var closeTimedOut = false
    /// The latest time (nanoseconds, the caller's monotonic clock) the connection was given
    /// through `receive`, ``handleTimeouts(now:)`` or ``sendClose(code:reason:now:)``; a
    /// handler that closes from inside `handle` can pass it on.
    public internal(set) var time: UInt64 = 0
    /// The stream offset of the first byte of the frame whose events are being delivered
    /// (for errors a handler or an extension reports about that frame).
    public internal(set) var currentFrameOffset = 0

    var decoder: WebSocketFrameDecoder
    var incoming: Incoming = .idle
    var frame: Frame = .none
    var messageSize: UInt64 = 0
    var control = InlineArray<125, UInt8>(repeating: 0)
    var controlCount = 0
    // Everything to send, in order, until writeOutput; capacity is kept between uses.
    var output: [UInt8] = []
    // The automatic Pongs written since the last writeOutput, and where the latest one sits.
    var pongBytes = 0
    var lastPong = 0..<0
    var sentClose = false
    var sendingMessage = false
    var closeDeadline: UInt64?
    var isReceiving = false
    // Stream offsets: the next payload byte of the frame being received, and the frame's end.
    var payloadOffset = 0
    var frameEndOffset = 0

    /// Creates the machine for the end playing `role`.
    public init(role: WebSocketRole, configuration: Configuration = Configuration()) {
        self.role = role
        self.configuration = configuration
        self.decoder = WebSocketFrameDecoder(role: role, configuration: Self.decoderConfiguration(configuration))
        // The decoder validates uncompressed text while it unmasks it (one pass); its errors
        // are the ones this connection threw when it validated after unmasking.
        self.decoder.validatesText = true
    }

    static func decoderConfiguration(_ configuration: Configuration) -> WebSocketFrameDecoder.Configuration {
        var frames = WebSocketFrameDecoder.Configuration()
        frames.maxFramePayload = configuration.maxFramePayload
        frames.acceptsNonMinimalLengths = configuration.acceptsNonMinimalLengths
        frames.allowedReservedBits = configuration.allowsCompressedMessages ? .rsv1 : []
        return frames
    }

    // MARK: Receiving

    /// Processes received bytes (only read, never written) and reports their events to `handler`.
    ///
    /// Consumes all of `bytes` and returns its count: partial frames are kept inside the
    /// machine. Masked payloads are unmasked while they are copied into a buffer the
    /// connection reuses. On a broken rule the connection moves to ``State/failed(_:)``, puts a
    /// Close with the error's code into its output and throws; later calls throw the same
    /// error. After the close handshake it ignores its input.
    ///
    /// - Parameters:
    ///   - bytes: the bytes read from the peer.
    ///   - now: the current time in nanoseconds on the caller's monotonic clock.
    ///   - handler: receives the events; it may send through the connection it is handed.
    @discardableResult
    public mutating func receive(_ bytes: UnsafeRawBufferPointer, now: UInt64, handler: inout some WebSocketEventHandler) throws(WebSocketError) -> Int {
        precondition(!isReceiving, "WebSocketConnection.receive called from inside handle on the same connection")
        time = now
        switch state {
        case .failed(let error): throw error
        case .closeReceived, .closed: return bytes.count
        case .open, .closeSent: break
        }
        // The decoder is moved out (a fresh one, which allocates nothing, stands in) so the
        // handler may be handed `self` while the decoder runs.
        var frames = WebSocketFrameDecoder(role: role, configuration: decoder.configuration)
        swap(&frames, &decoder)
        isReceiving = true
        defer {
            swap(&frames, &decoder)
            isReceiving = false
        }
        var stop = false
        do throws(WebSocketError) {
            try frames.decode(bytes) { (event) throws(WebSocketError) in
                if stop { return }
                switch event {
                case .header(let header, let offset, let payloadStart):
                    currentFrameOffset = offset
                    payloadOffset = payloadStart
                    // Wrapping: with a huge configured limit the sum must not trap.
                    frameEndOffset = payloadStart &+ Int(truncatingIfNeeded: header.payloadLength)
                    try begin(header, at: offset, handler: &handler)
                case .payload(let piece):
                    let offset = payloadOffset
                    payloadOffset &+= piece.count
                    try payload(piece, at: offset, handler: &handler)
                case .end:
                    stop = try end(handler: &handler)
                }
            }
        } catch {
            // Bytes after the peer's Close are ignored, even ones that do not parse.
            if stop { return bytes.count }
            fail(error)
            throw error
        }
        return bytes.count
    }

    /// Processes received bytes held in a span (see ``receive(_:now:handler:)-(UnsafeRawBufferPointer,_,_)``).
    @discardableResult
    public mutating func receive(_ bytes: RawSpan, now: UInt64, handler: inout some WebSocketEventHandler) throws(WebSocketError) -> Int {
        try bytes.withUnsafeBytes { (raw) throws(WebSocketError) in try receive(raw, now: now, handler: &handler) }
    }

    mutating func fail(_ error: WebSocketError) {
        state = .failed(error)
        closeDeadline = nil
        if !sentClose { writeCloseFrame(error.closeCode, reason: "") }
    }

    mutating func begin(_ header: WebSocketFrameHeader, at offset: Int, handler: inout some WebSocketEventHandler) throws(WebSocketError) {
        if header.opcode.isControl {
            // RFC 7692 §6.1: RSV1 is never set on a control frame.
            if !header.reserved.isEmpty { throw WebSocketError(.reservedBitsSet, offset: offset) }
            frame = .control(header)
            controlCount = 0
            return
        }
        switch (incoming, header.opcode) {
        case (.idle, .continuation):
            throw WebSocketError(.unexpectedContinuation, offset: offset)
        case (.message, .continuation):
            // RFC 7692 §6.1: RSV1 only on the first frame of a message.
            if !header.reserved.isEmpty { throw WebSocketError(.reservedBitsSet, offset: offset) }
        case (.message, _):
            throw WebSocketError(.expectedContinuation, offset: offset)
        case (.idle, let opcode):
            let kind: WebSocketMessageKind = opcode == .text ? .text : .binary
            let compressed = header.reserved.contains(.rsv1)
            incoming = .message(kind, compressed: compressed)
            messageSize = 0
            try handler.handle(.messageBegan(kind, compressed: compressed), connection: &self)
        }
        let (total, overflow) = messageSize.addingReportingOverflow(header.payloadLength)
        messageSize = total
        if overflow || messageSize > configuration.maxMessageSize {
            throw WebSocketError(.messageTooLarge, offset: offset)
        }
        frame = .data(header)
    }

    mutating func payload(_ bytes: UnsafeRawBufferPointer, at offset: Int, handler: inout some WebSocketEventHandler) throws(WebSocketError) {
        switch frame {
        case .control:
            for byte in bytes {
                control[controlCount] = byte
                controlCount &+= 1
            }
        case .data:
            // Uncompressed text was validated by the decoder as it unmasked it.
            try handler.handle(.messageData(WebSocketPayloadView(bytes)), connection: &self)
        case .none:
            break
        }
    }

    // Returns true when the rest of the input must be ignored (the peer's Close arrived).
    mutating func end(handler: inout some WebSocketEventHandler) throws(WebSocketError) -> Bool {
        let current = frame
        frame = .none
        switch current {
        case .none:
            return false
        case .data(let header):
            guard header.fin else { return false }
            incoming = .idle
            try handler.handle(.messageEnded, connection: &self)
            return false
        case .control(let header):
            return try endControl(header, handler: &handler)
        }
    }

    mutating func endControl(_ header: WebSocketFrameHeader, handler: inout some WebSocketEventHandler) throws(WebSocketError) -> Bool {
        let count = controlCount
        let offset = frameEndOffset - count
        // A copy, so the handler may be handed `self` while it reads the payload.
        let payload = control
        switch header.opcode {
        case .ping:
            if configuration.pingPolicy == .automaticPong, state == .open {
                writeAutomaticPong(payload, count: count)
            }
            try payload.span.withUnsafeBytes { (raw) throws(WebSocketError) in
                try handler.handle(.ping(WebSocketPayloadView(UnsafeRawBufferPointer(rebasing: raw[0..<count]))), connection: &self)
            }
            return false
        case .pong:
            try payload.span.withUnsafeBytes { (raw) throws(WebSocketError) in
                try handler.handle(.pong(WebSocketPayloadView(UnsafeRawBufferPointer(rebasing: raw[0..<count]))), connection: &self)
            }
            return false
        default:
            // RFC 6455 §5.5.1: an optional 2-byte code, then an optional UTF-8 reason.
            if count == 1 { throw WebSocketError(.closePayloadTooShort, offset: offset) }
            var code: WebSocketCloseCode? = nil
            if count >= 2 {
                let value = WebSocketCloseCode(UInt16(payload[0]) << 8 | UInt16(payload[1]))
                guard value.isValidOnWire else { throw WebSocketError(.invalidCloseCode, offset: offset) }
                code = value
                var reason = WebSocketUTF8Validator()
                let bad = payload.span.withUnsafeBytes { raw in
                    reason.validate(UnsafeRawBufferPointer(rebasing: raw[2..<count]))
                }
                if bad != nil || !reason.isComplete {
                    throw WebSocketError(.invalidCloseReason, offset: offset)
                }
            }
            let answering = state == .open
            if answering {
                state = .closeReceived
            } else if state == .closeSent {
                // RFC 6455 §7.1.1: both Close frames are through.
                state = .closed
                closeDeadline = nil
            }
            let reasonStart = min(2, count)
            try payload.span.withUnsafeBytes { (raw) throws(WebSocketError) in
                try handler.handle(.close(code, reason: WebSocketPayloadView(UnsafeRawBufferPointer(rebasing: raw[reasonStart..<count]))), connection: &self)
            }
            if answering {
                // RFC 6455 §5.5.1: answer with a Close, echoing the status code, unless the
                // handler already did.
                if !sentClose { writeCloseFrame(code, reason: "") }
                state = .closed
            }
            return true
        }
    }

    mutating func writeAutomaticPong(_ payload: InlineArray<125, UInt8>, count: Int) {
        let size = count + (role == .client ? 6 : 2)
        if pongBytes + size > configuration.maxQueuedPongBytes, !lastPong.isEmpty {
            // RFC 6455 §5.5.3: answering only the most recent Ping is allowed.
            output.removeSubrange(lastPong)
            pongBytes -= lastPong.count
            lastPong = 0..<0
        }
        let start = output.count
        let header = WebSocketFrameHeader(opcode: .pong, maskingKey: nextMaskingKey(), payloadLength: 0)
        payload.span.withUnsafeBytes { raw in
            WebSocketFrameEncoder.writeFrame(header, payload: UnsafeRawBufferPointer(rebasing: raw[0..<count]), into: &output)
        }
        lastPong = start..<output.count
        pongBytes += lastPong.count
    }

    // MARK: Time

    /// When ``handleTimeouts(now:)`` must be called next: the close deadline while we wait
    /// for the peer's answer to our Close; nil when no timer runs.
    public var nextDeadline: UInt64? {
        guard case .closeSent = state else { return nil }
        return closeDeadline
    }

    /// Lets time pass: once the close deadline has passed without the peer's Close, the
    /// connection moves to ``State/closed`` with ``closeTimedOut`` set, and the caller closes
    /// the TCP connection (RFC 6455 §7.1.1). Raises no error: a peer that stays silent broke
    /// no rule the connection could report to it.
    public mutating func handleTimeouts(now: UInt64) {
        time = now
        guard case .closeSent = state, let deadline = closeDeadline, now >= deadline else { return }
        state = .closed
        closeTimedOut = true
        closeDeadline = nil
    }
}
