/// Why a route pattern, or a route, was refused.
public struct HTTPRoutePatternError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, in words.
    public var reason: String
    /// The pattern as given.
    public var pattern: String

    /// Creates an error about `pattern`.
    public init(reason: String, pattern: String) {
        self.reason = reason
        self.pattern = pattern
    }

    /// "route pattern "<pattern>": <reason>".
    public var description: String { "route pattern \"\(pattern)\": \(reason)" }
}
