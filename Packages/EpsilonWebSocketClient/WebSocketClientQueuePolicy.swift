/// What a ``ReconnectingWebSocket`` does with messages sent while it is not connected.
///
/// They wait in a queue of at most ``capacity`` messages and go out in order once a connection
/// is open again; a message older than its expiry is dropped instead of sent.
public struct WebSocketClientQueuePolicy: Sendable, Hashable {
    /// What happens to a message sent when the queue is full.
    public enum Overflow: Sendable, Hashable {
        /// The oldest queued message is dropped to make room.
        case dropOldest
        /// The new message is dropped.
        case dropNewest
        /// The send throws ``WebSocketClientError/queueFull``.
        case fail
    }

    /// The most messages queued. Default 1024.
    public var capacity: Int
    /// The policy when full. Default ``Overflow/dropOldest``.
    public var overflow: Overflow
    /// How long a queued message stays worth sending (each send may give its own), or nil
    /// (the default) for no limit.
    public var expiry: Duration?

    /// Creates a policy.
    public init(capacity: Int = 1024, overflow: Overflow = .dropOldest, expiry: Duration? = nil) {
        self.capacity = max(0, capacity)
        self.overflow = overflow
        self.expiry = expiry
    }
}
