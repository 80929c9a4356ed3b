import EpsilonTestPeers
import Foundation

/// nginx on loopback for the connection-establishment tests, with its own PKI (a CA, a
/// `localhost` server certificate, a client certificate) and three HTTPS listeners:
/// - `port`: TLS 1.2 and 1.3, tickets on, an access log of
///   `connection ssl_session_reused ssl_protocol status` lines;
/// - `clientCertificatePort`: `ssl_verify_client on` with the CA (nginx answers 400 without a
///   certificate), the client's subject logged;
/// - `tls13OnlyPort`: `ssl_protocols TLSv1.3`.
final class NginxTLSPeer: Sendable {
    let directory: String
    let port: UInt16
    let clientCertificatePort: UInt16
    let tls13OnlyPort: UInt16
    private let process: TestPeerProcess

    init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("client-tls-nginx-\(UUID().uuidString)").path
        for folder in ["www", "logs"] {
            try FileManager.default.createDirectory(atPath: directory + "/" + folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o777])
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        try await Self.makePKI(in: directory)
        port = try LoopbackPort.free()
        clientCertificatePort = try LoopbackPort.free()
        tls13OnlyPort = try LoopbackPort.free()
        let d = directory
        let configuration = """
            worker_processes 1;
            daemon off;
            pid \(d)/nginx.pid;
            error_log \(d)/logs/error.log;
            events { worker_connections 1024; }
            http {
                log_format tls '$server_port $connection $ssl_session_reused $ssl_protocol $status $uri $ssl_client_s_dn';
                access_log \(d)/logs/access.log tls;
                keepalive_requests 100000;
                ssl_certificate \(d)/leaf.pem;
                ssl_certificate_key \(d)/leaf.key;
                ssl_session_tickets on;
                ssl_session_cache shared:epsilon:1m;
                root \(d)/www;
                server {
                    listen 127.0.0.1:\(port) ssl;
                    ssl_protocols TLSv1.2 TLSv1.3;
                }
                server {
                    listen 127.0.0.1:\(clientCertificatePort) ssl;
                    ssl_protocols TLSv1.2 TLSv1.3;
                    ssl_verify_client on;
                    ssl_client_certificate \(d)/ca.pem;
                }
                server {
                    listen 127.0.0.1:\(tls13OnlyPort) ssl;
                    ssl_protocols TLSv1.3;
                }
            }
            """
        try configuration.write(toFile: directory + "/nginx.conf", atomically: true, encoding: .utf8)
        try "hello\n".write(toFile: directory + "/www/index.html", atomically: true, encoding: .utf8)
        try "hello\n".write(toFile: directory + "/www/hello.txt", atomically: true, encoding: .utf8)
        let errorLog = directory + "/logs/error.log"
        process = try TestPeerProcess("/usr/sbin/nginx", ["-c", directory + "/nginx.conf", "-p", directory, "-e", errorLog],
                                      ending: .terminate(grace: .seconds(5)), logs: [errorLog], removing: [directory])
        let root = "https://localhost:\(port)/"
        let ca = directory + "/ca.pem"
        try await process.waitUntil("answering \(root)") {
            await TestPeerTool.succeeds("curl", ["-s", "-o", "/dev/null", "--cacert", ca, root])
        }
    }

    /// A CA, a server certificate for `localhost` and a client certificate (CN `epsilon-client`).
    static func makePKI(in directory: String) async throws {
        let d = directory
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        try await TestPeerTool.run("openssl", ["req", "-x509"] + key + ["-keyout", d + "/ca.key", "-out", d + "/ca.pem", "-days", "2",
                                                "-subj", "/CN=Epsilon Client TLS Test CA",
                                                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"])
        for (name, subject, usage) in [("leaf", "localhost", "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n"),
                                       ("client", "epsilon-client", "extendedKeyUsage=clientAuth\n")] {
            try await TestPeerTool.run("openssl", ["req"] + key + ["-keyout", "\(d)/\(name).key", "-out", "\(d)/\(name).csr",
                                                               "-subj", "/CN=\(subject)"])
            try usage.write(toFile: "\(d)/\(name).ext", atomically: true, encoding: .utf8)
            try await TestPeerTool.run("openssl", ["x509", "-req", "-in", "\(d)/\(name).csr", "-CA", d + "/ca.pem", "-CAkey", d + "/ca.key",
                                                "-CAcreateserial", "-out", "\(d)/\(name).pem", "-days", "2", "-extfile", "\(d)/\(name).ext"])
        }
    }

    /// One access-log line.
    struct Logged: Sendable, CustomStringConvertible {
        var connection: Int
        var reused: Bool
        var protocolName: String
        var status: Int
        var path: String
        /// The client certificate's subject, or "" / "-".
        var client: String
        var description: String { "#\(connection) \(reused ? "resumed" : "full") \(protocolName) \(status) \(path) \(client)" }
    }

    /// The access log's lines for `port` and `path` (the readiness probe fetches "/").
    func logged(port: UInt16, path: String) -> [Logged] {
        let text = (try? String(contentsOfFile: directory + "/logs/access.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 6).map(String.init)
            guard parts.count >= 6, parts[0] == String(port), parts[5] == path,
                  let connection = Int(parts[1]), let status = Int(parts[4]) else { return nil }
            return Logged(connection: connection, reused: parts[2] == "r", protocolName: parts[3], status: status,
                          path: parts[5], client: parts.count > 6 ? parts[6] : "")
        }
    }

    func url(port: UInt16, _ path: String = "/") -> String { "https://localhost:\(port)\(path)" }
}
