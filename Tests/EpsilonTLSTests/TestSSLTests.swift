import EpsilonTLS
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// testssl.sh (Debian package `testssl.sh`) against our server engine on loopback, with the
/// default policy. It makes hundreds of connections and takes minutes, so it runs only when
/// asked: `EPSILON_TESTSSL=1 swift test -c release --filter TestSSL`. It prints testssl's
/// report and fails if testssl is missing or flags an old protocol, a non-forward-secret or
/// weak cipher, or a vulnerability.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["EPSILON_TESTSSL"] == "1"))
struct TestSSL {
    final class Flag: @unchecked Sendable {
        // @unchecked: every access goes through `lock`.
        private let lock = NSLock()
        private var value = false
        func set() { lock.withLock { value = true } }
        var isSet: Bool { lock.withLock { value } }
    }

    /// Serves each connection on its own thread: handshake, then answers any HTTP request
    /// with a small page and close_notify. Errors just end the connection.
    static func serve(_ listener: Int32, context: TLSContext, until stop: Flag) {
        while !stop.isSet {
            guard Loopback.wait(listener, 200) else { continue }
            let fd = Glibc.accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            Thread.detachNewThread {
                defer { close(fd) }
                guard let engine = try? TLSEngine(context: context) else { return }
                var request: [UInt8] = []
                do {
                    try Loopback.drive(engine, on: fd, plaintext: &request) { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }
                    if String(decoding: request, as: UTF8.self).contains("\r\n\r\n") {
                        try engine.send(Array("HTTP/1.1 200 OK\r\ncontent-length: 3\r\nconnection: close\r\n\r\nok\n".utf8))
                    }
                    engine.close()
                } catch {}
                try? Loopback.write(fd, engine.takeOutput())
            }
        }
    }

    @Test func testsslFindsNoWeakness() throws {
        let pki = try TestPKI.get()
        let context = try TLSContext(server: TLSServerConfiguration(
            identity: pki.identity("localhost"), applicationProtocols: ["h2", "http/1.1"]))
        let (listener, port) = try Loopback.listen()
        defer { close(listener) }
        let stop = Flag()
        let server = Thread { Self.serve(listener, context: context, until: stop) }
        server.start()
        defer { stop.set() }

        let result = try TestProcess.run("/usr/bin/testssl", [
            "--quiet", "--color", "0", "--warnings", "batch", "--add-ca", pki.path("root.pem"),
            "--protocols", "--std", "--fs", "--server-preference", "--vulnerable",
            "127.0.0.1:\(port)",
        ])
        print(result.output)
        let lines = result.output.split(separator: "\n").map(String.init)
        func line(_ prefix: String) -> String { lines.first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(prefix) } ?? "" }
        for old in ["SSLv2", "SSLv3", "TLS 1 ", "TLS 1.1"] {
            #expect(line(old).contains("not offered"), "\(old): \(line(old))")
        }
        #expect(line("TLS 1.2").contains("offered"))
        #expect(line("TLS 1.3").contains("offered"))
        for weak in ["NULL ciphers", "Anonymous NULL", "Export ciphers", "LOW: 64 Bit", "Triple DES", "Obsolete CBC"] {
            #expect(line(weak).contains("not offered"), "\(weak): \(line(weak))")
        }
        // testssl marks findings "VULNERABLE" (or "NOT ok"); none may appear.
        let findings = lines.filter { $0.contains("VULNERABLE") && !$0.contains("not vulnerable") }
        #expect(findings.isEmpty, "\(findings)")
    }
}
