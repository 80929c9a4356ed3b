import EpsilonHTTPClient
import EpsilonTLS
import Foundation
import HTTPTypes
import Testing

/// Against nginx started on loopback: bodies of 0 B, 1 MiB, 100 MiB both ways (checked byte for
/// byte), pool reuse and limits counted in nginx's access log, HTTPS with a custom CA, SNI and
/// host name checks.
@Suite("HTTP/1.1 and HTTPS against nginx", .serialized, .timeLimit(.minutes(4)))
struct NginxTests {
    /// Each test starts its own nginx (and stops it when done).
    let nginx: NginxPeer

    init() async throws { nginx = try await NginxPeer() }

    func tlsClient(trusting: Bool = true) throws -> HTTPClient {
        var configuration = HTTPClientConfiguration()
        if trusting {
            configuration.tls.trustRoots = try .bundle(file: nginx.directory + "/ca.pem")
        }
        configuration.retryPolicy = .disabled
        return HTTPClient(configuration: configuration)
    }

    @Test(arguments: [0, 1 << 20, 100 << 20], [false, true])
    func downloadsAndUploads(size: Int, tls: Bool) async throws {
        let name = "file-\(size)"
        try nginx.serve(name, patternBytes(size))
        let client = try tlsClient()
        defer { Task { await client.shutdown() } }
        let base = tls ? nginx.tlsURL("") : nginx.url("")
        let response = try await client.get(base + "/" + name)
        #expect(response.status == .ok)
        var received = 0
        var intact = true
        for try await chunk in response.body {
            intact = intact && matchesPattern(chunk, at: received)
            received += chunk.count
        }
        #expect(received == size)
        #expect(intact)

        let uploadName = "up-\(size)-\(tls)"
        let put = try await client.execute(.put, base + "/upload/" + uploadName,
                                           body: .stream(PatternChunks(total: size, chunkSize: 1 << 18), length: size))
        #expect(put.status == .created || put.status == .noContent)
        _ = try await put.body.collect(upTo: 1 << 16)
        let stored = try Data(contentsOf: URL(fileURLWithPath: nginx.directory + "/upload/" + uploadName))
        #expect(stored.count == size)
        #expect(matchesPattern(Array(stored), at: 0))
    }

    @Test func poolReuseCountedByNginx() async throws {
        try nginx.serve("small", patternBytes(100))
        let before = try nginx.loggedConnections()
        var configuration = HTTPClientConfiguration()
        configuration.pool.maxConnectionsPerHost = 4
        let client = HTTPClient(configuration: configuration)
        defer { Task { await client.shutdown() } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for _ in 0..<25 {
                        let body = try await client.get(nginx.url("/small")).body.collect(upTo: 1000)
                        #expect(body.count == 100)
                    }
                }
            }
            try await group.waitForAll()
        }
        try await Task.sleep(for: .milliseconds(200))   // nginx writes the log line after the response
        let after = try nginx.loggedConnections()
        #expect(after.requests - before.requests == 200)
        #expect(after.connections - before.connections <= 4)
        #expect(client.poolStatistics.connectionsOpened <= 4)
    }

    @Test func httpsNeedsTheCustomCA() async throws {
        try nginx.serve("small", patternBytes(100))
        let untrusting = try tlsClient(trusting: false)
        defer { Task { await untrusting.shutdown() } }
        do {
            _ = try await untrusting.get(nginx.tlsURL("/small"))
            Issue.record("a certificate from an unknown CA was accepted")
        } catch {
            guard case .tls = error else {
                Issue.record("expected a TLS error, got \(error)")
                return
            }
        }
    }

    @Test func hostNameIsChecked() async throws {
        // The certificate names localhost only: 127.0.0.1 (sent without SNI) must fail the check.
        try nginx.serve("small", patternBytes(100))
        let client = try tlsClient()
        defer { Task { await client.shutdown() } }
        do {
            _ = try await client.get(nginx.tlsURL("/small", host: "127.0.0.1"))
            Issue.record("a certificate for another name was accepted")
        } catch {
            guard case .tls = error else {
                Issue.record("expected a TLS error, got \(error)")
                return
            }
        }
        let body = try await client.get(nginx.tlsURL("/small")).body.collect(upTo: 1000)
        #expect(body == patternBytes(100))
    }
}
