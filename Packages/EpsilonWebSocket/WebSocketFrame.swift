/// A WebSocket frame opcode (RFC 6455 §5.2).
public struct WebSocketOpcode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 4-bit opcode value.
    public var rawValue: UInt8
    /// Creates an opcode from its 4-bit value (no check that it is defined).
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }

    /// Continuation frame (0x0).
    public static let continuation = WebSocketOpcode(rawValue: 0x0)
    /// Text frame (0x1).
    public static let text = WebSocketOpcode(rawValue: 0x1)
    /// Binary frame (0x2).
    public static let binary = WebSocketOpcode(rawValue: 0x2)
    /// Connection close (0x8).
    public static let close = WebSocketOpcode(rawValue: 0x8)
    /// Ping (0x9).
    public static let ping = WebSocketOpcode(rawValue: 0x9)
    /// Pong (0xA).
    public static let pong = WebSocketOpcode(rawValue: 0xA)

    /// Whether this is a control opcode (high bit set: 0x8–0xF).
    public var isControl: Bool { rawValue & 0x08 != 0 }
    /// Whether RFC 6455 defines this opcode (0, 1, 2, 8, 9, 10).
    public var isDefined: Bool {
        switch rawValue {
        case 0x0, 0x1, 0x2, 0x8, 0x9, 0xA: return true
        default: return false
        }
    }

    /// The opcode's RFC name, or `reserved(0xN)`.
    public var description: String {
        switch rawValue {
        case 0x0: return "continuation"
        case 0x1: return "text"
        case 0x2: return "binary"
        case 0x8: return "close"
        case 0x9: return "ping"
        case 0xA: return "pong"
        default: return "reserved(0x\(String(rawValue, radix: 16)))"
        }
    }
}

/// Which end of the connection a machine plays; it decides the masking rules (RFC 6455 §5.1).
public enum WebSocketRole: Sendable, Hashable {
    /// The client: masks every frame it sends, rejects masked frames it receives.
    case client
    /// The server: never masks, rejects unmasked frames it receives.
    case server
}

/// The kind of a data message.
public enum WebSocketMessageKind: Sendable, Hashable {
    /// A text message: its (decompressed) payload must be UTF-8.
    case text
    /// A binary message.
    case binary

    /// The opcode of the message's first frame.
    public var opcode: WebSocketOpcode { self == .text ? .text : .binary }
}

/// The reserved bits RSV1–RSV3 of a frame header.
public struct WebSocketReservedBits: OptionSet, Hashable, Sendable {
    /// The bits in header byte 0 positions (0x40, 0x20, 0x10).
    public var rawValue: UInt8
    /// Creates the set from header-byte bit positions.
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x70 }
    /// RSV1 (0x40), used by permessage-deflate as "Per-Message Compressed".
    public static let rsv1 = WebSocketReservedBits(rawValue: 0x40)
    /// RSV2 (0x20).
    public static let rsv2 = WebSocketReservedBits(rawValue: 0x20)
    /// RSV3 (0x10).
    public static let rsv3 = WebSocketReservedBits(rawValue: 0x10)
}

/// A decoded frame header (RFC 6455 §5.2).
public struct WebSocketFrameHeader: Hashable, Sendable, CustomStringConvertible {
    /// FIN: this is the final fragment of a message.
    public var fin: Bool
    /// The reserved bits as sent.
    public var reserved: WebSocketReservedBits
    /// The opcode.
    public var opcode: WebSocketOpcode
    /// The masking key, big-endian packed (first key byte in the high byte), or nil if unmasked.
    public var maskingKey: UInt32?
    /// The payload length.
    public var payloadLength: UInt64

    /// Creates a header.
    public init(fin: Bool = true, reserved: WebSocketReservedBits = [], opcode: WebSocketOpcode, maskingKey: UInt32? = nil, payloadLength: UInt64) {
        self.fin = fin
        self.reserved = reserved
        self.opcode = opcode
        self.maskingKey = maskingKey
        self.payloadLength = payloadLength
    }

    /// The number of bytes this header takes on the wire (2 to 14).
    public var encodedSize: Int {
        var size = 2
        if payloadLength > 0xFFFF { size += 8 } else if payloadLength > 125 { size += 2 }
        if maskingKey != nil { size += 4 }
        return size
    }

    /// A one-line description such as `FIN text len=5 mask=37fa213d`.
    public var description: String {
        var s = fin ? "FIN" : "---"
        if reserved.contains(.rsv1) { s += " RSV1" }
        if reserved.contains(.rsv2) { s += " RSV2" }
        if reserved.contains(.rsv3) { s += " RSV3" }
        s += " \(opcode) len=\(payloadLength)"
        if let key = maskingKey {
            let hex = String(key, radix: 16)
            s += " mask=" + String(repeating: "0", count: 8 - hex.count) + hex
        }
        return s
    }
}
