import EpsilonTransport

extension HTTPClient {
    /// Opens a connection to `origin` and picks its protocol: HTTP/2 when ALPN agreed on `h2`
    /// (or with prior knowledge under ``HTTPClientHTTPVersion/http2``), HTTP/1.1 otherwise.
    func openForProtocol(_ origin: ClientOrigin) async throws(HTTPClientError) -> LeasedConnection {
        let (transport, negotiated) = try await establish(origin)
        if configuration.httpVersion.usesHTTP2(secure: origin.isSecure, negotiated: negotiated)
            && (origin.isSecure || configuration.proxy == nil) {
            return .http2(HTTP2ClientConnection(transport: transport, origin: origin,
                                                receiveWindow: configuration.receiveBufferLimit), reused: false)
        }
        return .http1(HTTP1ClientConnection(transport: transport, origin: origin), reused: false)
    }

    /// TCP (and TLS) to `origin`, offering ALPN protocols by ``HTTPClientConfiguration/httpVersion``;
    /// the protocol agreed.
    private func establish(_ origin: ClientOrigin) async throws(HTTPClientError) -> (AsyncConnection, String?) {
        let established = try await connector.connect(to: origin, offering: configuration.httpVersion.alpnOffer)
        return (established.transport, established.applicationProtocol)
    }
}
