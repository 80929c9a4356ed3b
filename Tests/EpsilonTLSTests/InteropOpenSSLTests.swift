import EpsilonTLS
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Interop on loopback with the `openssl` command-line tool (Debian package `openssl`):
/// `openssl s_client` against our server engine, our client engine against `openssl s_server`.
@Suite(.serialized) struct InteropOpenSSLCommandLine {
    @Test(arguments: [TLSVersion.tls12, .tls13])
    func opensslClientAgainstOurServer(version: TLSVersion) throws {
        let pki = try TestPKI.get()
        let context = try TLSContext(server: TLSServerConfiguration(
            identity: pki.identity("api"), identitiesByName: ["www.example.test": pki.identity("localhost")],
            applicationProtocols: ["h2", "http/1.1"]))
        let (listener, port) = try Loopback.listen()
        defer { close(listener) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "s_client", "-connect", "127.0.0.1:\(port)", "-servername", "www.example.test", "-alpn", "h2",
            version == .tls13 ? "-tls1_3" : "-tls1_2", "-CAfile", pki.path("root.pem"),
            "-verify_return_error", "-verify_hostname", "www.example.test", "-brief", "-ign_eof",
        ]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        stdin.fileHandleForWriting.write(Data("ping\n".utf8))
        try stdin.fileHandleForWriting.close()

        let fd = try Loopback.accept(listener)
        let engine = try TLSEngine(context: context)
        var plaintext: [UInt8] = []
        try Loopback.drive(engine, on: fd, plaintext: &plaintext) { $0.contains(UInt8(ascii: "\n")) }
        #expect(String(decoding: plaintext, as: UTF8.self) == "ping\n")
        #expect(engine.version == version)
        #expect(engine.applicationProtocol == "h2")
        #expect(engine.serverName == "www.example.test")
        try engine.send(Array("pong\n".utf8))
        engine.close()
        try Loopback.write(fd, engine.takeOutput())
        shutdown(fd, Int32(SHUT_WR))
        // Drain until the client closes (its own close_notify, or just the TCP end).
        while let bytes = try? Loopback.read(fd, timeoutMilliseconds: 5_000) { engine.receive(bytes) }
        close(fd)

        let deadline = Date().addingTimeInterval(15)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        let output = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let report = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(output.contains("pong"), "s_client stdout: \(output)")
        #expect(report.contains("Protocol version: \(version)"), "s_client stderr: \(report)")
        #expect(report.contains("Verification: OK"), "s_client stderr: \(report)")
        #expect(report.contains("Peer certificate: CN = localhost"), "s_client stderr: \(report)")
    }

    @Test(arguments: [TLSVersion.tls12, .tls13])
    func ourClientAgainstOpenSSLServer(version: TLSVersion) throws {
        let pki = try TestPKI.get()
        let port = try Loopback.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "s_server", "-accept", "127.0.0.1:\(port)", "-cert", pki.path("localhost.pem"),
            "-cert_chain", pki.path("intermediate.pem"), "-key", pki.path("localhost.key"),
            "-alpn", "h2", version == .tls13 ? "-tls1_3" : "-tls1_2", "-www", "-naccept", "1",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        let fd = try Loopback.connect(port: port)
        defer { close(fd) }
        let context = try TLSContext(client: TLSClientConfiguration(trustRoots: pki.trust(), applicationProtocols: ["h2", "http/1.1"]))
        let engine = try TLSEngine(context: context, serverName: "localhost")
        try engine.send(Array("GET / HTTP/1.0\r\n\r\n".utf8))
        var plaintext: [UInt8] = []
        // s_server -www answers, then ends the connection.
        try Loopback.drive(engine, on: fd, plaintext: &plaintext) { _ in false }
        let page = String(decoding: plaintext, as: UTF8.self)
        #expect(page.hasPrefix("HTTP/1.0 200 ok"), "\(page.prefix(200))")
        #expect(page.contains("Ciphers supported in s_server binary"))
        #expect(engine.version == version)
        #expect(engine.applicationProtocol == "h2")
        #expect(engine.peerCertificate?.subject == "CN=localhost")
        #expect(engine.hasReceivedCloseNotify)
    }
}

/// curl (Debian package `curl`) with `--cacert` against our server engine on loopback, the
/// HTTP/1.1 exchange written by hand (the HTTP server itself lives above the transport).
@Suite struct InteropCurl {
    @Test func curlFetchesOverOurServerEngine() throws {
        let pki = try TestPKI.get()
        let context = try TLSContext(server: TLSServerConfiguration(
            identity: pki.identity("localhost"), applicationProtocols: ["http/1.1"]))
        let (listener, port) = try Loopback.listen()
        defer { close(listener) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = [
            "--silent", "--show-error", "--http1.1", "--cacert", pki.path("root.pem"),
            "--resolve", "localhost:\(port):127.0.0.1", "--write-out", " %{http_code} %{ssl_verify_result}",
            "https://localhost:\(port)/hello",
        ]
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else {
            throw TestFailure("curl is missing (apt-get install -y curl)")
        }
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        let fd = try Loopback.accept(listener)
        let engine = try TLSEngine(context: context)
        var request: [UInt8] = []
        try Loopback.drive(engine, on: fd, plaintext: &request) { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }
        let head = String(decoding: request, as: UTF8.self)
        #expect(head.hasPrefix("GET /hello HTTP/1.1\r\n"), "\(head)")
        #expect(engine.applicationProtocol == "http/1.1")
        #expect(engine.serverName == "localhost")
        try engine.send(Array("HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\nhello\n".utf8))
        engine.close()
        try Loopback.write(fd, engine.takeOutput())
        shutdown(fd, Int32(SHUT_WR))
        while let bytes = try? Loopback.read(fd, timeoutMilliseconds: 5_000) { engine.receive(bytes) }
        close(fd)

        let deadline = Date().addingTimeInterval(15)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        let output = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(output == "hello\n 200 0", "curl stdout: \(output) stderr: \(errors)")
        #expect(process.terminationStatus == 0)
    }
}
