/// A whole WebSocket message, as received or to send.
public enum WebSocketClientMessage: Sendable, Hashable, CustomStringConvertible {
    /// A text message (valid UTF-8 by construction).
    case text(String)
    /// A binary message.
    case binary([UInt8])

    /// The payload size in bytes.
    public var count: Int {
        switch self {
        case .text(let text): return text.utf8.count
        case .binary(let bytes): return bytes.count
        }
    }

    /// The kind and size.
    public var description: String {
        switch self {
        case .text(let text): return "text(\(text.utf8.count) bytes)"
        case .binary(let bytes): return "binary(\(bytes.count) bytes)"
        }
    }
}
