/// A whole WebSocket message, owned (the async tier's unit).
public enum WebSocketServerMessage: Sendable, Hashable, CustomStringConvertible {
    /// A text message (valid UTF-8).
    case text(String)
    /// A binary message.
    case binary([UInt8])

    /// A short description for logs and tests.
    public var description: String {
        switch self {
        case .text(let text): "text(\(text.utf8.count) bytes)"
        case .binary(let bytes): "binary(\(bytes.count) bytes)"
        }
    }
}
