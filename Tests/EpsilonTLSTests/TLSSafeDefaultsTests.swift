import EpsilonTLS
import EpsilonTransport
import Foundation
import Synchronization
import Testing

/// Swallows whatever arrives and answers nothing (a peer that never finishes a handshake).
private final class SilentHandler: ConnectionHandler {
    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {}
}

/// Echoes plaintext by appending it in place to the write queue (as a machine's
/// `writeOutput(into:)` would); the TLS layer encrypts what was appended.
private final class InPlaceEchoHandler: ConnectionHandler {
    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        connection.write { (buffer: inout [UInt8]) in buffer.append(contentsOf: bytes) }
    }
}

/// The TLS side of the transport's safe defaults: the handshake deadline for both roles, and
/// in-place writes through the engine.
@Suite(.timeLimit(.minutes(1))) struct TransportTLSSafeDefaults {
    private static func clientOptions(handshakeTimeout: Duration?) throws -> SocketOptions {
        let pki = try TestPKI.get()
        let context = try TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust("root")))
        var tls = TLSOptions.client(context, serverName: "localhost")
        tls.handshakeTimeout = handshakeTimeout
        var options = SocketOptions()
        options.tls = tls
        return options
    }

    private static func serverOptions(handshakeTimeout: Duration?) throws -> ListenerOptions {
        let pki = try TestPKI.get()
        var tls = TLSOptions.server(try TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost"))))
        tls.handshakeTimeout = handshakeTimeout
        var options = ListenerOptions()
        options.connection.tls = tls
        return options
    }

    /// A client whose server never answers the ClientHello gives up at its deadline.
    @Test func clientHandshakeDeadlineClosesTheConnection() async throws {
        let group = try IOLoopGroup(loopCount: 1)
        let server = try await TCPServer.start(on: group, address: try .ipv4("127.0.0.1", port: 0)) { SilentHandler() }
        let probe = TLSConnectionProbe()
        let options = try Self.clientOptions(handshakeTimeout: .seconds(1))
        let loop = group.next()
        let address = server.localAddress
        let start = ContinuousClock.now
        try await loop.submit {
            loop.connect(to: address, options: options, handler: RecordingTLSHandler(probe: probe))
        }
        // The upper bound only has to rule out the default deadline (10 s): on a loaded machine
        // (the whole suite on 2 cores) the 1 s timer fires late, by seconds at worst.
        let seen = await probe.wait(timeout: .seconds(9)) { $0.closed }
        let elapsed = ContinuousClock.now - start
        #expect(seen.closed)
        #expect(seen.error == .tlsHandshakeTimeout)
        #expect(seen.handshakes == 0)
        #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(9))
        await server.shutdown(gracePeriod: .zero)
        await group.shutdown()
    }

    /// A handshake that completes cancels the deadline: the connection outlives it, and output
    /// appended in place is encrypted and echoed.
    @Test func completedHandshakeOutlivesTheDeadlineAndEchoesInPlaceWrites() async throws {
        let group = try IOLoopGroup(loopCount: 1)
        let server = try await TCPServer.start(on: group, address: try .ipv4("127.0.0.1", port: 0),
                                               options: try Self.serverOptions(handshakeTimeout: .seconds(1))) {
            InPlaceEchoHandler()
        }
        let probe = TLSConnectionProbe()
        let options = try Self.clientOptions(handshakeTimeout: .seconds(1))
        let loop = group.next()
        let address = server.localAddress
        let greeting = Array("written in place, encrypted by the engine".utf8)
        try await loop.submit {
            loop.connect(to: address, options: options, handler: RecordingTLSHandler(probe: probe, greeting: greeting))
        }
        let echoed = await probe.wait(timeout: .seconds(5)) { $0.plaintext.count >= greeting.count }
        #expect(echoed.handshakes == 1)
        #expect(echoed.plaintext == greeting)
        try await Task.sleep(for: .milliseconds(1500))
        let later = probe.snapshot
        #expect(!later.closed, "closed after the handshake completed: \(String(describing: later.error))")
        #expect(await server.connectionCount() == 1)
        await server.shutdown(gracePeriod: .zero)
        await group.shutdown()
    }
}
