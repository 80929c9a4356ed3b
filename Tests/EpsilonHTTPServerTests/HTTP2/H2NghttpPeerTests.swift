import Foundation
import Testing

/// Nested in ``SocketSuites``: socket suites run one at a time (process-wide figures).
extension SocketSuites {
    /// `nghttp` and `h2load` (Debian package `nghttp2-client`) against the HTTP/2 session over
    /// loopback, in cleartext (prior knowledge and `-u` upgrade) and over TLS (ALPN `h2`).
    @Suite struct H2NghttpPeerTests {
        enum Mode: String, CaseIterable, Sendable {
            case priorKnowledge, upgrade, tls
        }

        /// `nghttp -nv` with three requests on one connection: every stream answered `200` and
        /// ended, and the connection closed with GOAWAY NO_ERROR by the client.
        @Test(arguments: Mode.allCases)
        func nghttpVerboseSeveralStreams(mode: Mode) async throws {
            let server = try await H2SocketServer.start(tls: mode == .tls)
            var arguments = ["-nv", "-t", "20"]
            if mode == .upgrade { arguments.append("-u") }
            arguments += [server.url("/hello"), server.url("/bytes/1048576"), server.url("/stream/300000")]
            let result = await H2Peer.run("/usr/bin/nghttp", arguments)
            await server.stop()
            let text = result.text
            #expect(result.status == 0, "\(result.stderr)\n\(text.suffix(2000))")
            #expect(text.components(separatedBy: ":status: 200").count - 1 == 3, "\(text.suffix(3000))")
            for stream in [1, 3, 5] {
                #expect(text.contains("stream_id=\(stream)"), "stream \(stream) missing")
            }
            // END_STREAM on each response (on a DATA frame or, for none here, a HEADERS).
            #expect(text.components(separatedBy: "; END_STREAM").count - 1 >= 3)
            #expect(!text.contains("recv RST_STREAM") && !text.contains("recv GOAWAY"))
            if mode == .upgrade { #expect(text.contains("HTTP Upgrade response")) }
            if mode == .tls { #expect(text.contains("h2 is negotiated") || text.contains("The negotiated protocol: h2")) }
        }

        /// Bodies through `nghttp` byte for byte: a 1 MiB download and a 1 MiB upload echoed.
        @Test(arguments: [Mode.priorKnowledge, Mode.tls])
        func nghttpBodiesByteForByte(mode: Mode) async throws {
            let server = try await H2SocketServer.start(tls: mode == .tls)
            let download = await H2Peer.run("/usr/bin/nghttp", ["-t", "20", server.url("/bytes/1048576")])
            let large = H2MemoryHarness.body(1 << 20)
            let upload = H2Peer.file(large)
            defer { try? FileManager.default.removeItem(atPath: upload) }
            let echoed = await H2Peer.run("/usr/bin/nghttp", ["-t", "20", "-d", upload, server.url("/echo")])
            await server.stop()
            #expect(download.status == 0)
            #expect(byteMismatch(download.stdout, (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0) }) == nil)
            #expect(echoed.status == 0, "\(echoed.stderr)")
            #expect(byteMismatch(echoed.stdout, large) == nil)
        }

        /// `h2load -c4 -m16`: every request succeeds, in cleartext and over TLS.
        @Test(arguments: [Mode.priorKnowledge, Mode.tls])
        func h2loadManyStreams(mode: Mode) async throws {
            let server = try await H2SocketServer.start(tls: mode == .tls)
            let small = await H2Peer.run("/usr/bin/h2load", ["-n", "2000", "-c", "4", "-m", "16", server.url("/hello")])
            let large = await H2Peer.run("/usr/bin/h2load", ["-n", "40", "-c", "2", "-m", "8", server.url("/bytes/262144")])
            await server.stop()
            #expect(small.text.contains("2000 succeeded, 0 failed, 0 errored"), "\(small.text.suffix(1500))")
            #expect(large.text.contains("40 succeeded, 0 failed, 0 errored"), "\(large.text.suffix(1500))")
            if mode == .tls { #expect(small.text.contains("Application protocol: h2")) }
        }
    }
}
