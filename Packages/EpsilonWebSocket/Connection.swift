/// What the connection reports to a ``WebSocketHandler``.
///
/// Payload views point into the caller's input buffer (data) or the connection's own storage
/// (control frames) and are valid only during the `handle` call.
public enum WebSocketEvent: CustomStringConvertible {
    /// A data message starts. `compressed` is true when its first frame had RSV1 set under a
    /// negotiated compression extension: its data is then delivered as received (compressed),
    /// neither UTF-8-checked nor counted against the message limit; the extension does that.
    case messageBegan(MessageKind, compressed: Bool)
    /// The next piece of the current message's payload (never empty).
    case messageData(PayloadView)
    /// The current message is complete (and, for uncompressed text, valid UTF-8).
    case messageEnded
    /// A Ping arrived. With ``Connection/PingPolicy/automaticPong`` a Pong is already queued.
    case ping(PayloadView)
    /// A Pong arrived.
    case pong(PayloadView)
    /// The peer's Close frame: its status code (nil if it sent none) and reason (valid UTF-8).
    case close(CloseCode?, reason: PayloadView)

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

/// Receives the events of a ``Connection``.
///
/// The connection calls it with a concrete type (`some WebSocketHandler`), so the compiler can
/// specialize the call. Throwing from `handle` fails the connection with that error.
public protocol WebSocketHandler {
    /// Handles one event.
    mutating func handle(_ event: WebSocketEvent) throws(WebSocketError)
}

/// The WebSocket connection machine for one end (RFC 6455 §5–§7), after the opening handshake.
///
/// It decodes frames (see ``FrameDecoder``), assembles messages across fragments with control
/// frames interleaved, validates text incrementally as UTF-8, enforces the frame and message
/// limits, and runs the close handshake: open → closing → closed. Frames it must send on its
/// own (a Pong under ``PingPolicy/automaticPong``, the reply to a Close, the Close that reports
/// a protocol error) are queued; write them with ``writePendingFrames(into:)``.
///
/// After the peer's Close frame arrives, the rest of the input is ignored: RFC 6455 §5.5.1 says
/// nothing may follow it. Data frames that arrive after *we* sent Close are still delivered.
///
/// ```swift
/// var connection = Connection(role: .server)
/// var handler = MyHandler()
/// try input.withUnsafeMutableBytes { try connection.receive($0, handler: &handler) }
/// try connection.writePendingFrames(into: &output)
/// ```
public struct Connection: Sendable {
    /// How the connection answers Pings.
    public enum PingPolicy: Sendable, Hashable {
        /// Queue a Pong with each Ping's payload, in order. If the queued Pongs would pass
        /// ``Configuration/maxQueuedPongBytes`` the older ones are dropped and only the latest
        /// Ping is answered, as RFC 6455 §5.5.3 allows, so a Ping flood cannot grow memory.
        case automaticPong
        /// Only report the Ping; the caller decides whether and when to answer.
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
        /// The most bytes of automatic Pong frames kept queued before older ones are dropped (default 4 KiB).
        public var maxQueuedPongBytes = 4096
        /// Creates the default configuration.
        public init() {}
    }

    /// Where the connection stands in the close handshake.
    public enum State: Sendable, Equatable {
        /// Data flows both ways.
        case open
        /// We sent Close and wait for the peer's.
        case closeSent
        /// The peer sent Close; our reply is queued (or the caller sends its own).
        case closeReceived
        /// Both Close frames are through: close the TCP connection.
        case closed
        /// A rule was broken; a Close frame reporting it is queued unless one was already sent.
        case failed(WebSocketError)
    }

    // The message being received.
    enum Incoming: Sendable {
        case idle
        case message(MessageKind, compressed: Bool)
    }

    // The frame being received.
    enum Frame: Sendable {
        case none
        case data(FrameHeader)
        case control(FrameHeader)
    }

    // What the connection still has to send on its own.
    enum PendingClose: Sendable, Equatable {
        case none
        case withoutCode
        case code(CloseCode)
    }

    /// The role this end plays.
    public let role: Role
    /// The configuration in force.
    public let configuration: Configuration
    /// The close-handshake state.
    public internal(set) var state: State = .open

    var decoder: FrameDecoder
    var incoming: Incoming = .idle
    var frame: Frame = .none
    var utf8 = UTF8Validator()
    var messageSize: UInt64 = 0
    var control = InlineArray<125, UInt8>(repeating: 0)
    var controlCount = 0
    // Encoded Pong frames waiting for writePendingFrames; capacity is kept between uses.
    var queuedPongs: [UInt8] = []
    var pendingClose: PendingClose = .none
    var sentClose = false
    var sendingMessage = false
    // The stream offset just past the frame being received (for error offsets).
    var frameEndOffset = 0

    /// Creates the machine for the end playing `role`.
    public init(role: Role, configuration: Configuration = Configuration()) {
        self.role = role
        self.configuration = configuration
        var frames = FrameDecoder.Configuration()
        frames.maxFramePayload = configuration.maxFramePayload
        frames.acceptsNonMinimalLengths = configuration.acceptsNonMinimalLengths
        frames.allowedReservedBits = configuration.allowsCompressedMessages ? .rsv1 : []
        self.decoder = FrameDecoder(role: role, configuration: frames)
    }

    /// Whether frames are queued for ``writePendingFrames(into:)``.
    public var hasPendingFrames: Bool { !queuedPongs.isEmpty || pendingClose != .none }

    // MARK: Receiving

    /// Processes received bytes, unmasking in place, and reports events to `handler`.
    ///
    /// Consumes all of `input`. On a broken rule the connection moves to ``State/failed(_:)``,
    /// queues a Close with the error's code and throws; later calls throw the same error.
    public mutating func receive(_ input: UnsafeMutableRawBufferPointer, handler: inout some WebSocketHandler) throws(WebSocketError) {
        switch state {
        case .failed(let error): throw error
        case .closeReceived, .closed: return
        case .open, .closeSent: break
        }
        guard let inputBase = input.baseAddress else { return }
        let streamBase = decoder.streamOffset
        // The decoder is moved out so the event closure may mutate the rest of `self`.
        var frames = decoder
        defer { decoder = frames }
        var stop = false
        do throws(WebSocketError) {
            try frames.decode(input) { (event) throws(WebSocketError) in
                if stop { return }
                switch event {
                case .header(let header, let offset):
                    // Wrapping: with a huge configured limit the sum must not trap.
                    frameEndOffset = offset &+ header.encodedSize &+ Int(truncatingIfNeeded: header.payloadLength)
                    try begin(header, at: offset, handler: &handler)
                case .payload(let bytes):
                    let offset = streamBase + (bytes.baseAddress! - UnsafeRawPointer(inputBase))
                    try payload(bytes, at: offset, handler: &handler)
                case .end:
                    stop = try end(handler: &handler)
                }
            }
        } catch {
            // Bytes after the peer's Close are ignored, even ones that do not parse.
            if stop { return }
            fail(error)
            throw error
        }
    }

    /// Processes received bytes held in an array (unmasked in place).
    public mutating func receive(_ input: inout [UInt8], handler: inout some WebSocketHandler) throws(WebSocketError) {
        let result: Result<Void, WebSocketError> = input.withUnsafeMutableBytes { buffer in
            Result { () throws(WebSocketError) in try receive(buffer, handler: &handler) }
        }
        try result.get()
    }

    mutating func fail(_ error: WebSocketError) {
        state = .failed(error)
        queuedPongs.removeAll(keepingCapacity: true)
        pendingClose = sentClose ? .none : .code(error.closeCode)
    }

    mutating func begin(_ header: FrameHeader, at offset: Int, handler: inout some WebSocketHandler) throws(WebSocketError) {
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
            let kind: MessageKind = opcode == .text ? .text : .binary
            let compressed = header.reserved.contains(.rsv1)
            incoming = .message(kind, compressed: compressed)
            utf8.reset()
            messageSize = 0
            try handler.handle(.messageBegan(kind, compressed: compressed))
        }
        let (total, overflow) = messageSize.addingReportingOverflow(header.payloadLength)
        messageSize = total
        if overflow || messageSize > configuration.maxMessageSize {
            throw WebSocketError(.messageTooLarge, offset: offset)
        }
        frame = .data(header)
    }

    mutating func payload(_ bytes: UnsafeRawBufferPointer, at offset: Int, handler: inout some WebSocketHandler) throws(WebSocketError) {
        switch frame {
        case .control:
            for byte in bytes {
                control[controlCount] = byte
                controlCount &+= 1
            }
        case .data:
            if case .message(.text, compressed: false) = incoming, let bad = utf8.validate(bytes) {
                throw WebSocketError(.invalidUTF8, offset: offset + bad)
            }
            try handler.handle(.messageData(PayloadView(bytes)))
        case .none:
            break
        }
    }

    // Returns true when the rest of the input must be ignored (the peer's Close arrived).
    mutating func end(handler: inout some WebSocketHandler) throws(WebSocketError) -> Bool {
        let current = frame
        frame = .none
        switch current {
        case .none:
            return false
        case .data(let header):
            guard header.fin else { return false }
            if case .message(.text, compressed: false) = incoming, !utf8.isComplete {
                throw WebSocketError(.invalidUTF8, offset: frameEndOffset)
            }
            incoming = .idle
            try handler.handle(.messageEnded)
            return false
        case .control(let header):
            return try endControl(header, handler: &handler)
        }
    }

    mutating func endControl(_ header: FrameHeader, handler: inout some WebSocketHandler) throws(WebSocketError) -> Bool {
        let count = controlCount
        let offset = frameEndOffset - count
        switch header.opcode {
        case .ping:
            if configuration.pingPolicy == .automaticPong, state == .open {
                queuePong(count)
            }
            try withControlPayload(count) { (view) throws(WebSocketError) in try handler.handle(.ping(view)) }
            return false
        case .pong:
            try withControlPayload(count) { (view) throws(WebSocketError) in try handler.handle(.pong(view)) }
            return false
        default:
            // RFC 6455 §5.5.1: an optional 2-byte code, then an optional UTF-8 reason.
            if count == 1 { throw WebSocketError(.closePayloadTooShort, offset: offset) }
            var code: CloseCode? = nil
            if count >= 2 {
                let value = CloseCode(UInt16(control[0]) << 8 | UInt16(control[1]))
                guard value.isValidOnWire else { throw WebSocketError(.invalidCloseCode, offset: offset) }
                code = value
                var reason = UTF8Validator()
                let bad = control.span.withUnsafeBytes { raw in
                    reason.validate(UnsafeRawBufferPointer(rebasing: raw[2..<count]))
                }
                if bad != nil || !reason.isComplete {
                    throw WebSocketError(.invalidCloseReason, offset: offset)
                }
            }
            switch state {
            case .open:
                state = .closeReceived
                queuedPongs.removeAll(keepingCapacity: true)
                pendingClose = code.map { .code($0) } ?? .withoutCode
            case .closeSent:
                state = .closed
            default:
                break
            }
            let reasonStart = min(2, count)
            try control.span.withUnsafeBytes { (raw) throws(WebSocketError) in
                try handler.handle(.close(code, reason: PayloadView(UnsafeRawBufferPointer(rebasing: raw[reasonStart..<count]))))
            }
            return true
        }
    }

    mutating func queuePong(_ count: Int) {
        if queuedPongs.count + count + 14 > configuration.maxQueuedPongBytes {
            queuedPongs.removeAll(keepingCapacity: true)
        }
        let header = FrameHeader(opcode: .pong, maskingKey: nextMaskingKey(), payloadLength: 0)
        // Built in a local so `control` can be read while the queue is appended to.
        var queue = queuedPongs
        queuedPongs = []
        control.span.withUnsafeBytes { raw in
            FrameEncoder.writeFrame(header, payload: UnsafeRawBufferPointer(rebasing: raw[0..<count]), into: &queue)
        }
        queuedPongs = queue
    }

    func withControlPayload(_ count: Int, _ body: (PayloadView) throws(WebSocketError) -> Void) throws(WebSocketError) {
        try control.span.withUnsafeBytes { (raw) throws(WebSocketError) in
            try body(PayloadView(UnsafeRawBufferPointer(rebasing: raw[0..<count])))
        }
    }
}
