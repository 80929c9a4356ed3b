import EpsilonHTTPServerPreview
import EpsilonTLS
import EpsilonTransport
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

// TLS inside EpsilonTransport: the engine between a connection's socket and its handler, on
// loopback, against curl, openssl s_client/s_server, raw engines on blocking sockets and itself.
// Certificates come from TestPKI (made at run time by the openssl command-line tool).

/// What a loop-side handler saw, read by the test thread.
final class TLSConnectionProbe: Sendable {
    struct Fields {
        var plaintext: [UInt8] = []
        var handshakes = 0
        var version: TLSVersion?
        var applicationProtocol: String?
        var peerSubject: String?
        var plaintextBeforeHandshake = false
        var sawEOF = false
        var closed = false
        var error: TransportError?
        var writeResults: [TransportError?] = []
    }

    let fields = Mutex(Fields())
    func update(_ body: (inout Fields) -> Void) { fields.withLock { body(&$0) } }
    var snapshot: Fields { fields.withLock { $0 } }

    /// Waits (polling every 5 ms) until `condition` holds or `timeout` passes; returns the last snapshot.
    func wait(timeout: Duration = .seconds(20), until condition: (Fields) -> Bool) async -> Fields {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            let fields = snapshot
            if condition(fields) { return fields }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return snapshot
    }
}

/// Records everything; optionally writes `greeting` when the TCP connection is up (before the
/// handshake, so the engine must hold it), echoes, and closes after `closeAfter` bytes.
final class RecordingTLSHandler: ConnectionHandler {
    let probe: TLSConnectionProbe
    let greeting: [UInt8]
    let echo: Bool
    let closeAfter: Int?
    private var received = 0

    init(probe: TLSConnectionProbe, greeting: [UInt8] = [], echo: Bool = false, closeAfter: Int? = nil) {
        self.probe = probe
        self.greeting = greeting
        self.echo = echo
        self.closeAfter = closeAfter
    }

    func connectionDidBecomeActive(_ connection: Connection) {
        guard !greeting.isEmpty else { return }
        let probe = self.probe
        connection.write(greeting) { error in probe.update { $0.writeResults.append(error) } }
    }

    func connectionDidCompleteTLSHandshake(_ connection: Connection) {
        let engine = connection.tlsEngine
        probe.update {
            $0.handshakes += 1
            $0.version = engine?.version
            $0.applicationProtocol = engine?.applicationProtocol
            $0.peerSubject = engine?.peerCertificate?.subject
        }
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        probe.update {
            if $0.handshakes == 0 { $0.plaintextBeforeHandshake = true }
            $0.plaintext.append(contentsOf: bytes)
        }
        received += bytes.count
        if echo {
            connection.write(bytes)
            if !connection.isWritable { connection.pauseReading() }
        }
        if let closeAfter, received >= closeAfter { connection.closeAfterFlush() }
    }

    func connectionWritabilityDidChange(_ connection: Connection) {
        if connection.isWritable { connection.resumeReading() }
    }

    func connectionDidReadEOF(_ connection: Connection) {
        probe.update { $0.sawEOF = true }
        connection.closeAfterFlush()
    }

    func connectionDidClose(_ connection: Connection, error: TransportError?) {
        probe.update {
            $0.closed = true
            $0.error = error
        }
    }
}

/// A value handed from one thread to another.
final class Slot<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)
    func set(_ newValue: Value) { value.withLock { $0 = newValue } }
    var get: Value? { value.withLock { $0 } }
}

/// Starts a one-loop group and a TLS server with a recording handler per connection.
private func withTLSServer(
    identity: String = "localhost", backend: PollerBackend = .best, echo: Bool = false,
    _ body: (IOLoopGroup, TCPServer, TLSConnectionProbe) async throws -> Void
) async throws {
    let pki = try TestPKI.get()
    let context = try TLSContext(server: TLSServerConfiguration(identity: pki.identity(identity), applicationProtocols: ["http/1.1"]))
    let group = try IOLoopGroup(loopCount: 1, backend: backend)
    let probe = TLSConnectionProbe()
    var options = ListenerOptions()
    options.connection.tls = .server(context)
    do {
        let server = try await TCPServer.start(on: group, address: try .ipv4("127.0.0.1", port: 0), options: options) {
            RecordingTLSHandler(probe: probe, echo: echo)
        }
        do {
            try await body(group, server, probe)
        } catch {
            await server.shutdown(gracePeriod: .zero)
            throw error
        }
        await server.shutdown(gracePeriod: .seconds(1))
    } catch {
        await group.shutdown()
        throw error
    }
    await group.shutdown()
}

/// Opens a transport TLS client connection to `port` with a recording handler; retries while
/// the port refuses (a peer process still starting) for up to 15 s.
private func connectTLSClient(
    on loop: IOLoop, port: UInt16, serverName: String = "localhost", trust root: String = "root",
    greeting: [UInt8] = [], closeAfter: Int? = nil
) async throws -> TLSConnectionProbe {
    let pki = try TestPKI.get()
    let context = try TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust(root), applicationProtocols: ["http/1.1"]))
    var options = SocketOptions()
    options.tls = .client(context, serverName: serverName)
    let finalOptions = options
    let address = try SocketEndpoint.ipv4("127.0.0.1", port: port)
    let deadline = ContinuousClock.now.advanced(by: .seconds(15))
    while true {
        let probe = TLSConnectionProbe()
        let connected = Slot<Result<Void, TransportError>>()
        try await loop.submit {
            loop.connect(to: address, options: finalOptions, timeout: .seconds(10),
                         handler: RecordingTLSHandler(probe: probe, greeting: greeting, closeAfter: closeAfter)) { result in
                connected.set(result.map { _ in () })
            }
        }
        var result: Result<Void, TransportError>
        while true {
            if let done = connected.get { result = done; break }
            try await Task.sleep(for: .milliseconds(5))
        }
        if case .failure(.system(call: "connect", errno: ECONNREFUSED)) = result, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            continue
        }
        try result.get()
        return probe
    }
}

/// Runs a program with a time bound (coreutils `timeout`), so a hung peer fails the test.
private func runBounded(seconds: Int = 30, _ program: String, _ arguments: [String], input: Data? = nil) throws
    -> (status: Int32, output: String, error: String) {
    guard FileManager.default.isExecutableFile(atPath: program) else {
        throw TestFailure("\(program) is missing (apt-get install -y openssl curl)")
    }
    return try TestProcess.run("/usr/bin/timeout", [String(seconds), program] + arguments, input: input)
}

/// The preview HTTP/1.1 server over TLS (the context `epsilon serve --cert --key` makes),
/// against curl and openssl s_client.
@Suite(.timeLimit(.minutes(2))) struct HelloServerOverTLS {
    private func withHelloServer(_ body: (UInt16, TestPKI) async throws -> Void) async throws {
        let pki = try TestPKI.get()
        let tls = try HelloServer.tlsContext(certificateFile: pki.path("localhost-chain.pem"),
                                             privateKeyFile: pki.path("localhost.key"))
        let group = try IOLoopGroup(loopCount: 1)
        do {
            let server = try await HelloServer.start(on: group, address: try .ipv4("127.0.0.1", port: 0), body: "hello\n", tls: tls)
            guard let port = server.localAddress.port else { throw TestFailure("no port: \(server.localAddress)") }
            do {
                try await body(port, pki)
            } catch {
                await server.shutdown(gracePeriod: .zero)
                throw error
            }
            let forced = await server.shutdown(gracePeriod: .seconds(2))
            #expect(forced == 0)
        } catch {
            await group.shutdown()
            throw error
        }
        await group.shutdown()
    }

    @Test func curlWithCACertFetchesTwiceOnOneConnection() async throws {
        try await withHelloServer { port, pki in
            let result = try runBounded("/usr/bin/curl", [
                "--silent", "--show-error", "--cacert", pki.path("root.pem"),
                "--resolve", "localhost:\(port):127.0.0.1",
                "--write-out", "%{http_code} %{http_version} %{ssl_verify_result} %{num_connects}\n",
                "https://localhost:\(port)/one", "https://localhost:\(port)/two",
            ])
            #expect(result.status == 0, "curl stderr: \(result.error)")
            // Two 200s over HTTP/1.1, certificate verified (0), the second on the same connection.
            #expect(result.output == "hello\n200 1.1 0 1\nhello\n200 1.1 0 0\n", "curl stdout: \(result.output) stderr: \(result.error)")
        }
    }

    @Test(arguments: [TLSVersion.tls12, .tls13])
    func opensslClientNegotiatesVersionAndALPN(version: TLSVersion) async throws {
        try await withHelloServer { port, pki in
            let request = "GET /s_client HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
            let result = try runBounded("/usr/bin/openssl", [
                "s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost", "-alpn", "http/1.1",
                version == .tls13 ? "-tls1_3" : "-tls1_2", "-CAfile", pki.path("root.pem"),
                "-verify_return_error", "-verify_hostname", "localhost", "-ign_eof",
            ], input: Data(request.utf8))
            let output = result.output
            #expect(result.status == 0, "s_client stderr: \(result.error)")
            #expect(output.contains("ALPN protocol: http/1.1"), "\(output)")
            #expect(output.contains("Protocol  : \(version)"), "\(output)")
            #expect(output.contains("Verify return code: 0 (ok)"), "\(output)")
            #expect(output.contains("HTTP/1.1 200 OK\r\n"), "\(output)")
            #expect(output.contains("Connection: close\r\n\r\nhello\n"), "\(output)")
        }
    }
}

/// An EpsilonTransport client connection running TLS against `openssl s_server`.
@Suite(.timeLimit(.minutes(2))) struct TransportClientOverTLS {
    @Test(arguments: [TLSVersion.tls12, .tls13])
    func againstOpenSSLServer(version: TLSVersion) async throws {
        let pki = try TestPKI.get()
        let port = try Loopback.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = [
            "30", "/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:\(port)", "-cert", pki.path("localhost.pem"),
            "-cert_chain", pki.path("intermediate.pem"), "-key", pki.path("localhost.key"),
            "-alpn", "http/1.1", version == .tls13 ? "-tls1_3" : "-tls1_2", "-www", "-naccept", "1",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        let group = try IOLoopGroup(loopCount: 1)
        do {
            // Written when TCP is up, before the handshake: the engine holds it until then.
            let probe = try await connectTLSClient(on: group.next(), port: port, greeting: Array("GET / HTTP/1.0\r\n\r\n".utf8))
            let seen = await probe.wait { $0.closed }
            let page = String(decoding: seen.plaintext, as: UTF8.self)
            #expect(seen.closed)
            #expect(seen.handshakes == 1)
            #expect(!seen.plaintextBeforeHandshake)
            #expect(seen.version == version)
            #expect(seen.applicationProtocol == "http/1.1")
            #expect(seen.peerSubject == "CN=localhost")
            #expect(page.hasPrefix("HTTP/1.0 200 ok"), "\(page.prefix(200))")
            #expect(page.contains("Ciphers supported in s_server binary"))
            #expect(seen.writeResults.count == 1 && seen.writeResults[0] == nil, "\(seen.writeResults)")
            // s_server ends with close_notify: a clean end, no error.
            #expect(seen.sawEOF)
            #expect(seen.error == nil, "\(String(describing: seen.error))")
        } catch {
            await group.shutdown()
            throw error
        }
        await group.shutdown()
    }

    /// Bad certificates end the connection with the engine's typed error, on the client and
    /// (as the alert the client sent) on the server; no plaintext reaches either handler.
    @Test(arguments: [
        ("stranger", "localhost", TLSError.unknownCertificateAuthority),
        ("expired", "localhost", TLSError.certificateExpired),
        ("localhost", "api.example.test", TLSError.hostnameMismatch(expected: "api.example.test")),
    ])
    func badCertificateGivesTypedError(identity: String, serverName: String, expected: TLSError) async throws {
        try await withTLSServer(identity: identity) { group, server, serverProbe in
            guard let port = server.localAddress.port else { throw TestFailure("no port") }
            let client = try await connectTLSClient(on: group.next(), port: port, serverName: serverName,
                                                    greeting: Array("secret".utf8))
            let seen = await client.wait { $0.closed }
            #expect(seen.error == .tls(expected), "\(String(describing: seen.error))")
            #expect(seen.handshakes == 0)
            #expect(seen.writeResults.count == 1 && seen.writeResults[0] == .tls(expected), "\(seen.writeResults)")
            let serverSeen = await serverProbe.wait { $0.closed }
            guard case .tls(.alertReceived(let alert)) = serverSeen.error else {
                Issue.record("server closed with \(String(describing: serverSeen.error)), not a received alert")
                return
            }
            #expect(alert != .closeNotify)
            #expect(serverSeen.plaintext.isEmpty)
        }
    }
}

/// Truncation: a peer that ends the TCP stream without `close_notify` is reported as
/// `TLSError.truncated`, never as a clean end; with `close_notify` the handler sees a clean EOF.
@Suite(.timeLimit(.minutes(2))) struct TransportTLSTruncation {
    @Test(arguments: [true, false])
    func serverSeesClientEnding(withCloseNotify: Bool) async throws {
        try await withTLSServer(echo: true) { _, server, probe in
            guard let port = server.localAddress.port else { throw TestFailure("no port") }
            let pki = try TestPKI.get()
            let context = try TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust()))
            let engine = try TLSEngine(context: context, serverName: "localhost")
            let fd = try Loopback.connect(port: port)
            defer { close(fd) }
            try engine.send(Array("ping".utf8))
            var echoed: [UInt8] = []
            try Loopback.drive(engine, on: fd, plaintext: &echoed) { $0.count >= 4 }
            #expect(echoed == Array("ping".utf8))
            if withCloseNotify {
                engine.close()
                try Loopback.write(fd, engine.takeOutput())
                // The server answers close_notify with its own, then closes.
                var rest: [UInt8] = []
                try Loopback.drive(engine, on: fd, plaintext: &rest) { _ in false }
                #expect(engine.hasReceivedCloseNotify)
            } else {
                shutdown(fd, Int32(SHUT_RDWR))
            }
            let seen = await probe.wait { $0.closed }
            #expect(seen.closed)
            #expect(seen.plaintext == Array("ping".utf8))
            if withCloseNotify {
                #expect(seen.sawEOF)
                #expect(seen.error == nil, "\(String(describing: seen.error))")
            } else {
                #expect(!seen.sawEOF)
                #expect(seen.error == .tls(.truncated), "\(String(describing: seen.error))")
            }
        }
    }

    @Test func clientSeesServerEndingWithoutCloseNotify() async throws {
        let pki = try TestPKI.get()
        let context = try TLSContext(server: TLSServerConfiguration(identity: pki.identity("localhost")))
        let (listener, port) = try Loopback.listen()
        defer { close(listener) }
        // A raw server engine on a blocking socket, on its own thread: handshake, one line of
        // data, then the TCP end without close_notify.
        let serverResult = Slot<Result<Void, TestFailure>>()
        let thread = Thread {
            do {
                let fd = try Loopback.accept(listener)
                defer { close(fd) }
                let engine = try TLSEngine(context: context)
                var plaintext: [UInt8] = []
                try Loopback.drive(engine, on: fd, plaintext: &plaintext) { _ in engine.isHandshakeComplete }
                try engine.send(Array("partial data\n".utf8))
                try Loopback.write(fd, engine.takeOutput())
                serverResult.set(.success(()))
            } catch {
                serverResult.set(.failure(TestFailure("raw server: \(error)")))
            }
        }
        thread.start()

        let group = try IOLoopGroup(loopCount: 1)
        do {
            let probe = try await connectTLSClient(on: group.next(), port: port)
            let seen = await probe.wait { $0.closed }
            #expect(seen.handshakes == 1)
            #expect(String(decoding: seen.plaintext, as: UTF8.self) == "partial data\n")
            #expect(!seen.sawEOF)
            #expect(seen.error == .tls(.truncated), "\(String(describing: seen.error))")
        } catch {
            await group.shutdown()
            throw error
        }
        await group.shutdown()
        let deadline = ContinuousClock.now.advanced(by: .seconds(20))
        while serverResult.get == nil && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        try serverResult.get?.get()
    }
}

/// Our client against our server over TLS, every Linux backend: 4 MiB echoed with
/// back-pressure, then close_notify both ways and no error on either side.
@Suite(.timeLimit(.minutes(3))) struct TransportTLSEcho {
    static let backends = PollerBackend.allCases.filter { $0 != .kqueue && $0.isAvailable }

    static let payload: [UInt8] = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11) }

    @Test(arguments: backends)
    func echoesFourMiB(backend: PollerBackend) async throws {
        try await withTLSServer(backend: backend, echo: true) { try await Self.echo(group: $0, server: $1, serverProbe: $2) }
    }

    // A named function rather than the closure's body: swift-frontend 6.3.1 crashes in its
    // SendNonSendable pass on this body written as a closure.
    private static func echo(group: IOLoopGroup, server: TCPServer, serverProbe: TLSConnectionProbe) async throws {
            guard let port = server.localAddress.port else { throw TestFailure("no port") }
            let count = Self.payload.count
            let client = try await connectTLSClient(on: group.next(), port: port, greeting: Self.payload, closeAfter: count)
            let seen = await client.wait(timeout: .seconds(60)) { $0.closed }
            let serverSeen = await serverProbe.wait { $0.closed }
            let echoedAll = seen.plaintext == Self.payload
            #expect(seen.closed)
            #expect(seen.handshakes == 1)
            #expect(seen.version == .tls13)
            #expect(seen.plaintext.count == count)
            #expect(echoedAll)
            #expect(seen.error == nil, "\(String(describing: seen.error))")
            #expect(seen.writeResults.count == 1 && seen.writeResults[0] == nil)
            #expect(serverSeen.sawEOF)
            #expect(serverSeen.error == nil, "\(String(describing: serverSeen.error))")
            #expect(serverSeen.plaintext.count == count)
    }
}
