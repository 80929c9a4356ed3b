import EpsilonTestPeers
import Foundation

/// nginx on loopback for a test, configured in a temporary folder: a plain HTTP/1.1 listener,
/// an HTTPS one with a certificate for `localhost` from a CA made here, WebDAV PUT into
/// `upload/`, and an access log of `connection-id status bytes` lines to count connections.
final class NginxPeer: Sendable {
    let directory: String
    let port: UInt16
    let tlsPort: UInt16
    private let process: TestPeerProcess

    init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("client-nginx-\(UUID().uuidString)").path
        for folder in ["www", "upload", "logs", "tmp"] {
            // World-writable: nginx started as root runs its worker as nobody.
            try FileManager.default.createDirectory(atPath: directory + "/" + folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o777])
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        try await TestPeerTool.run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                               "-keyout", directory + "/ca.key", "-out", directory + "/ca.pem", "-days", "2",
                                               "-subj", "/CN=Epsilon Client Test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                                               "-addext", "keyUsage=critical,keyCertSign"])
        try await TestPeerTool.run("openssl", ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                               "-keyout", directory + "/leaf.key", "-out", directory + "/leaf.csr", "-subj", "/CN=localhost"])
        try "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n".write(toFile: directory + "/leaf.ext", atomically: true, encoding: .utf8)
        try await TestPeerTool.run("openssl", ["x509", "-req", "-in", directory + "/leaf.csr", "-CA", directory + "/ca.pem",
                                               "-CAkey", directory + "/ca.key", "-CAcreateserial", "-out", directory + "/leaf.pem",
                                               "-days", "2", "-extfile", directory + "/leaf.ext"])
        port = try LoopbackPort.free()
        tlsPort = try LoopbackPort.free()
        let configuration = """
            worker_processes 1;
            daemon off;
            pid \(directory)/nginx.pid;
            error_log \(directory)/logs/error.log;
            events { worker_connections 1024; }
            http {
                log_format conn '$connection $status $bytes_sent';
                access_log \(directory)/logs/access.log conn;
                client_body_temp_path \(directory)/tmp;
                keepalive_requests 100000;
                client_max_body_size 200m;
                server {
                    listen 127.0.0.1:\(port);
                    listen 127.0.0.1:\(tlsPort) ssl;
                    server_name localhost;
                    ssl_certificate \(directory)/leaf.pem;
                    ssl_certificate_key \(directory)/leaf.key;
                    root \(directory)/www;
                    location /upload/ {
                        root \(directory);
                        dav_methods PUT;
                        create_full_put_path on;
                    }
                }
            }
            """
        try configuration.write(toFile: directory + "/nginx.conf", atomically: true, encoding: .utf8)
        let errorLog = directory + "/logs/error.log"
        // SIGTERM: nginx's master stops its worker too (a killed master would leave it running).
        process = try TestPeerProcess("/usr/sbin/nginx", ["-c", directory + "/nginx.conf", "-p", directory, "-e", errorLog],
                                      ending: .terminate(grace: .seconds(5)), logs: [errorLog], removing: [directory])
        // Ready once it answers.
        let root = "http://127.0.0.1:\(port)/"
        try await process.waitUntil("answering \(root)") { await TestPeerTool.succeeds("curl", ["-s", "-o", "/dev/null", root]) }
    }

    /// Writes a file nginx serves at `/name`.
    func serve(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/www/" + name))
    }

    /// Distinct connections in the access log, and its lines.
    func loggedConnections() throws -> (connections: Int, requests: Int) {
        let text = (try? String(contentsOfFile: directory + "/logs/access.log", encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n")
        return (Set(lines.map { $0.split(separator: " ")[0] }).count, lines.count)
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }
    func tlsURL(_ path: String, host: String = "localhost") -> String { "https://\(host):\(tlsPort)\(path)" }
}
