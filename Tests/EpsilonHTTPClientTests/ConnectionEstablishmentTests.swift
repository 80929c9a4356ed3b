import EpsilonHTTPClient
import EpsilonTLS
import Foundation
import Testing

/// How connections are established, against real peers on loopback: `CONNECT` tunnels through
/// a Python proxy (connect_proxy.py) to an nginx HTTPS origin, TLS session resumption across
/// the pool's connections (nginx's `$ssl_session_reused`), client certificates (nginx's
/// `ssl_verify_client on`, and tls_server.py, which refuses the handshake without one), and the
/// TLS version policy.
@Suite("Connection establishment against nginx and Python (CONNECT proxy, strict TLS server)", .serialized,
       .timeLimit(.minutes(2)))
struct ConnectionEstablishmentTests {
    let nginx: NginxTLSPeer

    init() async throws { nginx = try await NginxTLSPeer() }

    func configuration() throws -> HTTPClientConfiguration {
        var configuration = HTTPClientConfiguration()
        configuration.tls.trustRoots = try .bundle(file: nginx.directory + "/ca.pem")
        configuration.retryPolicy = .disabled
        return configuration
    }

    var clientIdentity: TLSIdentity {
        get throws {
            try TLSIdentity(certificateFile: nginx.directory + "/client.pem", privateKeyFile: nginx.directory + "/client.key")
        }
    }

    /// The access log is written after the response: wait (bounded) for `count` lines for
    /// `path`, in connection order.
    func waitForLog(port: UInt16, path: String = "/hello.txt", count: Int) async throws -> [NginxTLSPeer.Logged] {
        for _ in 0..<100 {
            if nginx.logged(port: port, path: path).count >= count { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nginx.logged(port: port, path: path).sorted { $0.connection < $1.connection }
    }

    func proxy(auth: String?, log: String) async throws -> LoopbackPeer {
        var arguments = [clientTestsDirectory + "/connect_proxy.py", "--port", "0", "--log", log]
        if let auth { arguments += ["--auth", auth] }
        return try await LoopbackPeer("python3", arguments)
    }

    // MARK: CONNECT

    @Test func tunnelsHTTPSThroughAConnectProxyWithCredentials() async throws {
        let log = nginx.directory + "/proxy.log"
        let proxy = try await proxy(auth: "Basic dTpw", log: log)
        var configuration = try configuration()
        configuration.proxy = HTTPClientProxy(host: "127.0.0.1", port: proxy.port, authorization: "Basic dTpw")
        let client = HTTPClient(configuration: configuration)
        defer { Task { await client.shutdown() } }
        for _ in 0..<3 {
            let response = try await client.get(nginx.url(port: nginx.port, "/hello.txt"))
            #expect(response.status == .ok)
            #expect(try await response.body.collect(upTo: 1 << 10) == Array("hello\n".utf8))
        }
        // One tunnel, reused by the three requests; TLS ran end to end with nginx.
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines == ["CONNECT localhost:\(nginx.port) Basic dTpw 200"])
        let logged = try await waitForLog(port: nginx.port, count: 3)
        #expect(logged.map(\.status) == [200, 200, 200])
        #expect(Set(logged.map(\.connection)).count == 1)
    }

    @Test func aRefusedTunnelGivesTheProxysStatus() async throws {
        let log = nginx.directory + "/proxy.log"
        let proxy = try await proxy(auth: "Basic dTpw", log: log)
        var configuration = try configuration()
        configuration.proxy = HTTPClientProxy(host: "127.0.0.1", port: proxy.port)
        let client = HTTPClient(configuration: configuration)
        defer { Task { await client.shutdown() } }
        await #expect(throws: HTTPClientError.proxyRefused(status: 407)) {
            _ = try await client.get(nginx.url(port: nginx.port, "/hello.txt"))
        }
        // The proxy only tunnels to loopback: 403 for anything else.
        var withCredentials = configuration
        withCredentials.proxy?.authorization = "Basic dTpw"
        let other = HTTPClient(configuration: withCredentials)
        defer { Task { await other.shutdown() } }
        await #expect(throws: HTTPClientError.proxyRefused(status: 403)) {
            _ = try await other.get("https://example.invalid/")
        }
        // The failed attempts left the pool usable.
        #expect(try await other.get(nginx.url(port: nginx.port, "/hello.txt")).status == .ok)
    }

    // MARK: Resumption

    @Test(arguments: [TLSVersion.tls12, .tls13])
    func laterPoolConnectionsResumeTheSession(version: TLSVersion) async throws {
        var configuration = try configuration()
        configuration.tls.policy = TLSPolicy(minimumVersion: version, maximumVersion: version)
        let client = HTTPClient(configuration: configuration)
        defer { Task { await client.shutdown() } }
        // Three responses held open at once (4 MiB bodies, read only at the end) need three
        // connections; the first one's session, issued before its response, is offered by the
        // two opened after it.
        try Data(count: 4 << 20).write(to: URL(fileURLWithPath: nginx.directory + "/www/big"))
        var responses: [HTTPClientResponse] = []
        for _ in 0..<3 { responses.append(try await client.get(nginx.url(port: nginx.port, "/big"))) }
        for response in responses { #expect(try await response.body.collect(upTo: 8 << 20).count == 4 << 20) }
        let logged = try await waitForLog(port: nginx.port, path: "/big", count: 3)
        #expect(Set(logged.map(\.connection)).count == 3)
        #expect(Set(logged.map(\.protocolName)) == [version.description])
        #expect(logged.map(\.reused) == [false, true, true], "\(logged)")
    }

    // MARK: Client certificates

    @Test func nginxRequiringAClientCertificateAcceptsOurs() async throws {
        var configuration = try configuration()
        configuration.tls.identity = try clientIdentity
        let client = HTTPClient(configuration: configuration)
        defer { Task { await client.shutdown() } }
        let response = try await client.get(nginx.url(port: nginx.clientCertificatePort, "/hello.txt"))
        #expect(response.status == .ok)
        _ = try await response.body.collect(upTo: 1 << 10)

        // Without one, nginx completes the handshake and answers 400 (its way of refusing).
        let anonymous = HTTPClient(configuration: try self.configuration())
        defer { Task { await anonymous.shutdown() } }
        #expect(try await anonymous.get(nginx.url(port: nginx.clientCertificatePort, "/hello.txt")).status == .badRequest)
        let logged = try await waitForLog(port: nginx.clientCertificatePort, count: 2)
        #expect(logged.first?.client.contains("CN=epsilon-client") == true)
    }

    @Test(arguments: [TLSVersion.tls12, .tls13])
    func aServerThatRequiresACertificateFailsWithATypedErrorWithoutOne(version: TLSVersion) async throws {
        let d = nginx.directory
        let server = try await LoopbackPeer("python3", [clientTestsDirectory + "/tls_server.py", "--cert", d + "/leaf.pem",
                                                  "--key", d + "/leaf.key", "--client-ca", d + "/ca.pem"])
        let url = "https://localhost:\(server.port)/"
        var configuration = try configuration()
        configuration.tls.identity = try clientIdentity
        let client = HTTPClient(configuration: configuration)
        defer { Task { await client.shutdown() } }
        #expect(try await client.get(url).body.collect(upTo: 1 << 10) == Array("epsilon-client".utf8))

        var anonymousConfiguration = try self.configuration()
        anonymousConfiguration.tls.policy = TLSPolicy(minimumVersion: version, maximumVersion: version)
        let anonymous = HTTPClient(configuration: anonymousConfiguration)
        defer { Task { await anonymous.shutdown() } }
        let error = await #expect(throws: HTTPClientError.self) { _ = try await anonymous.get(url) }
        guard case .tls = error else {
            Issue.record("expected a TLS error, got \(String(describing: error))")
            return
        }
    }

    // MARK: Version policy

    @Test func aTLS12OnlyClientFailsAgainstATLS13OnlyServer() async throws {
        var configuration = try configuration()
        configuration.tls.policy = TLSPolicy(minimumVersion: .tls12, maximumVersion: .tls12)
        let client = HTTPClient(configuration: configuration)
        defer { Task { await client.shutdown() } }
        let error = await #expect(throws: HTTPClientError.self) { _ = try await client.get(nginx.url(port: nginx.tls13OnlyPort, "/hello.txt")) }
        guard case .tls = error else {
            Issue.record("expected a TLS error, got \(String(describing: error))")
            return
        }
        // The default policy (1.2–1.3) gets TLS 1.3 from the same server.
        let modern = HTTPClient(configuration: try self.configuration())
        defer { Task { await modern.shutdown() } }
        #expect(try await modern.get(nginx.url(port: nginx.tls13OnlyPort, "/hello.txt")).status == .ok)
        #expect(try await waitForLog(port: nginx.tls13OnlyPort, count: 1).first?.protocolName == "TLSv1.3")
    }
}
