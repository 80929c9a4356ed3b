import EpsilonHTTP1
import EpsilonHTTPClient
import EpsilonTLS
import EpsilonTransport

/// Opens the byte stream a WebSocket connection runs on: TCP to the server (or an HTTP
/// proxy's `CONNECT` tunnel to it), with TLS for `wss://` (inside the tunnel through a proxy).
enum WebSocketClientConnector {
    static func open(_ url: WebSocketClientURL, configuration: WebSocketClientConfiguration, group: IOLoopGroup) async throws(WebSocketClientError) -> AsyncConnection {
        var options = SocketOptions()
        var tls: TLSOptions?
        if url.isSecure {
            let context: TLSContext
            do throws(TLSError) {
                context = try TLSContext(client: configuration.tls)
            } catch {
                throw .tls(error)
            }
            var made = TLSOptions.client(context, serverName: configuration.serverName ?? url.host)
            made.handshakeTimeout = configuration.handshakeTimeout
            tls = made
        }
        let host: String
        let port: UInt16
        if let proxy = configuration.proxy {
            // TLS starts inside the tunnel, once the proxy said yes.
            host = proxy.host
            port = proxy.port
        } else {
            host = url.host
            port = url.port
            options.tls = tls
        }
        guard let addresses = AddressResolver.endpoints(host: host, port: port) else { throw .hostNotFound(host) }
        var lastError = WebSocketClientError.hostNotFound(host)
        for address in addresses {
            let transport: AsyncConnection
            do throws(TransportError) {
                transport = try await AsyncConnection.connect(
                    to: address, on: group.next(), options: options, timeout: configuration.connectTimeout,
                    inboxLimit: configuration.receiveBufferLimit)
            } catch {
                switch error {
                case .cancelled: throw .cancelled
                case .connectTimeout: lastError = .connectTimeout
                case .tls(let tls): lastError = .tls(tls)
                default: lastError = .connectFailed(error)
                }
                continue
            }
            if let proxy = configuration.proxy {
                try await tunnel(transport, to: url, proxy: proxy, timeout: configuration.handshakeTimeout)
                if let tls {
                    do throws(TransportError) {
                        _ = try await transport.startTLS(tls)
                    } catch {
                        await transport.close()
                        switch error {
                        case .tls(let failure): throw .tls(failure)
                        case .tlsHandshakeTimeout: throw .handshakeTimeout
                        case .cancelled: throw .cancelled
                        default: throw .connectionLost(error)
                        }
                    }
                }
            }
            return transport
        }
        throw lastError
    }

    /// Asks the proxy for a tunnel (RFC 9110 §9.3.6) and waits for its 2xx answer.
    static func tunnel(_ transport: AsyncConnection, to url: WebSocketClientURL, proxy: HTTPClientProxy, timeout: Duration) async throws(WebSocketClientError) {
        let authority = url.host.contains(":") ? "[\(url.host)]:\(url.port)" : "\(url.host):\(url.port)"
        var request = "CONNECT \(authority) HTTP/1.1\r\nHost: \(authority)\r\n"
        if let authorization = proxy.authorization { request += "Proxy-Authorization: \(authorization)\r\n" }
        request += "\r\n"
        let deadline = WebSocketDeadline(after: timeout, closing: transport)
        defer { deadline.cancel() }
        do throws(TransportError) {
            try await transport.write(Array(request.utf8))
        } catch {
            throw deadline.fired ? .handshakeTimeout : .connectionLost(error)
        }
        var parser = HTTP1Parser(role: .response)
        parser.expectResponse(to: .connect)
        var head: [UInt8] = []
        while true {
            let read: [UInt8]?
            do throws(TransportError) {
                read = try await transport.read()
            } catch {
                throw deadline.fired ? .handshakeTimeout : .connectionLost(error)
            }
            guard let bytes = read else { throw deadline.fired ? .handshakeTimeout : .proxyRefused(0) }
            guard head.count + bytes.count <= 64 * 1024 else { throw .proxyRefused(0) }
            head.append(contentsOf: bytes)
            let status: Int? = head.withUnsafeBytes { raw in
                var start = 0
                while start < raw.count {
                    guard let step = try? parser.parse(UnsafeRawBufferPointer(rebasing: raw[start...])) else { return 0 }
                    if case .head(let response) = step.event, response.status >= 200 || response.status < 100 {
                        // A tunnel's bytes follow the head; the server speaks only after our request.
                        return start + response.length == raw.count ? response.status : 0
                    }
                    if step.consumed == 0 { return nil }
                    start += step.consumed
                }
                return nil
            }
            guard let status else { continue }
            guard (200..<300).contains(status) else {
                await transport.close()
                throw .proxyRefused(status)
            }
            return
        }
    }
}
