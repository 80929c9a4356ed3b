/// An incremental, zero-copy WebSocket frame decoder for either role (RFC 6455 §5).
///
/// Feed it the bytes you read, in any split; it calls your closure with a ``Event/header(_:)``
/// per frame, then ``Event/payload(_:)`` views of the payload, unmasked in place in your
/// buffer, and ``Event/end`` when the frame is complete. It consumes every byte it is given:
/// a partial header is kept inside the decoder (at most 14 bytes), payload bytes are handed
/// out as soon as they arrive. Views are valid only during the callback.
///
/// It checks every frame-level rule: reserved bits without an extension, reserved opcodes,
/// control frames over 125 bytes or fragmented, masking by role, the 64-bit length's high
/// bit, minimal length encoding and the frame size limit. It does not know about messages;
/// ``Connection`` adds fragmentation, UTF-8 and close handling on top.
///
/// ```swift
/// var decoder = FrameDecoder(role: .server)
/// try bytes.withUnsafeMutableBytes { buffer in
///     try decoder.decode(buffer) { event in print(event) }
/// }
/// ```
public struct FrameDecoder: Sendable {
    /// Limits and leniencies of a decoder.
    public struct Configuration: Sendable, Hashable {
        /// The reserved bits a negotiated extension allows (default none).
        public var allowedReservedBits: ReservedBits = []
        /// The largest payload a frame may announce (default 16 MiB).
        public var maxFramePayload: UInt64 = 16 << 20
        /// Accept lengths not in their minimal encoding (RFC 6455 §5.2 requires minimal; default false).
        public var acceptsNonMinimalLengths: Bool = false
        /// Creates the default configuration.
        public init() {}
    }

    /// What the decoder reports.
    public enum Event: CustomStringConvertible {
        /// A complete, checked frame header and the stream offset of its first byte.
        case header(FrameHeader, offset: Int)
        /// The next piece of the current frame's payload, already unmasked; a view into the
        /// caller's buffer, valid only during the callback. Never empty.
        case payload(UnsafeRawBufferPointer)
        /// The current frame is complete.
        case end

        /// A short description for logs.
        public var description: String {
            switch self {
            case .header(let h, _): return "header(\(h))"
            case .payload(let p): return "payload(\(p.count) bytes)"
            case .end: return "end"
            }
        }
    }

    enum State: Sendable {
        case header
        case payload(FrameHeader, remaining: UInt64, phase: Int)
        case failed(WebSocketError)
    }

    /// The role of the end that receives: a server expects masked frames, a client unmasked.
    public let role: Role
    /// The configuration in force.
    public var configuration: Configuration

    var state: State = .header
    // Bytes of a header that arrived split across calls.
    var headerBytes = InlineArray<14, UInt8>(repeating: 0)
    var headerCount = 0
    /// The number of bytes consumed since the start of the stream (used for error offsets).
    public private(set) var streamOffset = 0

    /// Creates a decoder for the end playing `role`.
    public init(role: Role, configuration: Configuration = Configuration()) {
        self.role = role
        self.configuration = configuration
    }

    /// Whether the decoder stands between frames (no partial header or payload pending).
    public var isAtFrameBoundary: Bool {
        if case .header = state { return headerCount == 0 }
        return false
    }

    /// Decodes `input`, unmasking payload in place, and reports events to `body`.
    ///
    /// Consumes all of `input`. After an error (thrown by the decoder or by `body`) the decoder
    /// stays failed and rethrows the same error on every later call.
    public mutating func decode(
        _ input: UnsafeMutableRawBufferPointer,
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

    private mutating func run(
        _ input: UnsafeMutableRawBufferPointer,
        _ body: (Event) throws(WebSocketError) -> Void
    ) throws(WebSocketError) {
        guard let base = input.baseAddress else { return }
        let count = input.count
        var i = 0
        while i < count || isEmptyPayloadPending {
            switch state {
            case .failed(let error):
                throw error
            case .header:
                if headerCount == 0, count &- i >= 14 {
                    // Fast path: the whole header is in the input.
                    let raw = UnsafeRawBufferPointer(start: base + i, count: 14)
                    let (header, size) = try parseHeader(raw, at: streamOffset)
                    let start = streamOffset
                    i &+= size
                    streamOffset &+= size
                    try begin(header, at: start, body)
                } else {
                    headerBytes[headerCount] = base.load(fromByteOffset: i, as: UInt8.self)
                    headerCount &+= 1
                    i &+= 1
                    let done: (FrameHeader, Int)? = try headerBytes.span.withUnsafeBytes { raw throws(WebSocketError) in
                        let view = UnsafeRawBufferPointer(rebasing: raw[0..<headerCount])
                        let needed = try Self.neededHeaderSize(view, role: role, configuration: configuration, at: streamOffset)
                        guard headerCount == needed else { return nil }
                        return try parseHeader(view, at: streamOffset)
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
                    state = .header
                    try body(.end)
                    continue
                }
                let available = UInt64(count &- i)
                let take = Int(min(remaining, available))
                let chunk = UnsafeMutableRawBufferPointer(start: base + i, count: take)
                var nextPhase = phase
                if let key = header.maskingKey {
                    nextPhase = Masking.apply(key: key, phase: phase, to: chunk)
                }
                i &+= take
                streamOffset &+= take
                let left = remaining &- UInt64(take)
                state = .payload(header, remaining: left, phase: nextPhase)
                try body(.payload(UnsafeRawBufferPointer(chunk)))
                if left == 0 {
                    state = .header
                    try body(.end)
                }
            }
        }
    }

    // A frame with an empty payload ends without needing more input.
    private var isEmptyPayloadPending: Bool {
        if case .payload(_, let remaining, _) = state { return remaining == 0 }
        return false
    }

    private mutating func begin(_ header: FrameHeader, at offset: Int, _ body: (Event) throws(WebSocketError) -> Void) throws(WebSocketError) {
        state = .payload(header, remaining: header.payloadLength, phase: 0)
        try body(.header(header, offset: offset))
        if header.payloadLength == 0 {
            state = .header
            try body(.end)
        }
    }

    /// Checks the first two bytes as soon as they are in and returns the header's full size.
    static func neededHeaderSize(_ raw: UnsafeRawBufferPointer, role: Role, configuration: Configuration, at offset: Int) throws(WebSocketError) -> Int {
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
        let reserved = ReservedBits(rawValue: b0)
        // RFC 6455 §5.2: RSV bits MUST be 0 unless an extension defines them.
        guard configuration.allowedReservedBits.isSuperset(of: reserved) else {
            throw WebSocketError(.reservedBitsSet, offset: offset)
        }
        let opcode = Opcode(rawValue: b0)
        guard opcode.isDefined else { throw WebSocketError(.reservedOpcode, offset: offset) }
        // RFC 6455 §5.5: control frames MUST NOT be fragmented.
        if opcode.isControl && b0 & 0x80 == 0 {
            throw WebSocketError(.fragmentedControlFrame, offset: offset)
        }
    }

    static func checkSecondByte(_ b1: UInt8, first b0: UInt8, role: Role, at offset: Int) throws(WebSocketError) {
        let masked = b1 & 0x80 != 0
        // RFC 6455 §5.1: a server MUST close on an unmasked frame, a client on a masked one.
        switch role {
        case .server where !masked: throw WebSocketError(.unmaskedClientFrame, offset: offset + 1)
        case .client where masked: throw WebSocketError(.maskedServerFrame, offset: offset + 1)
        default: break
        }
        // RFC 6455 §5.5: control frames have a payload of 125 bytes or less.
        if Opcode(rawValue: b0).isControl && b1 & 0x7F > 125 {
            throw WebSocketError(.controlFrameTooLong, offset: offset + 1)
        }
    }

    /// Parses a complete header from the front of `raw`.
    private func parseHeader(_ raw: UnsafeRawBufferPointer, at offset: Int) throws(WebSocketError) -> (FrameHeader, Int) {
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
        let header = FrameHeader(
            fin: b0 & 0x80 != 0,
            reserved: ReservedBits(rawValue: b0),
            opcode: Opcode(rawValue: b0),
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
