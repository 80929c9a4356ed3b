import EpsilonHTTPClient
import Foundation
import HTTPTypes
import Testing

/// A client for `peer`: its CA trusted, HTTP/2 by ALPN (automatic) over TLS, by prior knowledge
/// in cleartext.
func http2Client(for peer: HTTP2ServerPeer, _ adjust: (inout HTTPClientConfiguration) -> Void = { _ in }) throws -> HTTPClient {
    var configuration = HTTPClientConfiguration()
    configuration.httpVersion = peer.kind.isSecure ? .automatic : .http2
    configuration.tls.trustRoots = try .bundle(file: peer.directory + "/ca.pem")
    configuration.timeouts.responseHead = .seconds(30)
    configuration.timeouts.read = .seconds(30)
    adjust(&configuration)
    return HTTPClient(configuration: configuration)
}

/// The SHA-256 of a body read as it streams, and its length.
func streamedDigest(_ body: HTTPClientResponseBody) async throws -> (count: Int, sha256: String) {
    var digest = SHA256Digest()
    var count = 0
    for try await chunk in body {
        digest.update(chunk)
        count += chunk.count
    }
    return (count, digest.finalize())
}

/// The SHA-256 of the first `total` pattern bytes.
func patternDigest(_ total: Int) -> String {
    var digest = SHA256Digest()
    var offset = 0
    while offset < total {
        digest.update(patternBytes(min(1 << 20, total - offset), from: offset))
        offset += 1 << 20
    }
    return digest.finalize()
}

@Suite("HTTP/2 client against nghttpd, h2o and nginx on loopback", .serialized, .timeLimit(.minutes(5)))
struct HTTP2RealServerTests {
    static let sizes = [0, 1 << 20, 100 << 20]

    @Test(arguments: [HTTP2ServerPeer.Kind.nghttpdCleartext, .nghttpd, .h2o, .nginx])
    func downloadsAreHashChecked(kind: HTTP2ServerPeer.Kind) async throws {
        let peer = try await HTTP2ServerPeer(kind)
        let client = try http2Client(for: peer)
        defer { Task { await client.shutdown() } }
        for size in Self.sizes {
            try peer.serve("file-\(size)", patternBytes(size))
            let response = try await client.get(peer.url("/file-\(size)"))
            #expect(response.status == .ok)
            let (count, sha256) = try await streamedDigest(response.body)
            #expect(count == size, "\(kind) \(size)")
            #expect(sha256 == patternDigest(size), "\(kind) \(size)")
        }
        // Every request went over one HTTP/2 connection.
        #expect(client.poolStatistics.connectionsOpened == 1)
        if kind == .nginx {
            #expect(peer.accessLog().allSatisfy { $0[1] == "HTTP/2.0" })
        }
    }

    @Test(arguments: [HTTPRequest.Method.post, .put], [HTTP2ServerPeer.Kind.nghttpdCleartext, .nghttpd])
    func uploadsAreEchoedWhole(method: HTTPRequest.Method, kind: HTTP2ServerPeer.Kind) async throws {
        let peer = try await HTTP2ServerPeer(kind)
        let client = try http2Client(for: peer)
        defer { Task { await client.shutdown() } }
        try peer.serve("echo", [])
        for size in Self.sizes {
            // 100 MiB as a stream of 64 KiB chunks under the server's flow control.
            let body: HTTPClientRequestBody = size > 1 << 20
                ? .stream(PatternChunks(total: size, chunkSize: 64 * 1024), length: size) : .bytes(patternBytes(size))
            let response = try await client.execute(method, peer.url("/echo"), body: body)
            #expect(response.status == .ok)
            let (count, sha256) = try await streamedDigest(response.body)
            #expect(count == size, "\(method) \(size)")
            #expect(sha256 == patternDigest(size), "\(method) \(size)")
        }
    }

    @Test func putsToNginxOverHTTP2ArriveWhole() async throws {
        let peer = try await HTTP2ServerPeer(.nginx)
        let client = try http2Client(for: peer)
        defer { Task { await client.shutdown() } }
        for size in Self.sizes {
            let body: HTTPClientRequestBody = size > 1 << 20
                ? .stream(PatternChunks(total: size, chunkSize: 64 * 1024), length: size) : .bytes(patternBytes(size))
            let response = try await client.execute(.put, peer.url("/upload/put-\(size)"), body: body)
            #expect([201, 204].contains(response.status.code), "\(size): \(response.status)")
            _ = try await response.body.collect(upTo: 1 << 16)
            let stored = try #require(peer.file("upload/put-\(size)"))
            #expect(stored.count == size)
            #expect(SHA256Digest.hex([UInt8](stored)) == patternDigest(size))
        }
        #expect(peer.accessLog().allSatisfy { $0[1] == "HTTP/2.0" })
    }

    @Test(arguments: [HTTP2ServerPeer.Kind.h2o, .nginx])
    func hundredConcurrentRequestsShareOneConnection(kind: HTTP2ServerPeer.Kind) async throws {
        let peer = try await HTTP2ServerPeer(kind)
        let client = try http2Client(for: peer)
        defer { Task { await client.shutdown() } }
        try peer.serve("small", patternBytes(1000))
        let url = peer.url("/small")
        let bodies = try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<100 {
                group.addTask { try await client.get(url).body.collect(upTo: 4096) }
            }
            var bodies: [[UInt8]] = []
            for try await body in group { bodies.append(body) }
            return bodies
        }
        #expect(bodies.count == 100)
        #expect(bodies.allSatisfy { $0 == patternBytes(1000) })
        #expect(client.poolStatistics.connectionsOpened == 1)
        // Counted on the server's side: one connection id over the 100 log lines.
        var log = peer.accessLog()
        for _ in 0..<50 where log.count < 100 {
            try await Task.sleep(for: .milliseconds(100))
            log = peer.accessLog()
        }
        #expect(log.count == 100)
        #expect(Set(log.map { $0[0] }).count == 1, "\(kind): \(Set(log.map { $0[0] }))")
    }

    @Test func gzipBodiesAreDecodedOverHTTP2() async throws {
        let peer = try await HTTP2ServerPeer(.nginx)
        let client = try http2Client(for: peer)
        defer { Task { await client.shutdown() } }
        let text = Array(String(repeating: "HTTP/2 and gzip, line after line.\n", count: 30_000).utf8)
        try peer.serve("text.txt", text)
        let response = try await client.get(peer.url("/text.txt"))
        #expect(try await response.body.collect(upTo: 4 << 20) == text)
        // nginx sent fewer bytes than the text: it was compressed on the wire.
        let sent = peer.accessLog().last.flatMap { Int($0[3]) } ?? Int.max
        #expect(sent < text.count / 4)
    }

    @Test func http1OnlyStaysOnHTTP1OverTLS() async throws {
        let peer = try await HTTP2ServerPeer(.nginx)
        let client = try http2Client(for: peer) { $0.httpVersion = .http1Only }
        defer { Task { await client.shutdown() } }
        try peer.serve("small", patternBytes(10))
        #expect(try await client.get(peer.url("/small")).body.collect(upTo: 100) == patternBytes(10))
        #expect(peer.accessLog().last?[1] == "HTTP/1.1")
    }

    @Test func slowConsumerIsBoundedByTheStreamWindow() async throws {
        let peer = try await HTTP2ServerPeer(.nghttpdCleartext)
        let client = try http2Client(for: peer) { $0.receiveBufferLimit = 64 * 1024 }
        defer { Task { await client.shutdown() } }
        let size = 8 << 20
        try peer.serve("big", patternBytes(size))
        let response = try await client.get(peer.url("/big"))
        var iterator = response.body.makeAsyncIterator()
        var received = 0
        // Read slowly: the server can only send what the window allows; nothing overruns it
        // (a flow-control error would fail the read) and the body arrives whole.
        while let chunk = try await iterator.next() {
            #expect(matchesPattern(chunk, at: received))
            received += chunk.count
            if received < 1 << 20 { try await Task.sleep(for: .milliseconds(2)) }
        }
        #expect(received == size)
    }
}
