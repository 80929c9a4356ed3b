/// An error raised by the WebSocket machine: the rule that was broken and where.
///
/// Every error leaves the machine that raised it in a defined, failed state; the connection
/// machine queues a Close frame carrying ``closeCode`` so the caller can tell the peer why.
public struct WebSocketError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The rule that was broken, named after the RFC requirement.
    public enum Rule: Equatable, Sendable {
        /// RSV1/RSV2/RSV3 set without an extension that defines them (RFC 6455 §5.2).
        case reservedBitsSet
        /// Opcode 0x3–0x7 or 0xB–0xF (RFC 6455 §5.2).
        case reservedOpcode
        /// A control frame whose payload is longer than 125 bytes (RFC 6455 §5.5).
        case controlFrameTooLong
        /// A control frame with FIN clear (RFC 6455 §5.5).
        case fragmentedControlFrame
        /// A client frame without a mask (RFC 6455 §5.1).
        case unmaskedClientFrame
        /// A server frame with a mask (RFC 6455 §5.1).
        case maskedServerFrame
        /// A 64-bit length with its most significant bit set (RFC 6455 §5.2).
        case payloadLengthHighBitSet
        /// A length not in its minimal encoding (RFC 6455 §5.2).
        case payloadLengthNotMinimal
        /// A frame longer than the configured frame limit.
        case frameTooLarge
        /// A message longer than the configured message limit.
        case messageTooLarge
        /// A continuation frame with no message in progress (RFC 6455 §5.4).
        case unexpectedContinuation
        /// A new text or binary frame while a fragmented message is unfinished (RFC 6455 §5.4).
        case expectedContinuation
        /// Text that is not valid UTF-8 (RFC 6455 §8.1).
        case invalidUTF8
        /// A Close frame with a one-byte payload (RFC 6455 §5.5.1).
        case closePayloadTooShort
        /// A close status code outside the ranges allowed on the wire (RFC 6455 §7.4).
        case invalidCloseCode
        /// A close reason that is not valid UTF-8 or too long (RFC 6455 §5.5.1).
        case invalidCloseReason
        /// Compressed data that does not inflate (RFC 7692 §6.2).
        case invalidCompressedData
        /// A data frame sent in a state that forbids it (after Close, or out of sequence).
        case sendNotAllowed
        /// An argument the caller passed breaks a rule (e.g. a control payload over 125 bytes).
        case invalidArgument
    }

    /// The rule that was broken.
    public var rule: Rule
    /// The byte offset in the received stream where the problem was detected (0 for send errors).
    public var offset: Int

    /// Creates an error for `rule` at byte `offset`.
    public init(_ rule: Rule, offset: Int = 0) {
        self.rule = rule
        self.offset = offset
    }

    /// The close status code that tells the peer about this error (RFC 6455 §7.4.1).
    public var closeCode: CloseCode {
        switch rule {
        case .invalidUTF8, .invalidCloseReason: return .invalidPayload
        case .frameTooLarge, .messageTooLarge: return .messageTooBig
        case .invalidCompressedData: return .protocolError
        default: return .protocolError
        }
    }

    /// A short description naming the rule and offset.
    public var description: String { "WebSocketError(\(rule) at byte \(offset))" }
}
