import EpsilonHTTPClient
import Foundation
import Testing

/// An HTTP proxy for http:// URLs: requests go to the proxy in absolute form with the proxy's
/// credentials (https:// goes through CONNECT tunnels: ConnectionEstablishmentTests).
@Suite("HTTP proxy against Python (crafted_server.py as the proxy)", .timeLimit(.minutes(1)))
struct ProxyTests {
    struct Seen: Decodable { var authority: String; var proxyAuthorization: String?; var host: String? }

    @Test func sendsAbsoluteFormToTheProxy() async throws {
        let proxy = try await craftedServer.get()
        var configuration = HTTPClientConfiguration()
        configuration.proxy = HTTPClientProxy(host: "127.0.0.1", port: proxy.port, authorization: "Basic dTpw")
        let client = HTTPClient(configuration: configuration)
        defer { Task { await client.shutdown() } }
        let body = try await client.get("http://origin.invalid:8080/proxied").body.collect(upTo: 1 << 12)
        let seen = try JSONDecoder().decode(Seen.self, from: Data(body))
        #expect(seen.authority == "origin.invalid:8080")
        #expect(seen.host == "origin.invalid:8080")
        #expect(seen.proxyAuthorization == "Basic dTpw")
    }
}
