/// An HTTP/1.1 request that asked for `Upgrade: h2c` with `HTTP2-Settings` (RFC 7540 §3.2,
/// kept by RFC 9113 §3.1 as a peer may still send it), owned: after the `101` the HTTP/2
/// session serves it as stream 1 (half-closed remote) and the connection is its.
///
/// The HTTP/1.1 session only upgrades a request that has no body (the request is complete
/// when the `101` goes out); it ignores `Upgrade: h2c` otherwise (RFC 9110 §7.8 allows it).
struct HTTPServerH2CUpgrade {
    /// The request head, copied.
    var method: String
    var scheme: String
    var authority: String
    /// Path and query as sent (`/a?b`).
    var target: String
    /// The regular fields, copied; connection-specific ones (Connection, Upgrade,
    /// HTTP2-Settings, Keep-Alive, Transfer-Encoding, TE but `trailers`) are left out.
    var fields: [(name: String, value: String)]
    /// The decoded `HTTP2-Settings` payload (a SETTINGS frame payload, base64url-decoded).
    var settingsPayload: [UInt8]
}
