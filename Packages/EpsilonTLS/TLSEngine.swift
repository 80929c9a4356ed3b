import COpenSSL

/// One TLS connection as a sans-IO machine: ciphertext in, plaintext out, and back.
///
/// The engine owns an OpenSSL `SSL` object wired to two memory BIOs and never touches a
/// socket. The caller moves bytes:
///
/// 1. bytes read from the network go to ``receive(_:)-(UnsafeRawBufferPointer)``;
///    the end of the stream goes to ``receiveEndOfStream()``;
/// 2. ``process(into:)`` advances the handshake and appends every plaintext byte now
///    available to the caller's buffer, returning what happened (``Events``);
/// 3. application bytes go to ``send(_:)-(UnsafeRawBufferPointer)`` (queued until the
///    handshake completes), and ``close()`` queues `close_notify`;
/// 4. whatever the engine wants to transmit (handshake messages, records, alerts) is taken
///    with ``takeOutput(into:)`` and written to the network. Take output after every call,
///    including after a throw: a failed handshake leaves its alert there.
///
/// A client starts by calling ``process(into:)`` with no input, which queues the ClientHello.
///
/// ```swift
/// let client = try TLSEngine(context: clientContext, serverName: "example.com")
/// var plaintext: [UInt8] = []
/// _ = try client.process(into: &plaintext)      // ClientHello now in the output
/// socket.write(client.takeOutput())
/// // ... for each read: client.receive(bytes); events = try client.process(into: &plaintext)
/// ```
///
/// Errors are ``TLSError``; after one, the engine is failed and every call rethrows it.
/// The engine is not thread-safe: drive it from one thread (or task) at a time. Arbitrary
/// bytes may be given to ``receive(_:)-(UnsafeRawBufferPointer)``; a fuzzer can feed a server
/// engine and call ``process(into:)`` without any other setup.
public final class TLSEngine {
    /// What a call to ``process(into:)`` did.
    public struct Events: OptionSet, Sendable, Hashable {
        /// The raw bits.
        public var rawValue: UInt8
        /// Wraps raw bits.
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// The handshake completed during this call; the negotiated values are now readable.
        public static let handshakeCompleted = Events(rawValue: 1)
        /// Plaintext was appended to the caller's buffer.
        public static let plaintext = Events(rawValue: 2)
        /// The peer's `close_notify` arrived: no more plaintext will come (a clean end).
        public static let closeNotifyReceived = Events(rawValue: 4)
        /// Client only: the server issued a session (a TLS 1.3 ticket, or a TLS 1.2 session at
        /// the end of the handshake); ``session`` now returns it.
        public static let sessionReceived = Events(rawValue: 8)
    }

    /// The context this engine was made from.
    public let context: TLSContext
    /// The server name this client asked for, or the SNI name this server was asked for.
    public var serverName: String? { context.role == .client ? clientServerName : state.requestedServerName }
    /// Whether the handshake has completed.
    public private(set) var isHandshakeComplete = false
    /// Whether the peer's `close_notify` has been received.
    public private(set) var hasReceivedCloseNotify = false
    /// Whether ``close()`` has been called.
    public private(set) var hasSentCloseNotify = false

    private let ssl: OpaquePointer
    private let input: OpaquePointer
    private let output: OpaquePointer
    private let state = EngineState()
    private let clientServerName: String?
    private var queuedPlaintext: [UInt8] = []
    /// Room made in the caller's buffer per read: one maximum-size TLS record.
    private static let readChunk = 16_384
    private var endOfStream = false
    private var failure: TLSError?

    /// Makes an engine for one connection.
    ///
    /// - Parameters:
    ///   - context: a client or server context; the engine plays its role.
    ///   - serverName: client only: the host to reach. Sent as SNI (unless it is an IP
    ///     address) and checked against the certificate when verification is ``TLSClientConfiguration/Verification/full``,
    ///     which then requires it.
    ///   - session: client only: a session from an earlier connection to the same server.
    public init(context: TLSContext, serverName: String? = nil, resuming session: TLSSession? = nil) throws(TLSError) {
        guard let ssl = SSL_new(context.pointer),
              let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem())
        else { throw .invalidConfiguration(reason: "out of memory") }
        // An empty input BIO means "wait for more", not end of stream.
        _ = epsilon_BIO_set_mem_eof_return(input, -1)
        SSL_set_bio(ssl, input, output)  // the SSL object now owns both BIOs
        self.context = context
        self.ssl = ssl
        self.input = input
        self.output = output
        self.clientServerName = context.role == .client ? serverName : nil
        SSL_set_ex_data(ssl, 0, state.opaque)

        switch context.role {
        case .server:
            SSL_set_accept_state(ssl)
        case .client:
            SSL_set_connect_state(ssl)
            try configureClient(serverName: serverName, session: session)
        }
        ERR_clear_error()
    }

    deinit {
        // OpenSSL drops the session of a connection freed without close_notify from the cache
        // (and marks it not resumable). An engine the application simply let go of after a
        // successful handshake keeps its session usable; a failed or truncated one does not.
        if isHandshakeComplete && failure == nil { SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN) }
        SSL_free(ssl)
    }

    private func configureClient(serverName: String?, session: TLSSession?) throws(TLSError) {
        if let serverName {
            let isIPAddress = Self.looksLikeIPAddress(serverName)
            if context.storage.verifiesHostname {
                let set = isIPAddress
                    ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName)
                    : SSL_set1_host(ssl, serverName)
                guard set == 1 else { throw .invalidConfiguration(reason: "cannot verify against the name \"\(serverName)\"") }
                SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            }
            // RFC 6066 §3: SNI carries host names only, never IP literals.
            if !isIPAddress, epsilon_SSL_set_tlsext_host_name(ssl, serverName) != 1 {
                throw .invalidConfiguration(reason: "\"\(serverName)\" is not a valid SNI host name")
            }
        } else if context.storage.verifiesHostname {
            throw .invalidConfiguration(
                reason: "host name verification needs a serverName (or use verification .skippingHostname)")
        }
        if context.storage.ocsp != .ignore { _ = epsilon_SSL_request_ocsp_status(ssl) }
        if let session, SSL_set_session(ssl, session.pointer) != 1 {
            throw .invalidConfiguration(reason: "the session cannot be used with this context")
        }
    }

    private static func looksLikeIPAddress(_ name: String) -> Bool {
        name.contains(":") || (!name.isEmpty && name.allSatisfy { $0 == "." || $0.isASCII && $0.isNumber })
    }

    // MARK: Input

    /// Takes bytes received from the network. They are buffered; ``process(into:)`` uses them.
    public func receive(_ ciphertext: UnsafeRawBufferPointer) {
        guard var base = ciphertext.baseAddress else { return }
        var remaining = ciphertext.count
        while remaining > 0 {
            let chunk = min(remaining, Int(Int32.max))
            let written = BIO_write(input, base, Int32(chunk))
            guard written > 0 else { return }  // allocation failure; process() will stall
            base += Int(written)
            remaining -= Int(written)
        }
    }

    /// Takes bytes received from the network.
    public func receive(_ ciphertext: [UInt8]) {
        ciphertext.withUnsafeBytes { receive($0) }
    }

    /// Says the transport will deliver no more bytes. Once the buffered input is used up,
    /// ``process(into:)`` ends cleanly if `close_notify` was received and throws
    /// ``TLSError/truncated`` (or ``TLSError/endOfStreamDuringHandshake``) otherwise.
    public func receiveEndOfStream() { endOfStream = true }

    // MARK: Processing

    /// Advances the handshake and decrypts everything available, appending the plaintext to
    /// `plaintext`. Plaintext decrypted before a throw stays appended.
    ///
    /// Call it after each ``receive(_:)-(UnsafeRawBufferPointer)``, and once at the start on a
    /// client; then take the output.
    @discardableResult
    public func process(into plaintext: inout [UInt8]) throws(TLSError) -> Events {
        if let failure { throw failure }
        var events: Events = []
        ERR_clear_error()
        if !isHandshakeComplete {
            let result = SSL_do_handshake(ssl)
            guard result == 1 else {
                let code = SSL_get_error(ssl, result)
                if code == SSL_ERROR_WANT_READ {
                    if endOfStream && epsilon_BIO_pending(input) == 0 { throw fail(.endOfStreamDuringHandshake) }
                    return events
                }
                throw fail(error(for: code))
            }
            isHandshakeComplete = true
            events.insert(.handshakeCompleted)
            if !queuedPlaintext.isEmpty {
                let queued = queuedPlaintext
                queuedPlaintext = []
                try queued.withUnsafeBytes { (bytes) -> Result<Void, TLSError> in
                    do throws(TLSError) { try write(bytes) } catch { return .failure(error) }
                    return .success(())
                }.get()
            }
            if hasSentCloseNotify { sendCloseNotify() }  // close() was called during the handshake
        }
        while !hasReceivedCloseNotify {
            // Nothing buffered anywhere: SSL_read would only say "want read". Skipping it keeps
            // an idle engine from touching (or growing) the caller's buffer.
            if SSL_has_pending(ssl) == 0 && epsilon_BIO_pending(input) == 0 {
                // RFC 8446 §6.1: an end of stream without close_notify may have cut data short.
                if endOfStream { throw fail(.truncated) }
                break
            }
            // Decrypt into temporary (stack) memory, then append: the engine keeps no read
            // buffer between calls, so an idle connection costs no buffer memory.
            let result = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.readChunk) { room in
                var count = 0
                let result = SSL_read_ex(ssl, room.baseAddress, room.count, &count)
                if result == 1 { plaintext.append(contentsOf: UnsafeBufferPointer(rebasing: room[0..<count])) }
                return result
            }
            if result == 1 {
                events.insert(.plaintext)
                continue
            }
            let code = SSL_get_error(ssl, result)
            if code == SSL_ERROR_ZERO_RETURN {
                hasReceivedCloseNotify = true
                events.insert(.closeNotifyReceived)
            } else if code == SSL_ERROR_WANT_READ {
                if endOfStream && epsilon_BIO_pending(input) == 0 { throw fail(.truncated) }
                break
            } else {
                throw fail(error(for: code))
            }
        }
        if state.sessionIssued {
            state.sessionIssued = false
            events.insert(.sessionReceived)
        }
        return events
    }

    // MARK: Output

    /// Encrypts application bytes into the output. Before the handshake completes they are
    /// queued and sent as soon as it does.
    public func send(_ plaintext: UnsafeRawBufferPointer) throws(TLSError) {
        if let failure { throw failure }
        guard !hasSentCloseNotify else { throw .closed }
        guard isHandshakeComplete else {
            queuedPlaintext.append(contentsOf: plaintext)
            return
        }
        try write(plaintext)
    }

    /// Encrypts application bytes into the output.
    public func send(_ plaintext: [UInt8]) throws(TLSError) {
        try plaintext.withUnsafeBytes { (bytes) -> Result<Void, TLSError> in
            do throws(TLSError) { try send(bytes) } catch { return .failure(error) }
            return .success(())
        }.get()
    }

    private func write(_ bytes: UnsafeRawBufferPointer) throws(TLSError) {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        ERR_clear_error()
        while remaining > 0 {
            var written = 0
            guard SSL_write_ex(ssl, base, remaining, &written) == 1 else {
                throw fail(error(for: SSL_get_error(ssl, 0)))
            }
            base += written
            remaining -= written
        }
    }

    /// Queues `close_notify` (RFC 8446 §6.1); no plaintext can be sent afterwards. The peer's
    /// own `close_notify` arrives later through ``process(into:)``. Called during the
    /// handshake, it takes effect when the handshake completes, after any queued plaintext;
    /// to abandon a handshake instead, just drop the engine and close the transport.
    public func close() {
        guard !hasSentCloseNotify else { return }
        hasSentCloseNotify = true
        if isHandshakeComplete { sendCloseNotify() }
    }

    private func sendCloseNotify() {
        guard failure == nil else { return }
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// The number of bytes waiting to be sent to the network.
    public var pendingOutputCount: Int { Int(epsilon_BIO_pending(output)) }

    /// Appends all bytes waiting to be sent to `buffer`, returning how many.
    @discardableResult
    public func takeOutput(into buffer: inout [UInt8]) -> Int {
        let count = pendingOutputCount
        guard count > 0 else { return 0 }
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: count))
        let read = buffer.withUnsafeMutableBytes { BIO_read(output, $0.baseAddress! + start, Int32(count)) }
        let taken = max(0, Int(read))
        buffer.removeLast(count - taken)
        return taken
    }

    /// Copies up to `buffer.count` bytes waiting to be sent into `buffer` (for example a
    /// socket write buffer), returning how many; call again while ``pendingOutputCount`` > 0.
    public func takeOutput(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return 0 }
        return max(0, Int(BIO_read(output, base, Int32(min(buffer.count, Int(Int32.max))))))
    }

    /// All bytes waiting to be sent.
    public func takeOutput() -> [UInt8] {
        var bytes: [UInt8] = []
        takeOutput(into: &bytes)
        return bytes
    }

    // MARK: Negotiated values

    /// The negotiated protocol version, once the handshake is complete.
    public var version: TLSVersion? {
        guard isHandshakeComplete else { return nil }
        return TLSVersion(openSSLName: String(cString: SSL_get_version(ssl)))
    }

    /// The negotiated cipher suite's IANA name (e.g. `TLS_AES_128_GCM_SHA256`).
    public var cipherSuite: String? {
        guard isHandshakeComplete, let cipher = SSL_get_current_cipher(ssl), let name = SSL_CIPHER_standard_name(cipher)
        else { return nil }
        return String(cString: name)
    }

    /// The ALPN protocol both sides agreed on (e.g. `h2`), or `nil` if none was negotiated.
    public var applicationProtocol: String? {
        var bytes: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &bytes, &length)
        guard let bytes, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(length)), as: UTF8.self)
    }

    /// The peer's leaf certificate, if it sent one (always for a server; for a client only
    /// under mutual TLS). On a client it has been verified unless verification is `.none`.
    public var peerCertificate: TLSCertificate? {
        guard let x509 = SSL_get1_peer_certificate(ssl) else { return nil }
        return TLSCertificate(taking: x509)
    }

    /// Whether this handshake resumed an earlier session (ticket or session ID).
    public var isResumed: Bool { isHandshakeComplete && SSL_session_reused(ssl) == 1 }

    /// Client only: the newest resumable session of this connection (see ``TLSSession``):
    /// the latest ticket or session the server issued, or, for a TLS 1.2 connection that
    /// resumed without a new ticket, the session it resumed.
    public var session: TLSSession? {
        if let latest = state.latestSession { return latest }
        guard context.role == .client, isHandshakeComplete, let current = SSL_get1_session(ssl) else { return nil }
        let session = TLSSession(taking: current)
        return session.isResumable ? session : nil
    }

    /// Client only: the OCSP response the server stapled, if the client asked for one.
    public var stapledOCSPResponse: [UInt8]? { state.ocspResponse }

    // MARK: Errors

    private func fail(_ error: TLSError) -> TLSError {
        failure = error
        ERR_clear_error()
        return error
    }

    /// Turns OpenSSL's error (SSL_get_error code, error queue, verification result and the
    /// alerts seen by the info callback) into a ``TLSError``.
    private func error(for code: Int32) -> TLSError {
        if let ocsp = state.ocspFailure { return ocsp }
        let queued = ERR_peek_error()
        let reason = ERR_GET_REASON(queued)
        if reason == SSL_R_CERTIFICATE_VERIFY_FAILED {
            let result = SSL_get_verify_result(ssl)
            if result != X509_V_OK { return verificationError(Int32(result)) }
        }
        if reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE { return .peerCertificateRequired }
        if let alert = state.alertReceived { return .alertReceived(alert) }
        let text: String =
            if queued != 0, let string = ERR_reason_error_string(queued) { String(cString: string) }
            else if code == SSL_ERROR_SYSCALL { "unexpected end of input" }
            else { "OpenSSL error \(code)" }
        if !isHandshakeComplete { return .handshakeFailed(reason: text, alertSent: state.alertSent) }
        return .protocolViolation(reason: text, alertSent: state.alertSent)
    }

    private func verificationError(_ result: Int32) -> TLSError {
        switch result {
        case X509_V_ERR_CERT_HAS_EXPIRED: return .certificateExpired
        case X509_V_ERR_CERT_NOT_YET_VALID: return .certificateNotYetValid
        case X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH:
            return .hostnameMismatch(expected: clientServerName ?? "")
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
             X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
             X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, X509_V_ERR_CERT_UNTRUSTED:
            return .unknownCertificateAuthority
        case X509_V_ERR_CERT_REVOKED: return .certificateRevoked
        default: return .certificateRejected(reason: String(cString: X509_verify_cert_error_string(Int(result))))
        }
    }
}
