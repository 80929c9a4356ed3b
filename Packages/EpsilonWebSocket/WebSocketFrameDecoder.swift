@_spi(EpsilonInternal) import EpsilonBytes

/// An incremental, zero-copy WebSocket frame decoder for either role (RFC 6455 §5).
///
/// Feed it the bytes you read, in any split; it calls your closure with a ``Event/header(_:offset:payloadOffset:)``
/// per frame, then ``Event/payload(_:)`` views of the payload and ``Event/end`` when the frame
/// is complete. It consumes every byte it is given: a partial header is kept inside the
/// decoder (at most 14 bytes), payload bytes are handed out as soon as they arrive. Your input
/// is never written to: unmasked payloads are views into your buffer; masked payloads are
/// unmasked while they are copied, in one pass, into a buffer the decoder owns and reuses
/// (at most 16 KiB, so a long frame arrives in several pieces). Views are valid only during
/// the callback.
///
/// It checks every frame-level rule: reserved bits without an extension, reserved opcodes,
/// control frames over 125 bytes or fragmented, masking by role, the 64-bit length's high
/// bit, minimal length encoding and the frame size limit. It does not know about messages;
/// ``WebSocketConnection`` adds fragmentation, UTF-8 and close handling on top.
///
/// ```swift
/// var decoder = WebSocketFrameDecoder(role: .server)
/// try bytes.withUnsafeBytes { buffer in
///     try decoder.decode(buffer) { event in print(event) }
/// }
/// ```
public struct WebSocketFrameDecoder: Sendable {
    /// Limits and leniencies of a decoder.
    public struct Configuration: Sendable, Hashable {
        /// The reserved bits a negotiated extension allows (default none).
        public var allowedReservedBits: WebSocketReservedBits = []
        /// The largest payload a frame may announce (default 16 MiB).
        public var maxFramePayload: UInt64 = 16 << 20
        /// Accept lengths not in their minimal encoding (RFC 6455 §5.2 requires minimal; default false).
        public var acceptsNonMinimalLengths: Bool = false
        /// Creates the default configuration.
        public init() {}
    }

    /// What the decoder reports.
    public enum Event: CustomStringConvertible {
        /// A complete, checked frame header, the stream offset of its first byte and the
        /// stream offset of its first payload byte.
        case header(WebSocketFrameHeader, offset: Int, payloadOffset: Int)
        /// The next piece of the current frame's payload, already unmasked; a view into the
        /// caller's buffer (unmasked frames) or the decoder's own (masked frames), valid only
        /// during the callback. Never empty.
        case payload(UnsafeRawBufferPointer)
        /// The current frame is complete.
        case end

        /// A short description for logs.
        public var description: String {
            switch self {
            case .header(let h, _, _): return "header(\(h))"
            case .payload(let p): return "payload(\(p.count) bytes)"
            case .end: return "end"
            }
        }
    }

    enum State: Sendable {
        case header
        case payload(WebSocketFrameHeader, remaining: UInt64, phase: Int)
        case failed(WebSocketError)
    }

    /// The role of the end that receives: a server expects masked frames, a client unmasked.
    public let role: WebSocketRole
    /// The configuration in force.
    public var configuration: Configuration

    var state: State = .header
    // Bytes of a header that arrived split across calls.
    var headerBytes = InlineArray<14, UInt8>(repeating: 0)
    var headerCount = 0
    // Masked payload is unmasked into this buffer while it is copied; grown up to
    // `unmaskChunk` bytes and kept, so steady-state decoding allocates nothing.
    var unmasked: [UInt8] = []
    static let unmaskChunk = 16 * 1024
    // Text validation for WebSocketConnection (off for other users of the decoder): the payload
    // of uncompressed text messages is validated as UTF-8 while it is unmasked, in one pass.
    var validatesText = false
    var textValidator = WebSocketUTF8Validator()
    // Whether the message in progress is uncompressed text, and whether this frame is part of it.
    var inText = false
    var validatingFrame = false
    /// The number of bytes consumed since the start of the stream (used for error offsets).
    public private(set) var streamOffset = 0

    /// Creates a decoder for the end playing `role`.
    public init(role: WebSocketRole, configuration: Configuration = Configuration()) {
        self.role = role
        self.configuration = configuration
    }

    /// Whether the decoder stands between frames (no partial header or payload pending).
    public var isAtFrameBoundary: Bool {
        if case .header = state { return headerCount == 0 }
        return false
    }

    /// Decodes `input` and reports events to `body`; `input` is only read.
    ///
    /// Consumes all of `input`. After an error (thrown by the decoder or by `body`) the decoder
    /// stays failed and rethrows the same error on every later call.
    public mutating func decode(
        _ input: UnsafeRawBufferPointer,
        _ body: (Event) throws(WebSocketError) -> Void
    ) throws(WebSocketError) {
        if case .failed(let error) = state { throw error }
        do {
            try run(input, body)
        } catch {
            state = .failed(error)
            throw error
        }
    }

    /// Decodes the bytes of `input` (see ``decode(_:_:)-(UnsafeRawBufferPointer,_)``).
    public mutating func decode(
        _ input: RawSpan,
        _ body: (Event) throws(WebSocketError) -> Void
    ) throws(WebSocketError) {
        try input.withUnsafeBytes { (raw) throws(WebSocketError) in try decode(raw, body) }
    }

    private mutating func run(
        _ input: UnsafeRawBufferPointer,
        _ body: (Event) throws(WebSocketError) -> Void
    ) throws(WebSocketError) {
        guard let base = input.baseAddress else { return }
        let count = input.count
        var i = 0
        while i < count || Self.isEmptyPayloadPending(state) {
            switch state {
            case .failed(let error):
                throw error
            case .header:
                if headerCount == 0, count &- i >= 14 {
                    // Fast path: the whole header is in the input.
                    let raw = UnsafeRawBufferPointer(start: base + i, count: 14)
                    let (header, size) = try Self.parseHeader(raw, role: role, configuration: configuration, at: streamOffset)
                    let start = streamOffset
                    i &+= size
                    streamOffset &+= size
                    try begin(header, at: start, body)
                } else {
                    headerBytes[headerCount] = base.load(fromByteOffset: i, as: UInt8.self)
                    headerCount &+= 1
                    i &+= 1
                    let done: (WebSocketFrameHeader, Int)? = try headerBytes.span.withUnsafeBytes { raw throws(WebSocketError) in
                        let view = UnsafeRawBufferPointer(rebasing: raw[0..<headerCount])
                        let needed = try Self.neededHeaderSize(view, role: role, configuration: configuration, at: streamOffset)
                        guard headerCount == needed else { return nil }
                        return try Self.parseHeader(view, role: role, configuration: configuration, at: streamOffset)
                    }
                    if let (header, size) = done {
                        let start = streamOffset
                        headerCount = 0
                        streamOffset &+= size
                        try begin(header, at: start, body)
                    }
                }
            case .payload(let header, let remaining, let phase):
                if remaining == 0 {
                    try endFrame(header)
                    state = .header
                    try body(.end)
                    continue
                }
                let available = UInt64(count &- i)
                var take = Int(min(remaining, available))
                let chunk = UnsafeRawBufferPointer(start: base + i, count: take)
                var nextPhase = phase
                if let key = header.maskingKey {
                    take = Swift.min(take, Self.unmaskChunk)
                    if unmasked.count < take { growUnmaskBuffer(to: take) }
                    // Moved out while the piece is delivered, so `self` can change meanwhile;
                    // the array stays uniquely referenced, so this neither copies nor allocates.
                    var buffer = unmasked
                    unmasked = []
                    defer { unmasked = buffer }
                    i &+= take
                    streamOffset &+= take
                    let left = remaining &- UInt64(take)
                    let piece = UnsafeRawBufferPointer(rebasing: chunk[0..<take])
                    let pieceOffset = streamOffset &- take
                    try buffer.withMutableBytes { (scratch) throws(WebSocketError) in
                        if validatingFrame {
                            let (next, bad) = textValidator.unmaskAndValidate(key: key, phase: phase, from: piece, to: scratch)
                            if let bad { throw WebSocketError(.invalidUTF8, offset: pieceOffset &+ bad) }
                            nextPhase = next
                        } else {
                            nextPhase = WebSocketMasking.apply(key: key, phase: phase, from: piece, to: scratch)
                        }
                        state = .payload(header, remaining: left, phase: nextPhase)
                        try body(.payload(UnsafeRawBufferPointer(rebasing: scratch[0..<take])))
                    }
                    if left == 0 {
                        try endFrame(header)
                        state = .header
                        try body(.end)
                    }
                    continue
                }
                if validatingFrame, let bad = textValidator.validate(chunk) {
                    throw WebSocketError(.invalidUTF8, offset: streamOffset &+ bad)
                }
                i &+= take
                streamOffset &+= take
                let left = remaining &- UInt64(take)
                state = .payload(header, remaining: left, phase: nextPhase)
                try body(.payload(chunk))
                if left == 0 {
                    try endFrame(header)
                    state = .header
                    try body(.end)
                }
            }
        }
    }

    // Grows the unmask buffer in powers of two up to `unmaskChunk`.
    private mutating func growUnmaskBuffer(to size: Int) {
        var capacity = Swift.max(256, unmasked.count)
        while capacity < size { capacity &*= 2 }
        unmasked = [UInt8](repeating: 0, count: Swift.min(capacity, Self.unmaskChunk))
    }

    // A frame with an empty payload ends without needing more input.
    // Static, as the other helpers the loop calls per frame: a method on `self` could copy
    // the decoder (and retain its unmask buffer) on every call.
    private static func isEmptyPayloadPending(_ state: State) -> Bool {
        if case .payload(_, let remaining, _) = state { return remaining == 0 }
        return false
    }

    private mutating func begin(_ header: WebSocketFrameHeader, at offset: Int, _ body: (Event) throws(WebSocketError) -> Void) throws(WebSocketError) {
        state = .payload(header, remaining: header.payloadLength, phase: 0)
        if validatesText { beginText(header) }
        try body(.header(header, offset: offset, payloadOffset: streamOffset))
        if header.payloadLength == 0 {
            try endFrame(header)
            state = .header
            try body(.end)
        }
    }

    // Which frames carry uncompressed text (the connection refuses a frame out of sequence
    // when it gets its header, before any payload): a text frame starts such a message, a
    // binary one another kind, a continuation goes on with the message, a control frame is
    // no part of it (the connection checks a Close reason itself).
    private mutating func beginText(_ header: WebSocketFrameHeader) {
        switch header.opcode {
        case .text:
            inText = !header.reserved.contains(.rsv1)
            textValidator.reset()
        case .continuation:
            break
        default:
            if !header.opcode.isControl { inText = false }
            validatingFrame = false
            return
        }
        validatingFrame = inText
    }

    // The last frame of a text message must not end inside a UTF-8 sequence. Mutating, so
    // it takes `self` in place: a non-mutating call copied the decoder (and retained its
    // unmask buffer) once per frame.
    @inline(__always)
    private mutating func endFrame(_ header: WebSocketFrameHeader) throws(WebSocketError) {
        if validatingFrame && header.fin && !textValidator.isComplete {
            throw WebSocketError(.invalidUTF8, offset: streamOffset)
        }
    }

    /// Checks the first two bytes as soon as they are in and returns the header's full size.
    static func neededHeaderSize(_ raw: UnsafeRawBufferPointer, role: WebSocketRole, configuration: Configuration, at offset: Int) throws(WebSocketError) -> Int {
        guard raw.count >= 1 else { return 2 }
        try checkFirstByte(raw[0], configuration: configuration, at: offset)
        guard raw.count >= 2 else { return 2 }
        let b1 = raw[1]
        try checkSecondByte(b1, first: raw[0], role: role, at: offset)
        var size = 2
        switch b1 & 0x7F {
        case 126: size += 2
        case 127: size += 8
        default: break
        }
        // Refuse a bad length before waiting for the masking key.
        if raw.count == size { _ = try checkLength(raw, configuration: configuration, at: offset) }
        if b1 & 0x80 != 0 { size += 4 }
        return size
    }

    static func checkFirstByte(_ b0: UInt8, configuration: Configuration, at offset: Int) throws(WebSocketError) {
        let reserved = WebSocketReservedBits(rawValue: b0)
        // RFC 6455 §5.2: RSV bits MUST be 0 unless an extension defines them.
        guard configuration.allowedReservedBits.isSuperset(of: reserved) else {
            throw WebSocketError(.reservedBitsSet, offset: offset)
        }
        let opcode = WebSocketOpcode(rawValue: b0)
        guard opcode.isDefined else { throw WebSocketError(.reservedOpcode, offset: offset) }
        // RFC 6455 §5.5: control frames MUST NOT be fragmented.
        if opcode.isControl && b0 & 0x80 == 0 {
            throw WebSocketError(.fragmentedControlFrame, offset: offset)
        }
    }

    static func checkSecondByte(_ b1: UInt8, first b0: UInt8, role: WebSocketRole, at offset: Int) throws(WebSocketError) {
        let masked = b1 & 0x80 != 0
        // RFC 6455 §5.1: a server MUST close on an unmasked frame, a client on a masked one.
        switch role {
        case .server where !masked: throw WebSocketError(.unmaskedClientFrame, offset: offset + 1)
        case .client where masked: throw WebSocketError(.maskedServerFrame, offset: offset + 1)
        default: break
        }
        // RFC 6455 §5.5: control frames have a payload of 125 bytes or less.
        if WebSocketOpcode(rawValue: b0).isControl && b1 & 0x7F > 125 {
            throw WebSocketError(.controlFrameTooLong, offset: offset + 1)
        }
    }

    /// Parses a complete header from the front of `raw`.
    private static func parseHeader(_ raw: UnsafeRawBufferPointer, role: WebSocketRole, configuration: Configuration, at offset: Int) throws(WebSocketError) -> (WebSocketFrameHeader, Int) {
        let b0 = raw[0], b1 = raw[1]
        try Self.checkFirstByte(b0, configuration: configuration, at: offset)
        try Self.checkSecondByte(b1, first: b0, role: role, at: offset)
        let (length, size) = try Self.checkLength(raw, configuration: configuration, at: offset)
        var keyOffset = size
        var key: UInt32? = nil
        if b1 & 0x80 != 0 {
            key = UInt32(raw[keyOffset]) << 24 | UInt32(raw[keyOffset + 1]) << 16 | UInt32(raw[keyOffset + 2]) << 8 | UInt32(raw[keyOffset + 3])
            keyOffset += 4
        }
        let header = WebSocketFrameHeader(
            fin: b0 & 0x80 != 0,
            reserved: WebSocketReservedBits(rawValue: b0),
            opcode: WebSocketOpcode(rawValue: b0),
            maskingKey: key,
            payloadLength: length
        )
        return (header, keyOffset)
    }

    /// Reads and checks the payload length once its bytes are in: the 64-bit high bit, the
    /// minimal encoding and the frame limit. Returns the length and the offset after it.
    static func checkLength(_ raw: UnsafeRawBufferPointer, configuration: Configuration, at offset: Int) throws(WebSocketError) -> (UInt64, Int) {
        var size = 2
        var length = UInt64(raw[1] & 0x7F)
        if length == 126 {
            length = UInt64(raw[2]) << 8 | UInt64(raw[3])
            size = 4
            if length < 126 && !configuration.acceptsNonMinimalLengths {
                throw WebSocketError(.payloadLengthNotMinimal, offset: offset + 2)
            }
        } else if length == 127 {
            length = 0
            for j in 2..<10 { length = length << 8 | UInt64(raw[j]) }
            size = 10
            // RFC 6455 §5.2: the most significant bit MUST be 0.
            if length >> 63 != 0 { throw WebSocketError(.payloadLengthHighBitSet, offset: offset + 2) }
            if length <= 0xFFFF && !configuration.acceptsNonMinimalLengths {
                throw WebSocketError(.payloadLengthNotMinimal, offset: offset + 2)
            }
        }
        if length > configuration.maxFramePayload {
            throw WebSocketError(.frameTooLarge, offset: offset + 1)
        }
        return (length, size)
    }
}
