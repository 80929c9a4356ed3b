import COpenSSL

// The C callbacks OpenSSL calls during a handshake. Each finds its Swift state through a
// pointer stored in OpenSSL: the context's `ContextStorage` (callback argument or SSL_CTX
// ex_data 0) and the engine's `EngineState` (SSL ex_data 0). Both are unretained: the
// context outlives its engines and an engine outlives its SSL object, so they are alive
// whenever OpenSSL can call back, and every call happens on the thread driving the engine.

/// Records alerts in both directions so a failure can name the alert that ended it.
func infoCallback(_ ssl: OpaquePointer?, _ location: Int32, _ value: Int32) {
    guard location & SSL_CB_ALERT != 0, let state = EngineState.from(ssl) else { return }
    let level = value >> 8
    let alert = TLSAlert(rawValue: UInt8(truncatingIfNeeded: value))
    guard level == 2 || alert == .closeNotify else { return }  // fatal alerts and close_notify
    if location & SSL_CB_READ != 0 {
        if alert != .closeNotify { state.alertReceived = state.alertReceived ?? alert }
    } else if alert != .closeNotify {
        state.alertSent = state.alertSent ?? alert
    }
}

/// SNI (RFC 6066 §3) on the server: swaps in the certificate configured for the name.
func serverNameCallback(_ ssl: OpaquePointer?, _ alert: UnsafeMutablePointer<Int32>?, _ argument: UnsafeMutableRawPointer?) -> Int32 {
    guard let ssl, let storage = ContextStorage.from(argument) else { return SSL_TLSEXT_ERR_NOACK }
    guard let raw = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) else { return SSL_TLSEXT_ERR_NOACK }
    let name = String(cString: raw)
    EngineState.from(ssl)?.requestedServerName = name
    guard let identity = storage.identity(forServerName: name) else {
        // Unknown names get the default certificate, as most servers do; the client's host
        // name check decides whether that is acceptable.
        return SSL_TLSEXT_ERR_OK
    }
    EngineState.from(ssl)?.selectedIdentity = identity
    let chain = OPENSSL_sk_new_null()
    defer { OPENSSL_sk_free(chain) }
    for certificate in identity.chain.dropFirst() {
        _ = OPENSSL_sk_push(chain, UnsafeRawPointer(certificate.storage.pointer))
    }
    guard SSL_use_cert_and_key(ssl, identity.chain[0].storage.pointer, identity.privateKey.storage.pointer, chain, 1) == 1 else {
        alert?.pointee = SSL_AD_INTERNAL_ERROR
        return SSL_TLSEXT_ERR_ALERT_FATAL
    }
    return SSL_TLSEXT_ERR_OK
}

/// ALPN (RFC 7301 §3.2) on the server: the first of the server's protocols the client offers.
func alpnSelectCallback(
    _ ssl: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, _ outLength: UnsafeMutablePointer<UInt8>?,
    _ offered: UnsafePointer<UInt8>?, _ offeredLength: UInt32, _ argument: UnsafeMutableRawPointer?
) -> Int32 {
    guard let storage = ContextStorage.from(argument), let offered, let out, let outLength else {
        return SSL_TLSEXT_ERR_ALERT_FATAL
    }
    let list = UnsafeBufferPointer(start: offered, count: Int(offeredLength))
    for wanted in storage.serverProtocols {
        var index = 0
        while index < list.count {
            let length = Int(list[index])
            let start = index + 1
            guard length > 0, start + length <= list.count else { return SSL_TLSEXT_ERR_ALERT_FATAL }  // malformed list
            if length == wanted.count, list[start..<start + length].elementsEqual(wanted) {
                // Points into the client's list, which OpenSSL keeps for the handshake.
                out.pointee = offered + start
                outLength.pointee = UInt8(length)
                return SSL_TLSEXT_ERR_OK
            }
            index = start + length
        }
    }
    // OpenSSL 3 sends no_application_protocol for ALERT_FATAL from this callback.
    return SSL_TLSEXT_ERR_ALERT_FATAL
}

/// OCSP stapling on the server: attaches the response configured for the chosen identity.
func serverStatusCallback(_ ssl: OpaquePointer?, _ argument: UnsafeMutableRawPointer?) -> Int32 {
    guard let ssl, let storage = ContextStorage.from(argument) else { return SSL_TLSEXT_ERR_NOACK }
    let identity = EngineState.from(ssl)?.selectedIdentity ?? storage.defaultIdentity
    guard let response = identity?.ocspResponse, !response.isEmpty else { return SSL_TLSEXT_ERR_NOACK }
    let stapled = response.withUnsafeBufferPointer { epsilon_SSL_staple_ocsp_response(ssl, $0.baseAddress, $0.count) }
    return stapled == 1 ? SSL_TLSEXT_ERR_OK : SSL_TLSEXT_ERR_ALERT_FATAL
}

/// OCSP stapling on the client: checks the stapled response (1 accepts, 0 rejects with
/// `bad_certificate_status_response`). The reason is kept for the engine's error.
func clientStatusCallback(_ ssl: OpaquePointer?, _ argument: UnsafeMutableRawPointer?) -> Int32 {
    guard let ssl, let storage = ContextStorage.from(argument), let state = EngineState.from(ssl) else { return -1 }
    var bytes: UnsafePointer<UInt8>?
    let length = epsilon_SSL_get_ocsp_response(ssl, &bytes)
    guard let bytes, length > 0 else {
        if storage.ocsp == .require {
            state.ocspFailure = .ocspResponseMissing
            return 0
        }
        return 1
    }
    state.ocspResponse = Array(UnsafeBufferPointer(start: bytes, count: length))
    if let failure = OCSPCheck.verify(ssl: ssl, response: bytes, length: length) {
        state.ocspFailure = failure
        return 0
    }
    return 1
}

/// Client sessions (TLS 1.2 at the end of the handshake, TLS 1.3 tickets afterwards).
func newSessionCallback(_ ssl: OpaquePointer?, _ session: OpaquePointer?) -> Int32 {
    guard let session, let state = EngineState.from(ssl) else { return 0 }
    state.latestSession = TLSSession(taking: session)
    state.sessionIssued = true
    return 1  // we keep the reference
}

/// Writes one key log line to the context's sink.
func keyLogCallback(_ ssl: OpaquePointer?, _ line: UnsafePointer<CChar>?) {
    guard let ssl, let line, let context = SSL_get_SSL_CTX(ssl),
          let storage = ContextStorage.from(SSL_CTX_get_ex_data(context, 0))
    else { return }
    storage.keyLog?.write(String(cString: line))
}

/// Verification of a stapled OCSP response against the verified chain.
enum OCSPCheck {
    static func verify(ssl: OpaquePointer, response: UnsafePointer<UInt8>, length: Int) -> TLSError? {
        defer { ERR_clear_error() }
        var cursor: UnsafePointer<UInt8>? = response
        guard let parsed = d2i_OCSP_RESPONSE(nil, &cursor, length) else {
            return .ocspResponseInvalid(reason: "not a DER OCSP response")
        }
        defer { OCSP_RESPONSE_free(parsed) }
        guard OCSP_response_status(parsed) == epsilon_OCSP_response_status_successful() else {
            return .ocspResponseInvalid(reason: "responder status \(OCSP_response_status(parsed))")
        }
        guard let basic = OCSP_response_get1_basic(parsed) else {
            return .ocspResponseInvalid(reason: "not a basic OCSP response")
        }
        defer { OCSP_BASICRESP_free(basic) }
        guard let chain = SSL_get0_verified_chain(ssl), OPENSSL_sk_num(chain) >= 2 else {
            return .ocspResponseInvalid(reason: "no verified chain with an issuer to check the response against")
        }
        let leaf = OpaquePointer(OPENSSL_sk_value(chain, 0))
        let issuer = OpaquePointer(OPENSSL_sk_value(chain, 1))
        let store = SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl))
        guard OCSP_basic_verify(basic, chain, store, 0) == 1 else {
            return .ocspResponseInvalid(reason: "signature does not verify against the trusted roots")
        }
        guard let id = OCSP_cert_to_id(nil, leaf, issuer) else {
            return .ocspResponseInvalid(reason: "cannot name the leaf certificate")
        }
        defer { OCSP_CERTID_free(id) }
        var status: Int32 = -1
        var reason: Int32 = -1
        var revoked: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>?
        var thisUpdate: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>?
        var nextUpdate: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>?
        guard OCSP_resp_find_status(basic, id, &status, &reason, &revoked, &thisUpdate, &nextUpdate) == 1 else {
            return .ocspResponseInvalid(reason: "response does not cover the server's certificate")
        }
        // Five minutes of clock skew, no maximum age beyond nextUpdate.
        guard OCSP_check_validity(thisUpdate, nextUpdate, 300, -1) == 1 else {
            return .ocspResponseInvalid(reason: "response is out of date")
        }
        switch status {
        case V_OCSP_CERTSTATUS_GOOD: return nil
        case V_OCSP_CERTSTATUS_REVOKED: return .certificateRevoked
        default: return .ocspResponseInvalid(reason: "responder does not know the certificate")
        }
    }
}
