/// An HTTP proxy: `http://` requests go to it in absolute form, `https://` requests through a
/// `CONNECT` tunnel (TLS then runs end to end with the origin).
public struct HTTPClientProxy: Sendable, Hashable {
    /// The proxy's host name or IP address.
    public var host: String
    /// The proxy's port.
    public var port: UInt16
    /// The `Proxy-Authorization` field value to send to the proxy (never to an origin), or nil.
    public var authorization: String?

    /// A proxy at `host:port`, with an optional `Proxy-Authorization` value.
    public init(host: String, port: UInt16, authorization: String? = nil) {
        self.host = host
        self.port = port
        self.authorization = authorization
    }
}
