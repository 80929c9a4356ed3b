/// A close status code (RFC 6455 §7.4).
public struct WebSocketCloseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 16-bit code.
    public var rawValue: UInt16
    /// Creates a code; see ``isValidOnWire`` for whether it may be sent or received.
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// Creates a code from an integer literal-like value.
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// 1000: normal closure.
    public static let normalClosure = WebSocketCloseCode(1000)
    /// 1001: going away.
    public static let goingAway = WebSocketCloseCode(1001)
    /// 1002: protocol error.
    public static let protocolError = WebSocketCloseCode(1002)
    /// 1003: unsupported data.
    public static let unsupportedData = WebSocketCloseCode(1003)
    /// 1005: no status received (never on the wire).
    public static let noStatusReceived = WebSocketCloseCode(1005)
    /// 1006: abnormal closure (never on the wire).
    public static let abnormalClosure = WebSocketCloseCode(1006)
    /// 1007: invalid frame payload data (e.g. bad UTF-8).
    public static let invalidPayload = WebSocketCloseCode(1007)
    /// 1008: policy violation.
    public static let policyViolation = WebSocketCloseCode(1008)
    /// 1009: message too big.
    public static let messageTooBig = WebSocketCloseCode(1009)
    /// 1010: mandatory extension missing (client only).
    public static let mandatoryExtension = WebSocketCloseCode(1010)
    /// 1011: internal error.
    public static let internalError = WebSocketCloseCode(1011)
    /// 1015: TLS handshake failure (never on the wire).
    public static let tlsHandshakeFailure = WebSocketCloseCode(1015)

    /// Whether the code may appear in a Close frame.
    ///
    /// RFC 6455 §7.4.1/§7.4.2 and the IANA registry: 1000–1003 and 1007–1014 are defined,
    /// 3000–4999 are for libraries and applications. 0–999, 1004 (reserved), 1005, 1006 and
    /// 1015 (local only), 1016–2999 (reserved for the RFC's future) and 5000+ are not allowed.
    public var isValidOnWire: Bool {
        switch rawValue {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }

    /// The code and its name where it has one.
    public var description: String {
        let names: [UInt16: String] = [
            1000: "normal closure", 1001: "going away", 1002: "protocol error", 1003: "unsupported data",
            1005: "no status", 1006: "abnormal closure", 1007: "invalid payload", 1008: "policy violation",
            1009: "message too big", 1010: "mandatory extension", 1011: "internal error",
            1012: "service restart", 1013: "try again later", 1014: "bad gateway", 1015: "TLS handshake",
        ]
        if let name = names[rawValue] { return "\(rawValue) (\(name))" }
        return "\(rawValue)"
    }
}

/// A read-only view of payload bytes inside the caller's buffer or the machine's storage.
///
/// Valid only during the callback that receives it; copy it (``copyBytes()``) to keep it.
public struct WebSocketPayloadView: CustomStringConvertible {
    /// The bytes.
    public let bytes: UnsafeRawBufferPointer
    /// Wraps `bytes`.
    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }
    /// The number of bytes.
    public var count: Int { bytes.count }
    /// Copies the bytes into a new array.
    public func copyBytes() -> [UInt8] { Array(bytes) }
    /// The bytes decoded as UTF-8 (invalid sequences replaced).
    public var text: String { String(decoding: bytes, as: UTF8.self) }
    /// A short description: the byte count.
    public var description: String { "\(bytes.count) bytes" }
}
