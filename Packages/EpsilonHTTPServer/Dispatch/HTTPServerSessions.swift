// Which session serves a new connection. The HTTP/2 side ("h2", Selection/) owns the bodies
// of these functions: protocol selection by ALPN and preface sniffing, and the session that
// takes over after `Upgrade: h2c`.

enum HTTPServerSessions {
    /// The first session of a new connection: HTTP/1.1 in cleartext without h2c, else a
    /// ``HTTPProtocolSelector`` (ALPN over TLS, the preface in cleartext).
    static func makeInitial(io: any HTTPServerIO, context: HTTPServerLoopContext) -> any HTTPServerSession {
        HTTPProtocolSelector.session(io: io, context: context) { io in HTTP1ServerSession(io: io, context: context) }
    }

    /// Whether ``makeUpgradedHTTP2(io:context:upgrade:)`` can take over an `Upgrade: h2c`
    /// (checked before the `101` goes out).
    static var supportsH2CUpgrade: Bool { true }

    /// The HTTP/2 session that serves `upgrade` as stream 1 after the `101`; nil (an invalid
    /// `HTTP2-Settings` payload) closes the connection.
    static func makeUpgradedHTTP2(io: any HTTPServerIO, context: HTTPServerLoopContext,
                                  upgrade: HTTPServerH2CUpgrade) -> (any HTTPServerSession)? {
        try? HTTP2ServerSession(io: io, context: context, upgrade: upgrade)
    }
}
