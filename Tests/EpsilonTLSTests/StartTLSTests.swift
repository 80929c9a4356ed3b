import EpsilonTLS
import EpsilonTransport
import Foundation
import Synchronization
import Testing

/// TLS started by a client on an open plaintext connection (`AsyncConnection.startTLS`, what
/// an HTTP client does inside a CONNECT tunnel), the handshake's summary, and the sessions the transport
/// reports (`TLSOptions.sessionHandler`) resuming a later connection.
@Suite(.timeLimit(.minutes(1))) struct StartTLSTests {
    /// The newest session the client's handler received.
    final class SessionBox: Sendable {
        let session = Mutex<TLSSession?>(nil)
        let count = Atomic(0)
    }

    /// A TLS server that echoes one message per connection.
    func serve(_ listener: AsyncListener, connections: Int) async throws {
        for _ in 0..<connections {
            let connection = try await listener.accept()
            if let message = try await connection.read() { try await connection.write(message) }
            await connection.close()
        }
    }

    @Test(arguments: [TLSVersion.tls12, .tls13])
    func startsTLSOnAPlaintextConnectionAndResumesTheNextOne(version: TLSVersion) async throws {
        let pki = try TestPKI.get()
        let policy = TLSPolicy(minimumVersion: version, maximumVersion: version)
        let serverContext = try TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost"),
                                                                          applicationProtocols: ["h2", "http/1.1"], policy: policy))
        let clientContext = try TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust(),
                                                                          applicationProtocols: ["http/1.1"], policy: policy))
        let group = try IOLoopGroup(loopCount: 1)
        // The server runs TLS from the start; the client connects in plaintext and starts TLS
        // itself, as it does inside a CONNECT tunnel (the proxy in between only relays).
        var listenerOptions = ListenerOptions()
        listenerOptions.connection.tls = .server(serverContext)
        let listener = try await AsyncListener.bind(on: group, address: try .ipv4("127.0.0.1", port: 0), options: listenerOptions)
        let server = Task { try await serve(listener, connections: 2) }
        let box = SessionBox()
        var summaries: [TLSHandshakeSummary] = []
        for _ in 0..<2 {
            let connection = try await AsyncConnection.connect(to: listener.localAddress, on: group.next())
            #expect(try await connection.tlsHandshake() == nil)  // plaintext so far
            var options = TLSOptions.client(clientContext, serverName: "localhost", resuming: box.session.withLock { $0 })
            options.sessionHandler = { session in
                box.session.withLock { $0 = session }
                box.count.add(1, ordering: .relaxed)
            }
            let summary = try await connection.startTLS(options)
            summaries.append(summary)
            #expect(try await connection.tlsHandshake() == summary)
            try await connection.write(Array("ping".utf8))
            #expect(try await connection.read() == Array("ping".utf8))
            // Second try: the connection already runs TLS.
            await #expect(throws: TransportError.self) { _ = try await connection.startTLS(options) }
            await connection.close()
        }
        try await server.value
        #expect(summaries.map(\.version) == [version, version])
        #expect(summaries.map(\.applicationProtocol) == ["http/1.1", "http/1.1"])
        #expect(summaries.map(\.isResumed) == [false, true])
        #expect(box.count.load(ordering: .relaxed) >= 1)  // a resumed TLS 1.2 session may get no new ticket
        await listener.close()
        await group.shutdown()
    }
}
