import COpenSSL

/// A TLS protocol version this engine can speak. Older versions (SSL 3, TLS 1.0, 1.1) are not
/// representable: they cannot be enabled by mistake.
public enum TLSVersion: Int, Sendable, Hashable, Comparable, CustomStringConvertible {
    /// TLS 1.2 (RFC 5246).
    case tls12 = 0x0303
    /// TLS 1.3 (RFC 8446).
    case tls13 = 0x0304

    /// Orders versions by age: `.tls12 < .tls13`.
    public static func < (lhs: TLSVersion, rhs: TLSVersion) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `TLSv1.2` or `TLSv1.3`, as OpenSSL and Wireshark print them.
    public var description: String { self == .tls12 ? "TLSv1.2" : "TLSv1.3" }

    init?(openSSLName name: String) {
        switch name {
        case "TLSv1.2": self = .tls12
        case "TLSv1.3": self = .tls13
        default: return nil
        }
    }
}

/// The security policy of a context: protocol versions, cipher suites, key-exchange groups and
/// session tickets.
///
/// The default accepts TLS 1.2 and 1.3 only, and in TLS 1.2 only ECDHE suites with AEAD
/// ciphers (forward secret; no RSA key exchange, no CBC, no SHA-1 MAC). TLS 1.3 suites are all
/// forward secret. Strings use OpenSSL's list syntax (`SSL_CTX_set_cipher_list`,
/// `SSL_CTX_set_ciphersuites`, `SSL_CTX_set1_groups_list`); a list OpenSSL accepts none of
/// is ``TLSError/invalidPolicy(reason:)`` when the context is made.
public struct TLSPolicy: Sendable, Hashable {
    /// The oldest version accepted (default TLS 1.2).
    public var minimumVersion: TLSVersion
    /// The newest version offered (default TLS 1.3).
    public var maximumVersion: TLSVersion
    /// TLS 1.2 cipher list, in preference order.
    public var tls12Ciphers: String
    /// TLS 1.3 cipher suites, in preference order.
    public var tls13CipherSuites: String
    /// Key-exchange groups, in preference order.
    public var groups: String
    /// Whether the server issues session tickets (TLS 1.3 tickets; TLS 1.2 RFC 5077 tickets).
    /// With tickets off, TLS 1.2 resumption uses the server's session cache (session IDs) and
    /// TLS 1.3 resumption uses stateful tickets.
    public var sessionTickets: Bool
    /// Whether the server picks the suite from its own preference order rather than the client's.
    public var serverPreference: Bool

    /// Makes a policy; every parameter defaults to the value of ``default``.
    public init(
        minimumVersion: TLSVersion = .tls12,
        maximumVersion: TLSVersion = .tls13,
        tls12Ciphers: String = TLSPolicy.forwardSecretTLS12Ciphers,
        tls13CipherSuites: String = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
        groups: String = "X25519:P-256:P-384",
        sessionTickets: Bool = true,
        serverPreference: Bool = true
    ) {
        self.minimumVersion = minimumVersion
        self.maximumVersion = maximumVersion
        self.tls12Ciphers = tls12Ciphers
        self.tls13CipherSuites = tls13CipherSuites
        self.groups = groups
        self.sessionTickets = sessionTickets
        self.serverPreference = serverPreference
    }

    /// ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 only: every suite is forward
    /// secret and authenticated-encryption (Mozilla's "intermediate" list without DHE).
    public static let forwardSecretTLS12Ciphers =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
        + "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
        + "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

    /// TLS 1.2 and 1.3, forward-secret AEAD suites only.
    public static let `default` = TLSPolicy()
    /// TLS 1.3 only.
    public static let modern = TLSPolicy(minimumVersion: .tls13)

    /// Applies the policy to a fresh `SSL_CTX`.
    func apply(to context: OpaquePointer) throws(TLSError) {
        guard minimumVersion <= maximumVersion else {
            throw .invalidPolicy(reason: "minimum version \(minimumVersion) is newer than maximum \(maximumVersion)")
        }
        guard epsilon_SSL_CTX_set_min_proto_version(context, Int32(minimumVersion.rawValue)) == 1,
              epsilon_SSL_CTX_set_max_proto_version(context, Int32(maximumVersion.rawValue)) == 1
        else { throw .invalidPolicy(reason: "OpenSSL refused the version range") }
        guard SSL_CTX_set_cipher_list(context, tls12Ciphers) == 1 else {
            throw .invalidPolicy(reason: "no usable TLS 1.2 cipher in \"\(tls12Ciphers)\"")
        }
        guard SSL_CTX_set_ciphersuites(context, tls13CipherSuites) == 1 else {
            throw .invalidPolicy(reason: "no usable TLS 1.3 suite in \"\(tls13CipherSuites)\"")
        }
        guard epsilon_SSL_CTX_set1_groups_list(context, groups) == 1 else {
            throw .invalidPolicy(reason: "no usable group in \"\(groups)\"")
        }
        var options = epsilon_SSL_OP_NO_COMPRESSION() | epsilon_SSL_OP_NO_RENEGOTIATION()
        if !sessionTickets { options |= epsilon_SSL_OP_NO_TICKET() }
        if serverPreference { options |= epsilon_SSL_OP_CIPHER_SERVER_PREFERENCE() }
        SSL_CTX_set_options(context, options)
        ERR_clear_error()
    }
}
