import COpenSSL

/// How a server context is set up: what it presents, what it accepts, what it negotiates.
public struct TLSServerConfiguration: Sendable {
    /// The identity presented when the client sends no server name, or one not in
    /// ``identitiesByName``.
    public var identity: TLSIdentity
    /// Identities chosen by the client's SNI name (RFC 6066 §3). Keys are lower-case host
    /// names; a key `*.example.com` matches exactly one label in front of `example.com`.
    public var identitiesByName: [String: TLSIdentity]
    /// ALPN protocols the server accepts, in its order of preference (e.g. `["h2", "http/1.1"]`).
    /// When the client offers ALPN and none matches, the handshake fails with
    /// ``TLSAlert/noApplicationProtocol`` (RFC 7301 §3.2). Empty: ALPN is ignored.
    public var applicationProtocols: [String]
    /// Versions, suites and groups.
    public var policy: TLSPolicy
    /// Whether clients must present a certificate (mutual TLS), and whom to trust for it.
    public var clientAuthentication: ClientAuthentication
    /// Sessions kept in the server's cache for TLS 1.2 session-ID resumption (and TLS 1.3
    /// stateful tickets when tickets are off). 0 turns the cache off.
    public var sessionCacheSize: Int
    /// Where to write the session secrets for Wireshark, or `nil` (the default) for nowhere.
    public var keyLog: TLSKeyLog?

    /// Whether and how a server verifies client certificates.
    public enum ClientAuthentication: Sendable {
        /// No certificate is requested.
        case none
        /// A certificate is requested; if one is sent it must verify against the roots.
        case optional(TLSTrustRoots)
        /// A certificate is required and must verify against the roots
        /// (``TLSError/peerCertificateRequired`` on the server otherwise).
        case required(TLSTrustRoots)
    }

    /// Makes a server configuration around its default identity.
    public init(
        identity: TLSIdentity,
        identitiesByName: [String: TLSIdentity] = [:],
        applicationProtocols: [String] = [],
        policy: TLSPolicy = .default,
        clientAuthentication: ClientAuthentication = .none,
        sessionCacheSize: Int = 20_480,
        keyLog: TLSKeyLog? = nil
    ) {
        self.identity = identity
        self.identitiesByName = identitiesByName
        self.applicationProtocols = applicationProtocols
        self.policy = policy
        self.clientAuthentication = clientAuthentication
        self.sessionCacheSize = sessionCacheSize
        self.keyLog = keyLog
    }
}

/// How a client context is set up: whom it trusts, what it checks, what it offers.
public struct TLSClientConfiguration: Sendable {
    /// Roots the server's chain must lead to (default: the system store).
    public var trustRoots: TLSTrustRoots
    /// How much of the server's certificate is checked (default: everything).
    public var verification: Verification
    /// A certificate to present when the server asks for one (mutual TLS).
    public var identity: TLSIdentity?
    /// ALPN protocols offered, in preference order (e.g. `["h2", "http/1.1"]`).
    public var applicationProtocols: [String]
    /// Versions, suites and groups.
    public var policy: TLSPolicy
    /// What to do about a stapled OCSP response.
    public var ocsp: OCSPPolicy
    /// Where to write the session secrets for Wireshark, or `nil` (the default) for nowhere.
    public var keyLog: TLSKeyLog?

    /// How much of the server's certificate a client checks.
    public enum Verification: Sendable, Hashable {
        /// Chain to a trusted root, validity dates, and the host name given to the engine.
        case full
        /// Chain and dates, but not the host name. For pinned or IP-only peers; say why.
        case skippingHostname
        /// Nothing. For tests and debugging only: anyone can impersonate the server.
        case none
    }

    /// What a client does about OCSP stapling (RFC 6066 §8).
    public enum OCSPPolicy: Sendable, Hashable {
        /// Does not ask for a response.
        case ignore
        /// Asks for a response; if one is stapled it must be valid, signed by a trusted
        /// responder and say "good" (``TLSError/certificateRevoked`` if revoked).
        case checkIfStapled
        /// As ``checkIfStapled``, and a missing response is ``TLSError/ocspResponseMissing``.
        case require
    }

    /// Makes a client configuration; defaults: system roots, full verification, no ALPN.
    public init(
        trustRoots: TLSTrustRoots = .system,
        verification: Verification = .full,
        identity: TLSIdentity? = nil,
        applicationProtocols: [String] = [],
        policy: TLSPolicy = .default,
        ocsp: OCSPPolicy = .ignore,
        keyLog: TLSKeyLog? = nil
    ) {
        self.trustRoots = trustRoots
        self.verification = verification
        self.identity = identity
        self.applicationProtocols = applicationProtocols
        self.policy = policy
        self.ocsp = ocsp
        self.keyLog = keyLog
    }
}

/// A sink for TLS secrets in the NSS key log format (`SSLKEYLOGFILE`), which Wireshark reads
/// to decrypt captures. Anyone holding these lines can read the traffic: debugging only.
public enum TLSKeyLog: Sendable {
    /// Appends each line to the file at this path.
    case file(String)
    /// Hands each line (without newline) to a function, on the thread driving the engine.
    case handler(@Sendable (String) -> Void)

    /// `.file(path)` when the environment variable `SSLKEYLOGFILE` is set and not empty.
    public static func fromEnvironment() -> TLSKeyLog? {
        guard let value = epsilon_getenv("SSLKEYLOGFILE") else { return nil }
        let path = String(cString: value)
        return path.isEmpty ? nil : .file(path)
    }

    func write(_ line: String) {
        switch self {
        case .file(let path): _ = epsilon_keylog_append(path, line)
        case .handler(let handler): handler(line)
        }
    }
}
