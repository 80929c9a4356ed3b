/// Why an async handler's body read or response write failed.
public struct HTTPServerHandlerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What happened.
    public enum Reason: Sendable, Equatable {
        /// The client went away (connection closed, stream reset) or the request timed out.
        case cancelled
        /// A write came in the wrong order (body before head, anything after the end).
        case invalidOrder
        /// The request body was larger than the limit the handler read it with.
        case bodyTooLarge
    }

    /// What happened.
    public var reason: Reason

    /// An error for `reason`.
    public init(_ reason: Reason) { self.reason = reason }

    /// The reason, as text.
    public var description: String { "\(reason)" }
}
