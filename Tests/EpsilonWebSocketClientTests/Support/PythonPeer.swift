import EpsilonTestPeers
import Foundation
import Synchronization

/// A peer script (Tests/Client/ws_peer.py) run with python3 on 127.0.0.1: started, paused (SIGSTOP),
/// killed and restarted on the same port by the tests. Start-up is awaited without blocking a
/// thread; a script that does not come up throws its standard error.
final class PythonPeer: Sendable {
    private let running = Mutex<TestPeerProcess?>(nil)
    private let currentPort = Atomic<UInt16>(0)
    let arguments: [String]
    var port: UInt16 { currentPort.load(ordering: .acquiring) }

    struct Failed: Error, CustomStringConvertible { let description: String }

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Client/ws_peer.py").path
    }

    /// Starts `ws_peer.py arguments…` and waits (at most 15 s) for its port.
    init(_ arguments: [String]) async throws {
        self.arguments = arguments
        try await start(port: 0)
    }

    /// Starts the script, on `port` (0: any free port); it prints "PORT n" once listening.
    func start(port wanted: UInt16) async throws {
        var arguments = [Self.script] + self.arguments
        if wanted != 0 { arguments += ["--port", String(wanted)] }
        let process = try TestPeerProcess("python3", arguments, readsOutput: true)
        running.withLock { $0 = process }
        let text = try await process.waitForOutputLine(containing: "PORT ", timeout: .seconds(15))
        guard let found = UInt16(text) else { throw process.failure("reported no port: \(text)") }
        currentPort.store(found, ordering: .releasing)
    }

    /// Kills the script (SIGKILL, as a crash would) and waits for it.
    func stop() async {
        await running.withLock { process in
            defer { process = nil }
            return process
        }?.stop()
    }

    /// Starts it again on the same port.
    func restart() async throws {
        await stop()
        try await start(port: port)
    }

    /// Sends `signal` (SIGSTOP freezes it: connections stay open, nothing is answered).
    func signal(_ signal: Int32) {
        running.withLock { $0 }?.signal(signal)
    }

    func url(_ path: String = "/", secure: Bool = false, host: String = "127.0.0.1") -> String {
        "\(secure ? "wss" : "ws")://\(host):\(port)\(path)"
    }
}

/// A CA and a certificate for `localhost` and 127.0.0.1, made with the openssl CLI in a
/// temporary folder (removed on deinit).
final class TestCertificates: Sendable {
    let directory: String
    var caFile: String { directory + "/ca.pem" }
    var certificateFile: String { directory + "/leaf.pem" }
    var keyFile: String { directory + "/leaf.key" }

    init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ws-client-pki-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        try await TestPeerTool.run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                               "-keyout", directory + "/ca.key", "-out", directory + "/ca.pem", "-days", "2",
                                               "-subj", "/CN=Epsilon WebSocket Client Test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                                               "-addext", "keyUsage=critical,keyCertSign"])
        try await TestPeerTool.run("openssl", ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                               "-keyout", directory + "/leaf.key", "-out", directory + "/leaf.csr", "-subj", "/CN=localhost"])
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n".write(toFile: directory + "/leaf.ext", atomically: true, encoding: .utf8)
        try await TestPeerTool.run("openssl", ["x509", "-req", "-in", directory + "/leaf.csr", "-CA", directory + "/ca.pem",
                                               "-CAkey", directory + "/ca.key", "-CAcreateserial", "-out", directory + "/leaf.pem",
                                               "-days", "2", "-extfile", directory + "/leaf.ext"])
        for file in ["leaf.key", "leaf.pem", "ca.pem"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: directory + "/" + file)
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }
}

/// nginx on loopback as a WebSocket reverse proxy (plain and TLS listeners) in front of `upstream`.
final class NginxWebSocketProxy: Sendable {
    let directory: String
    let port: UInt16
    let tlsPort: UInt16
    private let process: TestPeerProcess

    init(upstreamPort: UInt16, certificates: TestCertificates) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ws-client-nginx-\(UUID().uuidString)").path
        for folder in ["logs", "tmp"] {
            try FileManager.default.createDirectory(atPath: directory + "/" + folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o777])
        }
        port = try LoopbackPort.free()
        tlsPort = try LoopbackPort.free()
        let configuration = """
            worker_processes 1;
            daemon off;
            pid \(directory)/nginx.pid;
            error_log \(directory)/logs/error.log;
            events { worker_connections 256; }
            http {
                access_log off;
                client_body_temp_path \(directory)/tmp;
                proxy_temp_path \(directory)/tmp;
                map $http_upgrade $connection_upgrade { default upgrade; '' close; }
                server {
                    listen 127.0.0.1:\(port);
                    listen 127.0.0.1:\(tlsPort) ssl;
                    server_name localhost;
                    ssl_certificate \(certificates.certificateFile);
                    ssl_certificate_key \(certificates.keyFile);
                    location / {
                        proxy_pass http://127.0.0.1:\(upstreamPort);
                        proxy_http_version 1.1;
                        proxy_set_header Upgrade $http_upgrade;
                        proxy_set_header Connection $connection_upgrade;
                        proxy_read_timeout 60s;
                    }
                }
            }
            """
        try configuration.write(toFile: directory + "/nginx.conf", atomically: true, encoding: .utf8)
        let errorLog = directory + "/logs/error.log"
        // SIGTERM: nginx's master stops its worker too (a killed master would leave it running).
        process = try TestPeerProcess("/usr/sbin/nginx", ["-c", directory + "/nginx.conf", "-p", directory, "-e", errorLog],
                                      ending: .terminate(grace: .seconds(5)), logs: [errorLog], removing: [directory])
        let root = "http://127.0.0.1:\(port)/"
        try await process.waitUntil("answering \(root)") { await TestPeerTool.succeeds("curl", ["-s", "-o", "/dev/null", root]) }
    }
}
