/// What a registered file descriptor wants to hear about.
public struct Interest: OptionSet, Sendable, Hashable {
    /// The raw bits.
    public let rawValue: UInt8
    /// Creates an interest set from raw bits.
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Readable (or, for a listener, a connection waiting to be accepted).
    public static let read = Interest(rawValue: 1)
    /// Writable (or, for a connecting socket, the connect finished).
    public static let write = Interest(rawValue: 2)
}
