/// A ``WebSocketEventHandler`` that copies whole messages and control frames into values.
///
/// For tests, tools and simple applications: it allocates per message, unlike the streaming
/// events it is built on, and never sends (Pongs and Close replies are the connection's own).
public struct WebSocketMessageCollector: WebSocketEventHandler, Sendable {
    /// A received item.
    public enum Item: Hashable, Sendable, CustomStringConvertible {
        /// A complete data message.
        case message(WebSocketMessageKind, [UInt8])
        /// A Ping and its payload.
        case ping([UInt8])
        /// A Pong and its payload.
        case pong([UInt8])
        /// The peer's Close.
        case close(WebSocketCloseCode?, String)

        /// A one-line description; text shown as text, binary as its length.
        public var description: String {
            switch self {
            case .message(.text, let bytes):
                let shown = String(decoding: bytes.prefix(40), as: UTF8.self)
                return "text(\(bytes.count) bytes) \"\(shown)\"\(bytes.count > 40 ? "…" : "")"
            case .message(.binary, let bytes): return "binary(\(bytes.count) bytes)"
            case .ping(let bytes): return "ping \"\(String(decoding: bytes, as: UTF8.self))\""
            case .pong(let bytes): return "pong \"\(String(decoding: bytes, as: UTF8.self))\""
            case .close(let code, let reason): return "close \(code.map { "\($0)" } ?? "(no code)") \"\(reason)\""
            }
        }
    }

    /// Everything received so far, in order.
    public var items: [Item] = []
    var kind: WebSocketMessageKind = .binary
    var buffer: [UInt8] = []

    /// Creates an empty collector.
    public init() {}

    /// Handles one event.
    public mutating func handle(_ event: WebSocketEvent, connection: inout WebSocketConnection) throws(WebSocketError) {
        switch event {
        case .messageBegan(let kind, _):
            self.kind = kind
            buffer.removeAll(keepingCapacity: true)
        case .messageData(let view):
            buffer.append(contentsOf: view.bytes)
        case .messageEnded:
            items.append(.message(kind, buffer))
        case .ping(let view):
            items.append(.ping(view.copyBytes()))
        case .pong(let view):
            items.append(.pong(view.copyBytes()))
        case .close(let code, let reason):
            items.append(.close(code, reason.text))
        }
    }
}
