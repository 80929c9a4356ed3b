import COpenSSL

/// A client's resumable session: a TLS 1.3 ticket or a TLS 1.2 session (ID or ticket).
///
/// Take it from ``TLSEngine/session`` after a handshake (for TLS 1.3, after the engine has
/// processed the server's first flight of post-handshake data, where the tickets travel) and
/// pass it to the next ``TLSEngine/init(context:serverName:resuming:)`` for the same server.
/// ``TLSEngine/isResumed`` then says whether the server accepted it.
///
/// TLS 1.3 tickets are single use (RFC 8446 §C.4): once a resumed connection has received
/// its new tickets, OpenSSL retires the one it used, so always keep the newest session of
/// the latest connection. A session whose connection failed or was truncated is not resumable.
public final class TLSSession: @unchecked Sendable {
    // @unchecked: an SSL_SESSION handed out by OpenSSL's new-session callback is complete and
    // is only read afterwards (SSL_set_session takes its own reference, atomically).
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) { self.pointer = pointer }
    deinit { SSL_SESSION_free(pointer) }

    /// The protocol version the session was made with.
    public var version: TLSVersion? { TLSVersion(rawValue: Int(SSL_SESSION_get_protocol_version(pointer))) }

    /// Whether OpenSSL considers the session usable for resumption.
    public var isResumable: Bool { SSL_SESSION_is_resumable(pointer) == 1 }
}

/// Per-engine state the C callbacks write to (see Callbacks.swift).
final class EngineState {
    var alertReceived: TLSAlert?
    var alertSent: TLSAlert?
    var latestSession: TLSSession?
    /// Set by the new-session callback, cleared when ``TLSEngine/process(into:)`` reports it.
    var sessionIssued = false
    var ocspFailure: TLSError?
    var ocspResponse: [UInt8]?
    var selectedIdentity: TLSIdentity?
    var requestedServerName: String?

    /// Unretained: the engine owns the state and frees the SSL object first.
    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    static func from(_ ssl: OpaquePointer?) -> EngineState? {
        guard let ssl, let pointer = SSL_get_ex_data(ssl, 0) else { return nil }
        return Unmanaged<EngineState>.fromOpaque(pointer).takeUnretainedValue()
    }
}
