import EpsilonTLS
import EpsilonTransport
import Synchronization

/// Establishes a client's connections: TCP to the origin (or to its proxy), a `CONNECT`
/// tunnel for `https://` through a proxy, and the TLS handshake, offering the origin's newest
/// session (``TLSSessionCache``).
///
/// The caller gets the transport ready for its protocol and the ALPN protocol agreed; it
/// chooses the offer (the client's HTTP/1.1 and HTTP/2 paths offer different lists).
final class ClientConnector: Sendable {
    /// A connection ready for HTTP.
    struct Established: Sendable {
        /// Plaintext to the origin, to the proxy (``viaProxy``), or TLS to the origin.
        var transport: AsyncConnection
        /// The ALPN protocol the server picked, or nil (no TLS, or no protocol agreed).
        var applicationProtocol: String? { tls?.applicationProtocol }
        /// The handshake's outcome, nil for a plaintext connection.
        var tls: TLSHandshakeSummary?
        /// The transport reaches an HTTP proxy that takes absolute-form requests (an
        /// `http://` origin through a proxy), not the origin itself.
        var viaProxy: Bool
    }

    private let configuration: HTTPClientConfiguration
    private let group: IOLoopGroup
    /// Sessions to resume, per origin.
    let sessions = TLSSessionCache()
    /// TLS contexts per ALPN offer, made on first use (making one loads the trust store).
    private let contexts = Mutex<[[String]: TLSContext]>([:])

    init(configuration: HTTPClientConfiguration, group: IOLoopGroup) {
        self.configuration = configuration
        self.group = group
    }

    /// Opens a connection to `origin`, trying each of its (or its proxy's) addresses, and
    /// for `https://` completes the handshake offering `protocols` by ALPN.
    func connect(to origin: ClientOrigin, offering protocols: [String]) async throws(HTTPClientError) -> Established {
        let proxy = configuration.proxy
        var options = SocketOptions()
        if origin.isSecure && proxy == nil { options.tls = try tlsOptions(for: origin, offering: protocols) }
        let transport = try await openTCP(host: proxy?.host ?? origin.host, port: proxy?.port ?? origin.port,
                                          options: options)
        guard origin.isSecure else { return Established(transport: transport, tls: nil, viaProxy: proxy != nil) }
        if let proxy {
            try await openTunnel(on: transport, to: origin, proxy: proxy)
            let tls: TLSOptions
            do {
                tls = try tlsOptions(for: origin, offering: protocols)
            } catch {
                await transport.close()
                throw error
            }
            let summary: TLSHandshakeSummary
            do {
                summary = try await transport.startTLS(tls)
            } catch {
                await transport.close()
                throw Self.mapped(error)
            }
            return Established(transport: transport, tls: summary, viaProxy: false)
        }
        do {
            let summary = try await transport.tlsHandshake()
            return Established(transport: transport, tls: summary, viaProxy: false)
        } catch {
            await transport.close()
            throw Self.mapped(error)
        }
    }

    /// TLS options for `origin`: SNI and host check on its host, its newest session, and a
    /// handler that keeps the sessions the server issues.
    private func tlsOptions(for origin: ClientOrigin, offering protocols: [String]) throws(HTTPClientError) -> TLSOptions {
        var tls = TLSOptions.client(try context(offering: protocols), serverName: origin.host,
                                    resuming: sessions.session(for: origin))
        tls.handshakeTimeout = configuration.timeouts.tlsHandshake
        let sessions = self.sessions
        tls.sessionHandler = { session in sessions.store(session, for: origin) }
        return tls
    }

    /// The client TLS context offering `protocols`, made once per offer.
    func context(offering protocols: [String]) throws(HTTPClientError) -> TLSContext {
        let result = contexts.withLock { contexts -> Result<TLSContext, TLSError> in
            if let context = contexts[protocols] { return .success(context) }
            do throws(TLSError) {
                var tls = configuration.tls
                tls.applicationProtocols = protocols
                let made = try TLSContext(client: tls)
                contexts[protocols] = made
                return .success(made)
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let context): return context
        case .failure(let error): throw .tls(error)
        }
    }

    /// A TCP connection to `host:port` (with TLS when `options` says so), trying each address.
    private func openTCP(host: String, port: UInt16, options: SocketOptions) async throws(HTTPClientError) -> AsyncConnection {
        let addresses = try AddressResolver.resolve(host: host, port: port)
        var lastError = HTTPClientError.hostNotFound(host)
        for address in addresses {
            do {
                return try await AsyncConnection.connect(
                    to: address, on: group.next(), options: options, timeout: configuration.timeouts.connect,
                    inboxLimit: configuration.receiveBufferLimit)
            } catch {
                switch error {
                case .cancelled: throw .cancelled
                case .connectTimeout: lastError = .connectTimeout
                default: lastError = .connectFailed(error)
                }
            }
        }
        throw lastError
    }

    /// Asks the proxy on `transport` for a tunnel to `origin`, within the connect timeout.
    private func openTunnel(on transport: AsyncConnection, to origin: ClientOrigin, proxy: HTTPClientProxy) async throws(HTTPClientError) {
        let exchange = HTTP1ClientConnection(transport: transport, origin: origin)
        exchange.watchdog.startPhase(configuration.timeouts.connect, error: .connectTimeout)
        defer { exchange.watchdog.clear() }
        do {
            // RFC 9110 §9.3.6: the target is the origin's authority, port always included.
            let host = origin.host.utf8.contains(UInt8(ascii: ":")) ? "[\(origin.host)]" : origin.host
            try await exchange.openTunnel(to: "\(host):\(origin.port)", proxyAuthorization: proxy.authorization)
        } catch {
            await transport.close()
            throw error
        }
    }

    /// A transport failure during the handshake, as the client reports it.
    private static func mapped(_ error: TransportError) -> HTTPClientError {
        switch error {
        case .cancelled: return .cancelled
        case .tlsHandshakeTimeout: return .tlsHandshakeTimeout
        case .tls(let tlsError): return .tls(tlsError)
        default: return .connectionLost(error)
        }
    }
}
