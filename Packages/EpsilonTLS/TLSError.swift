import COpenSSL

/// What went wrong in a TLS context or engine, in words a caller can act on.
///
/// Certificate failures say which check failed (unknown authority, expiry, host name, OCSP),
/// handshake failures carry the TLS alert that ended them, and the end of a stream without
/// `close_notify` is ``truncated``, never a clean end. No case carries a bare OpenSSL code:
/// where OpenSSL has more to say, its reason is kept as text.
public enum TLSError: Error, Sendable, Hashable {
    // MARK: The peer's certificate was rejected by this side

    /// The peer's chain does not lead to a trusted root (unknown issuer, self-signed leaf or
    /// self-signed root not in the trust store).
    case unknownCertificateAuthority
    /// A certificate in the peer's chain is past its `notAfter` date.
    case certificateExpired
    /// A certificate in the peer's chain is before its `notBefore` date.
    case certificateNotYetValid
    /// The server's certificate does not name the host the client asked for.
    case hostnameMismatch(expected: String)
    /// The certificate was revoked (reported by a stapled OCSP response).
    case certificateRevoked
    /// Another verification failure; `reason` is OpenSSL's verification message.
    case certificateRejected(reason: String)
    /// The server requires a client certificate (mutual TLS) and the client sent none.
    case peerCertificateRequired
    /// The client requires a stapled OCSP response and the server sent none.
    case ocspResponseMissing
    /// The stapled OCSP response could not be parsed, was not signed by a trusted responder,
    /// did not cover the server's certificate, or is out of date.
    case ocspResponseInvalid(reason: String)

    // MARK: The handshake or the connection failed

    /// The peer ended the connection with this fatal alert (for example ``TLSAlert/unknownCA``
    /// when it rejected our certificate, ``TLSAlert/protocolVersion`` when no version is shared).
    case alertReceived(TLSAlert)
    /// This side aborted the handshake or connection; the alert it queued for the peer (if
    /// any) is in the engine's output and should still be sent. `reason` is OpenSSL's text.
    case handshakeFailed(reason: String, alertSent: TLSAlert?)
    /// The transport ended (``TLSEngine/receiveEndOfStream()``) without the peer's
    /// `close_notify`: the data received may be cut short (RFC 8446 §6.1).
    case truncated
    /// The transport ended before the handshake completed.
    case endOfStreamDuringHandshake
    /// Plaintext was given after ``TLSEngine/close()`` or after the peer's `close_notify`
    /// made the connection unusable.
    case closed
    /// The peer broke the record or handshake protocol; `reason` is OpenSSL's text.
    case protocolViolation(reason: String, alertSent: TLSAlert?)

    // MARK: Configuration

    /// A file could not be opened or read.
    case fileUnreadable(path: String)
    /// Bytes given as a certificate are neither a PEM nor a DER certificate (or hold none).
    case invalidCertificate(reason: String)
    /// Bytes given as a private key are neither a PEM nor a DER key, or the passphrase is wrong.
    case invalidPrivateKey(reason: String)
    /// The private key does not belong to the leaf certificate.
    case privateKeyMismatch
    /// The policy names no cipher, suite or group OpenSSL knows, or an impossible version range.
    case invalidPolicy(reason: String)
    /// Some other setting cannot be honoured; `reason` says which.
    case invalidConfiguration(reason: String)
}

/// A TLS alert description (RFC 8446 §6, RFC 5246 §7.2), as sent or received.
public struct TLSAlert: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The alert's one-byte description code.
    public var rawValue: UInt8
    /// Wraps a description code; every value is accepted (unknown codes keep their number).
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `close_notify` (0).
    public static let closeNotify = TLSAlert(rawValue: 0)
    /// `unexpected_message` (10).
    public static let unexpectedMessage = TLSAlert(rawValue: 10)
    /// `bad_record_mac` (20).
    public static let badRecordMAC = TLSAlert(rawValue: 20)
    /// `record_overflow` (22).
    public static let recordOverflow = TLSAlert(rawValue: 22)
    /// `handshake_failure` (40): no acceptable set of parameters.
    public static let handshakeFailure = TLSAlert(rawValue: 40)
    /// `bad_certificate` (42).
    public static let badCertificate = TLSAlert(rawValue: 42)
    /// `unsupported_certificate` (43).
    public static let unsupportedCertificate = TLSAlert(rawValue: 43)
    /// `certificate_revoked` (44).
    public static let certificateRevoked = TLSAlert(rawValue: 44)
    /// `certificate_expired` (45).
    public static let certificateExpired = TLSAlert(rawValue: 45)
    /// `certificate_unknown` (46).
    public static let certificateUnknown = TLSAlert(rawValue: 46)
    /// `illegal_parameter` (47).
    public static let illegalParameter = TLSAlert(rawValue: 47)
    /// `unknown_ca` (48): the peer does not trust the issuer of our certificate.
    public static let unknownCA = TLSAlert(rawValue: 48)
    /// `access_denied` (49).
    public static let accessDenied = TLSAlert(rawValue: 49)
    /// `decode_error` (50).
    public static let decodeError = TLSAlert(rawValue: 50)
    /// `decrypt_error` (51).
    public static let decryptError = TLSAlert(rawValue: 51)
    /// `protocol_version` (70): no protocol version both sides accept.
    public static let protocolVersion = TLSAlert(rawValue: 70)
    /// `insufficient_security` (71).
    public static let insufficientSecurity = TLSAlert(rawValue: 71)
    /// `internal_error` (80).
    public static let internalError = TLSAlert(rawValue: 80)
    /// `missing_extension` (109).
    public static let missingExtension = TLSAlert(rawValue: 109)
    /// `unsupported_extension` (110).
    public static let unsupportedExtension = TLSAlert(rawValue: 110)
    /// `unrecognized_name` (112).
    public static let unrecognizedName = TLSAlert(rawValue: 112)
    /// `bad_certificate_status_response` (113): the client rejected the stapled OCSP response.
    public static let badCertificateStatusResponse = TLSAlert(rawValue: 113)
    /// `certificate_required` (116): the server required a client certificate (TLS 1.3).
    public static let certificateRequired = TLSAlert(rawValue: 116)
    /// `no_application_protocol` (120): no ALPN protocol in common (RFC 7301 §3.2).
    public static let noApplicationProtocol = TLSAlert(rawValue: 120)

    /// The alert's name as OpenSSL spells it, then its code, e.g. `unknown CA (48)`.
    public var description: String {
        // SSL_alert_desc_string_long takes the two-byte (level << 8 | description) value.
        let name = String(cString: SSL_alert_desc_string_long(2 << 8 | Int32(rawValue)))
        return "\(name) (\(rawValue))"
    }
}
