import Foundation
import Testing

/// Nested in ``SocketSuites``: socket suites run one at a time (process-wide figures).
extension SocketSuites {
    /// `curl` (Debian package `curl`, built with nghttp2) against the HTTP/2 session over
    /// loopback: prior knowledge, `Upgrade: h2c`, and TLS with ALPN `h2` — five requests with
    /// bodies of 0 B, 1 MiB (both ways) and streamed DATA, checked byte for byte, on one
    /// connection for `Upgrade: h2c` and TLS.
    ///
    /// With prior knowledge each request is its own `curl` run: curl 7.88.1 (Debian 12) fails
    /// every further request on a reused prior-knowledge connection with "(16) Error in the HTTP2
    /// framing layer" before sending it — against h2o as well; nghttp, h2load and
    /// httpx cover several prior-knowledge requests on one connection.
    @Suite struct H2CurlPeerTests {
        enum Mode: String, CaseIterable, Sendable {
            case priorKnowledge, upgrade, tls
        }

        @Test(arguments: Mode.allCases)
        func severalRequestsOnOneConnection(mode: Mode) async throws {
            let server = try await H2SocketServer.start(tls: mode == .tls)
            let large = H2MemoryHarness.body(1 << 20)
            let upload = H2Peer.file(large)
            let directory = NSTemporaryDirectory() + "h2curl-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer {
                try? FileManager.default.removeItem(atPath: upload)
                try? FileManager.default.removeItem(atPath: directory)
            }
            let flag = mode == .priorKnowledge ? "--http2-prior-knowledge" : "--http2"
            // One curl run with `--next` between requests (one connection), or one run per
            // request with prior knowledge (see above).
            var runs: [[String]] = [[]]
            var outputs: [String] = []
            for (path, extra) in [("/hello", []), ("/echo", ["--data-binary", "@" + upload]), ("/bytes/1048576", []),
                                  ("/stream/300000", []), ("/echo", ["--data-binary", ""])] as [(String, [String])] {
                outputs.append(directory + "/\(outputs.count)")
                if mode == .priorKnowledge && !runs[runs.count - 1].isEmpty { runs.append([]) }
                if !runs[runs.count - 1].isEmpty { runs[runs.count - 1].append("--next") }
                runs[runs.count - 1] += ["-sS", "-m", "30", flag, "-k", "-w", "%{http_version} %{num_connects} %{http_code}\\n",
                                         "-o", outputs[outputs.count - 1]] + extra + [server.url(path)]
            }
            var text = ""
            for arguments in runs {
                let result = await H2Peer.run("/usr/bin/curl", arguments)
                #expect(result.status == 0, "\(result.stderr)")
                text += result.text
            }
            await server.stop()
            let lines = text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            #expect(lines.count == 5, "\(text)")
            #expect(lines.allSatisfy { $0.count == 3 && $0[0] == "2" && $0[2] == "200" }, "\(lines)")
            // One connection per curl run: only the first request of a run connected.
            #expect(lines.compactMap { $0.count == 3 ? Int($0[1]) : nil }.reduce(0, +) == runs.count, "\(lines)")
            func read(_ index: Int) -> [UInt8] {
                (try? Data(contentsOf: URL(fileURLWithPath: outputs[index]))).map { [UInt8]($0) } ?? []
            }
            #expect(byteMismatch(read(0), Array("Hello, World!".utf8)) == nil)
            #expect(byteMismatch(read(1), large) == nil)
            #expect(byteMismatch(read(2), (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0) }) == nil)
            #expect(byteMismatch(read(3), (0..<300_000).map { UInt8(truncatingIfNeeded: $0) }) == nil)
            #expect(read(4).isEmpty)
        }
    }
}
