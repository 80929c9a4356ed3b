/// Why a test peer (a server process started for a test, or a tool it runs) failed: what was
/// asked, and what the process wrote to its standard error (and its own logs), so that the
/// failing test shows the peer's own words.
public struct TestPeerError: Error, CustomStringConvertible {
    /// The whole message: what failed, then the peer's standard error and logs.
    public let description: String

    /// An error with `description` as its whole message.
    public init(_ description: String) { self.description = description }
}
