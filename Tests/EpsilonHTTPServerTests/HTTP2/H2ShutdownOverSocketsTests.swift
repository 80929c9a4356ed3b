import EpsilonHPACK
import EpsilonHTTP2
import EpsilonTransport
import Testing

/// Nested in ``SocketSuites``: socket suites run one at a time (process-wide figures).
extension SocketSuites {
    /// Graceful shutdown over a real socket, with a client-role ``HTTP2Connection`` as the peer:
    /// GOAWAY (twice, RFC 9113 §6.8), the stream in flight finishes, then the server closes.
    @Suite struct H2ShutdownOverSocketsTests {
        @Test func goawayOnShutdownLetsTheStreamInFlightFinish() async throws {
            let server = try await H2SocketServer.start()
            let connection = try await AsyncConnection.connect(to: .ipv4("127.0.0.1", port: server.port), on: server.group.loops[0])
            var client = HTTP2Connection(role: .client)
            let stream = try client.startRequest([HPACKHeaderField(":method", "POST"), HPACKHeaderField(":scheme", "http"),
                                                  HPACKHeaderField(":authority", "x"), HPACKHeaderField(":path", "/echo")],
                                                 endStream: false)
            _ = try client.sendData(streamID: stream, Array("first".utf8), endStream: false)
            try await connection.write(client.takeOutput())
            #expect(await server.wait { $0.bodyBytes["/echo"] == 5 })

            async let forced = server.listener.shutdown(gracePeriod: .seconds(10))
            var events: [HTTP2OwnedEvent] = []
            var sentRest = false
            var closed = false
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                guard let bytes = try await connection.read() else {
                    closed = true
                    break
                }
                events += try client.receive(bytes, now: 0)
                let goaways = events.filter { if case .goaway = $0 { true } else { false } }
                if goaways.count == 2 && !sentRest {
                    // Both GOAWAYs are in: the stream is still served.
                    _ = try client.sendData(streamID: stream, Array("second".utf8), endStream: true)
                    sentRest = true
                }
                let output = client.takeOutput()
                if !output.isEmpty { try await connection.write(output) }
            }
            let closedByForce = await forced
            await connection.close()
            await server.group.shutdown()

            let goaways: [UInt32] = events.compactMap { if case .goaway(let last, .noError, _) = $0 { last } else { nil } }
            #expect(goaways == [0x7fff_ffff, stream])
            var body: [UInt8] = []
            var ended = false
            for case .data(stream, let bytes, let end) in events {
                body += bytes
                ended = ended || end
            }
            #expect(body == Array("firstsecond".utf8) && ended)
            #expect(closed)
            #expect(closedByForce == 0)
        }
    }
}
