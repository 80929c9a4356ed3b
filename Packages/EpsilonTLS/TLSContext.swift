import COpenSSL

/// A configured OpenSSL context (`SSL_CTX`) for one role; make one per configuration and
/// share it between all the engines (connections) that use it.
///
/// Making a context loads and checks every certificate, key and policy string, so mistakes
/// surface here as ``TLSError`` rather than during a handshake. The server's TLS 1.2 session
/// cache and TLS 1.3 ticket keys live in the context: engines made from the same context
/// can resume each other's sessions.
///
/// ```swift
/// let identity = try TLSIdentity(certificateFile: "cert.pem", privateKeyFile: "key.pem")
/// let server = try TLSContext(server: TLSServerConfiguration(identity: identity,
///                                                            applicationProtocols: ["h2", "http/1.1"]))
/// let engine = try TLSEngine(context: server)
/// ```
public final class TLSContext: @unchecked Sendable {
    // @unchecked: the SSL_CTX is fully configured in init and never mutated afterwards except
    // by OpenSSL itself (session cache, reference counts), which locks internally; `storage`
    // is immutable.

    /// Which side of a connection engines made from this context play.
    public enum Role: Sendable, Hashable {
        /// Engines send the ClientHello.
        case client
        /// Engines answer ClientHellos.
        case server
    }

    /// The role of every engine made from this context.
    public let role: Role
    let pointer: OpaquePointer
    let storage: ContextStorage

    /// Makes a server context: loads the identities, policy, ALPN list, client verification,
    /// session cache and OCSP stapling.
    public init(server configuration: TLSServerConfiguration) throws(TLSError) {
        OPENSSL_init_ssl(0, nil)
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw .invalidConfiguration(reason: "cannot create an OpenSSL context")
        }
        role = .server
        pointer = context
        var byName: [String: TLSIdentity] = [:]
        for (name, identity) in configuration.identitiesByName { byName[name.lowercased()] = identity }
        storage = ContextStorage(
            role: .server,
            defaultIdentity: configuration.identity,
            identitiesByName: byName,
            serverProtocols: configuration.applicationProtocols.map { Array($0.utf8) },
            ocsp: .ignore,
            verifiesHostname: false,
            keyLog: configuration.keyLog
        )
        try configureCommon(policy: configuration.policy, keyLog: configuration.keyLog)

        try install(configuration.identity, in: context)
        for identity in configuration.identitiesByName.values {
            // Checked now so a bad key fails here, not in the middle of a handshake.
            try Self.checkKeyMatches(identity)
        }
        // The SNI callback runs before certificate selection; it swaps in the named identity.
        epsilon_SSL_CTX_set_servername_callback(context, serverNameCallback, storage.opaque)
        if !configuration.applicationProtocols.isEmpty {
            for name in configuration.applicationProtocols where name.utf8.isEmpty || name.utf8.count > 255 {
                throw .invalidConfiguration(reason: "ALPN protocol \"\(name)\" must be 1...255 bytes")
            }
            SSL_CTX_set_alpn_select_cb(context, alpnSelectCallback, storage.opaque)
        }
        epsilon_SSL_CTX_set_status_callback(context, serverStatusCallback, storage.opaque)

        switch configuration.clientAuthentication {
        case .none:
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        case .optional(let roots):
            try roots.install(in: context)
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        case .required(let roots):
            try roots.install(in: context)
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
        }
        // A session may only resume in a context with the same id (required once peers are verified).
        let sessionContext: [UInt8] = Array("epsilon".utf8)
        SSL_CTX_set_session_id_context(context, sessionContext, UInt32(sessionContext.count))
        if configuration.sessionCacheSize > 0 {
            _ = epsilon_SSL_CTX_set_session_cache_mode(context, epsilon_SSL_SESS_CACHE_SERVER())
            _ = epsilon_SSL_CTX_sess_set_cache_size(context, configuration.sessionCacheSize)
        } else {
            _ = epsilon_SSL_CTX_set_session_cache_mode(context, 0)
        }
        ERR_clear_error()
    }

    /// Makes a client context: trust roots, verification, optional client identity, ALPN
    /// offer, OCSP policy and a client-side session hook (see ``TLSEngine/session``).
    public init(client configuration: TLSClientConfiguration) throws(TLSError) {
        OPENSSL_init_ssl(0, nil)
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw .invalidConfiguration(reason: "cannot create an OpenSSL context")
        }
        role = .client
        pointer = context
        storage = ContextStorage(
            role: .client,
            defaultIdentity: configuration.identity,
            identitiesByName: [:],
            serverProtocols: [],
            ocsp: configuration.ocsp,
            verifiesHostname: configuration.verification == .full,
            keyLog: configuration.keyLog
        )
        try configureCommon(policy: configuration.policy, keyLog: configuration.keyLog)
        if let identity = configuration.identity { try install(identity, in: context) }

        try configuration.trustRoots.install(in: context)
        SSL_CTX_set_verify(context, configuration.verification == .none ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nil)

        if !configuration.applicationProtocols.isEmpty {
            var wire: [UInt8] = []
            for name in configuration.applicationProtocols {
                let bytes = Array(name.utf8)
                guard (1...255).contains(bytes.count) else {
                    throw .invalidConfiguration(reason: "ALPN protocol \"\(name)\" must be 1...255 bytes")
                }
                wire.append(UInt8(bytes.count))
                wire += bytes
            }
            // Unlike most OpenSSL calls, 0 means success here.
            guard SSL_CTX_set_alpn_protos(context, wire, UInt32(wire.count)) == 0 else {
                throw .invalidConfiguration(reason: "OpenSSL refused the ALPN list")
            }
        }
        if configuration.ocsp != .ignore {
            epsilon_SSL_CTX_set_status_callback(context, clientStatusCallback, storage.opaque)
        }
        // Sessions reach the engine through the new-session callback (TLS 1.3 tickets arrive
        // after the handshake); the context keeps no client cache of its own.
        _ = epsilon_SSL_CTX_set_session_cache_mode(
            context, epsilon_SSL_SESS_CACHE_CLIENT() | epsilon_SSL_SESS_CACHE_NO_INTERNAL_STORE())
        SSL_CTX_sess_set_new_cb(context, newSessionCallback)
        ERR_clear_error()
    }

    deinit { SSL_CTX_free(pointer) }

    private func configureCommon(policy: TLSPolicy, keyLog: TLSKeyLog?) throws(TLSError) {
        // On a throw, deinit frees the SSL_CTX (every stored property is set by now).
        try policy.apply(to: pointer)
        // Memory BIOs never block, but an application buffer may move between retries.
        _ = epsilon_SSL_CTX_set_mode(pointer, epsilon_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER())
        SSL_CTX_set_ex_data(pointer, 0, storage.opaque)
        SSL_CTX_set_info_callback(pointer, infoCallback)
        if keyLog != nil { SSL_CTX_set_keylog_callback(pointer, keyLogCallback) }
    }

    private func install(_ identity: TLSIdentity, in context: OpaquePointer) throws(TLSError) {
        try Self.checkKeyMatches(identity)
        let chain = OPENSSL_sk_new_null()
        defer { OPENSSL_sk_free(chain) }
        for certificate in identity.chain.dropFirst() {
            _ = OPENSSL_sk_push(chain, UnsafeRawPointer(certificate.storage.pointer))
        }
        guard SSL_CTX_use_cert_and_key(context, identity.chain[0].storage.pointer, identity.privateKey.storage.pointer, chain, 1) == 1 else {
            throw .invalidConfiguration(reason: OpenSSLErrors.takeReason() ?? "OpenSSL refused the certificate")
        }
    }

    static func checkKeyMatches(_ identity: TLSIdentity) throws(TLSError) {
        guard let leaf = identity.chain.first else {
            throw .invalidCertificate(reason: "an identity needs at least one certificate")
        }
        guard X509_check_private_key(leaf.storage.pointer, identity.privateKey.storage.pointer) == 1 else {
            ERR_clear_error()
            throw .privateKeyMismatch
        }
    }
}

/// What the C callbacks of a context need to read; immutable after the context is made.
final class ContextStorage: Sendable {
    let role: TLSContext.Role
    let defaultIdentity: TLSIdentity?
    let identitiesByName: [String: TLSIdentity]
    let serverProtocols: [[UInt8]]
    let ocsp: TLSClientConfiguration.OCSPPolicy
    let verifiesHostname: Bool
    let keyLog: TLSKeyLog?

    init(
        role: TLSContext.Role, defaultIdentity: TLSIdentity?, identitiesByName: [String: TLSIdentity],
        serverProtocols: [[UInt8]], ocsp: TLSClientConfiguration.OCSPPolicy, verifiesHostname: Bool, keyLog: TLSKeyLog?
    ) {
        self.role = role
        self.defaultIdentity = defaultIdentity
        self.identitiesByName = identitiesByName
        self.serverProtocols = serverProtocols
        self.ocsp = ocsp
        self.verifiesHostname = verifiesHostname
        self.keyLog = keyLog
    }

    /// Unretained: the context owns the storage and outlives every callback OpenSSL makes.
    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    static func from(_ pointer: UnsafeMutableRawPointer?) -> ContextStorage? {
        guard let pointer else { return nil }
        return Unmanaged<ContextStorage>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// The identity for an SNI name: exact match, then a `*.` wildcard for the first label.
    func identity(forServerName name: String) -> TLSIdentity? {
        let name = name.lowercased()
        if let exact = identitiesByName[name] { return exact }
        if let dot = name.firstIndex(of: "."), let wildcard = identitiesByName["*" + name[dot...]] { return wildcard }
        return nil
    }
}
