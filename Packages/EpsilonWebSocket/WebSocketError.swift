/// A rule the peer broke, found by the WebSocket machine: which rule, where, and which RFC
/// section it comes from.
///
/// A peer error leaves ``WebSocketConnection`` failed (every later `receive` throws the same
/// error) with a Close frame carrying ``closeCode`` already in its output, after everything
/// that was produced for the input before the bad byte. Mistakes of the caller are
/// ``WebSocketUsageError``s instead.
public struct WebSocketError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The rule that was broken, named after the RFC requirement.
    public enum Rule: Hashable, Sendable {
        /// RSV1/RSV2/RSV3 set without an extension that defines them (RFC 6455 §5.2), or RSV1
        /// on a continuation or control frame under permessage-deflate (RFC 7692 §6.1).
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
        /// A frame longer than the configured frame limit (RFC 6455 §10.4).
        case frameTooLarge
        /// A message longer than the configured message limit (RFC 6455 §10.4).
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
        /// A close reason that is not valid UTF-8 (RFC 6455 §5.5.1).
        case invalidCloseReason
        /// Compressed data that does not inflate (RFC 7692 §6.2).
        case invalidCompressedData
        /// The application refused a message, with the close code to send (for example
        /// ``WebSocketCloseCode/unsupportedData`` or ``WebSocketCloseCode/policyViolation``),
        /// thrown by a handler (RFC 6455 §7.4.1).
        case rejectedByApplication(WebSocketCloseCode)
    }

    /// The rule that was broken.
    public var rule: Rule
    /// The byte offset, in the stream the connection has received since it was made, of the
    /// offending byte or the start of the offending element.
    public var offset: Int

    /// Creates an error for `rule` at byte `offset` of the received stream.
    public init(_ rule: Rule, offset: Int) {
        self.rule = rule
        self.offset = offset
    }

    /// The RFC section the rule comes from, as text (`"RFC 6455 §5.2"`).
    public var section: String {
        switch rule {
        case .reservedBitsSet, .reservedOpcode, .payloadLengthHighBitSet, .payloadLengthNotMinimal: return "RFC 6455 §5.2"
        case .controlFrameTooLong, .fragmentedControlFrame: return "RFC 6455 §5.5"
        case .unmaskedClientFrame, .maskedServerFrame: return "RFC 6455 §5.1"
        case .frameTooLarge, .messageTooLarge: return "RFC 6455 §10.4"
        case .unexpectedContinuation, .expectedContinuation: return "RFC 6455 §5.4"
        case .invalidUTF8: return "RFC 6455 §8.1"
        case .closePayloadTooShort, .invalidCloseReason: return "RFC 6455 §5.5.1"
        case .invalidCloseCode: return "RFC 6455 §7.4"
        case .invalidCompressedData: return "RFC 7692 §6.2"
        case .rejectedByApplication: return "RFC 6455 §7.4.1"
        }
    }

    /// The close status code that tells the peer about this error (RFC 6455 §7.4.1).
    public var closeCode: WebSocketCloseCode {
        switch rule {
        case .invalidUTF8, .invalidCloseReason: return .invalidPayload
        case .frameTooLarge, .messageTooLarge: return .messageTooBig
        case .rejectedByApplication(let code): return code.isValidOnWire ? code : .policyViolation
        default: return .protocolError
        }
    }

    /// A short description naming the rule, the offset and the section.
    public var description: String { "WebSocketError(\(rule) at byte \(offset), \(section))" }
}

/// A call the connection's state or the RFC does not allow; the connection is left as it was.
public enum WebSocketUsageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A data frame after our Close, a continuation with no message in progress, or a new
    /// message while a fragmented one is unfinished (RFC 6455 §5.4, §5.5.1).
    case sendNotAllowed
    /// A control frame payload over 125 bytes (RFC 6455 §5.5).
    case controlPayloadTooLong
    /// A compressed message without a negotiated compression extension (RFC 7692 §6).
    case compressionNotNegotiated
    /// A close code that may not be sent (RFC 6455 §7.4.1: 1005, 1006, 1015, unassigned ranges).
    case invalidCloseCode
    /// A close reason with no code, or longer than 123 bytes (RFC 6455 §5.5.1).
    case invalidCloseReason
    /// A second Close frame.
    case closeAlreadySent

    /// The case name.
    public var description: String {
        switch self {
        case .sendNotAllowed: return "sendNotAllowed"
        case .controlPayloadTooLong: return "controlPayloadTooLong"
        case .compressionNotNegotiated: return "compressionNotNegotiated"
        case .invalidCloseCode: return "invalidCloseCode"
        case .invalidCloseReason: return "invalidCloseReason"
        case .closeAlreadySent: return "closeAlreadySent"
        }
    }
}
