public import EpsilonTLS

/// What a completed TLS handshake agreed on, as ``AsyncConnection/tlsHandshake()`` and
/// ``AsyncConnection/startTLS(_:)`` report it.
public struct TLSHandshakeSummary: Sendable, Hashable {
    /// The protocol version.
    public var version: TLSVersion?
    /// The cipher suite's IANA name.
    public var cipherSuite: String?
    /// The ALPN protocol both sides agreed on, or nil.
    public var applicationProtocol: String?
    /// Whether the handshake resumed an earlier session (``TLSOptions/session``).
    public var isResumed: Bool

    /// A summary with these values.
    public init(version: TLSVersion?, cipherSuite: String?, applicationProtocol: String?, isResumed: Bool) {
        self.version = version
        self.cipherSuite = cipherSuite
        self.applicationProtocol = applicationProtocol
        self.isResumed = isResumed
    }

    /// The values of `engine`'s completed handshake.
    init(engine: TLSEngine) {
        self.init(version: engine.version, cipherSuite: engine.cipherSuite,
                  applicationProtocol: engine.applicationProtocol, isResumed: engine.isResumed)
    }
}
