import EpsilonHTTPClient
import EpsilonWebSocket
import EpsilonWebSocketClient
import EpsilonWebSocketDeflate
import Foundation
import Testing

/// Against Python's `websockets` server (Tests/Client/ws_peer.py echo) on loopback, over ws
/// and wss, with permessage-deflate offered or not; and through nginx as a WebSocket reverse proxy.
@Suite("WebSocket client against Python websockets and nginx", .serialized, .timeLimit(.minutes(3)))
struct PythonWebSocketsTests {
    static func configuration(compressed: Bool, certificates: TestCertificates?) throws -> WebSocketClientConfiguration {
        var configuration = WebSocketClientConfiguration()
        if compressed { configuration.compression = WebSocketDeflateClientOffer() }
        if let certificates { configuration.tls.trustRoots = try .bundle(file: certificates.caFile) }
        return configuration
    }

    /// Text, binary, empty, a 1 MiB binary and a 200 KiB text message round trip in order.
    static func exchange(_ url: String, configuration: WebSocketClientConfiguration, expectCompressed: Bool) async throws {
        let big = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let text = String(repeating: "héllo wörld ", count: 200_000 / 14)
        let sent: [WebSocketClientMessage] = [.text("hello"), .binary([0, 1, 2, 255]), .text(""), .binary(big), .text(text)]
        let connection = try await WebSocketClient.open(url, configuration: configuration)
        #expect(connection.isCompressed == expectCompressed)
        for message in sent { try await connection.send(message) }
        var received: [WebSocketClientMessage] = []
        while received.count < sent.count, let message = try await connection.receive() { received.append(message) }
        #expect(received == sent)
        try await connection.close()
        #expect(try await connection.receive() == nil)
        #expect(connection.serverClose?.code == .normalClosure)
    }

    @Test(arguments: [false, true], [false, true])
    func echoesOverWSAndWSS(secure: Bool, compressed: Bool) async throws {
        let certificates = secure ? try await TestCertificates() : nil
        var arguments = ["echo"]
        if let certificates { arguments += ["--tls", certificates.certificateFile, certificates.keyFile] }
        let peer = try await PythonPeer(arguments)
        // wss to "localhost": SNI and the host name check against the certificate.
        let url = peer.url("/", secure: secure, host: secure ? "localhost" : "127.0.0.1")
        try await Self.exchange(url, configuration: try Self.configuration(compressed: compressed, certificates: certificates),
                                expectCompressed: compressed)
    }

    @Test func wssFailsWithoutTrustingTheCAAndWithTheWrongName() async throws {
        let certificates = try await TestCertificates()
        let peer = try await PythonPeer(["echo", "--tls", certificates.certificateFile, certificates.keyFile])
        await #expect(throws: WebSocketClientError.self) {
            _ = try await WebSocketClient.open(peer.url("/", secure: true, host: "localhost"))
        }
        var configuration = try Self.configuration(compressed: false, certificates: certificates)
        configuration.serverName = "not-the-name.example"
        do {
            _ = try await WebSocketClient.open(peer.url("/", secure: true, host: "localhost"), configuration: configuration)
            Issue.record("connected despite the wrong name")
        } catch {
            guard case .tls = error else {
                Issue.record("expected a TLS error, got \(error)")
                return
            }
        }
    }

    @Test func sendsCustomFieldsAndNegotiatesASubprotocol() async throws {
        let peer = try await PythonPeer(["echo"])
        var configuration = WebSocketClientConfiguration()
        configuration.headers = [("Authorization", "Bearer token-1"), ("X-Trace", "abc")]
        configuration.subprotocols = ["v2.other", "chat"]
        let reply: WebSocketClientMessage? = try await WebSocketClient.connect(to: peer.url("/headers"), configuration: configuration) { inbound, _ in
            var iterator = inbound.makeAsyncIterator()
            return try await iterator.next()
        }
        guard case .text(let json)? = reply,
              let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let headers = object["headers"] as? [String: String] else {
            Issue.record("no JSON answer: \(String(describing: reply))")
            return
        }
        #expect(headers["authorization"] == "Bearer token-1")
        #expect(headers["x-trace"] == "abc")
        #expect(headers["sec-websocket-protocol"] == "v2.other, chat")
        #expect(object["subprotocol"] as? String == "chat")
    }

    @Test func reportsTheServersCloseCode() async throws {
        let peer = try await PythonPeer(["echo"])
        let connection = try await WebSocketClient.open(peer.url("/close4001"))
        #expect(try await connection.receive() == nil)
        #expect(connection.serverClose?.code == WebSocketCloseCode(4001))
        #expect(connection.serverClose?.reason == "bye")
        await #expect(throws: WebSocketClientError.closed) { try await connection.send(.text("late")) }
    }

    @Test(arguments: [false, true], [false, true])
    func echoesThroughNginx(secure: Bool, compressed: Bool) async throws {
        let certificates = try await TestCertificates()
        let peer = try await PythonPeer(["echo"])
        let nginx = try await NginxWebSocketProxy(upstreamPort: peer.port, certificates: certificates)
        let url = secure ? "wss://localhost:\(nginx.tlsPort)/" : "ws://127.0.0.1:\(nginx.port)/"
        try await Self.exchange(url, configuration: try Self.configuration(compressed: compressed, certificates: certificates),
                                expectCompressed: compressed)
    }

    @Test func manyConcurrentSendersKeepEachMessageWhole() async throws {
        let peer = try await PythonPeer(["echo"])
        var configuration = WebSocketClientConfiguration()
        configuration.compression = WebSocketDeflateClientOffer()
        let connection = try await WebSocketClient.open(peer.url(), configuration: configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for sender in 0..<8 {
                group.addTask {
                    for index in 0..<50 { try await connection.send(.text("sender \(sender) message \(index) " + String(repeating: "x", count: index * 37))) }
                }
            }
            try await group.waitForAll()
        }
        var perSender: [Int: [Int]] = [:]
        for _ in 0..<400 {
            guard case .text(let text)? = try await connection.receive() else {
                Issue.record("missing message")
                break
            }
            let words = text.split(separator: " ")
            perSender[Int(words[1])!, default: []].append(Int(words[3])!)
        }
        // Each sender's messages arrive whole and in its order (the compressed stream stayed intact).
        for sender in 0..<8 { #expect(perSender[sender] == Array(0..<50)) }
        try await connection.close()
    }
}

/// Through an HTTP proxy's CONNECT tunnel (Tests/Client/ws_peer.py proxy).
@Suite("WebSocket client through an HTTP CONNECT proxy", .serialized, .timeLimit(.minutes(2)))
struct ProxyTunnelTests {
    @Test(arguments: [false, true], [false, true])
    func echoesThroughATunnel(secure: Bool, compressed: Bool) async throws {
        let certificates = secure ? try await TestCertificates() : nil
        var arguments = ["echo"]
        if let certificates { arguments += ["--tls", certificates.certificateFile, certificates.keyFile] }
        let peer = try await PythonPeer(arguments)
        let proxy = try await PythonPeer(["proxy"])
        var configuration = try PythonWebSocketsTests.configuration(compressed: compressed, certificates: certificates)
        configuration.proxy = HTTPClientProxy(host: "127.0.0.1", port: proxy.port, authorization: "Basic dXNlcjpwYXNz")
        // wss: TLS with SNI and the name check runs inside the tunnel, end to end.
        try await PythonWebSocketsTests.exchange(peer.url("/", secure: secure, host: secure ? "localhost" : "127.0.0.1"),
                                                 configuration: configuration, expectCompressed: compressed)
    }

    @Test func reportsTheProxysRefusal() async throws {
        let peer = try await PythonPeer(["echo"])
        let proxy = try await PythonPeer(["proxy", "--refuse", "407"])
        var configuration = WebSocketClientConfiguration()
        configuration.proxy = HTTPClientProxy(host: "127.0.0.1", port: proxy.port)
        await #expect(throws: WebSocketClientError.proxyRefused(407)) { _ = try await WebSocketClient.open(peer.url(), configuration: configuration) }
    }
}
