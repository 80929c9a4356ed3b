import EpsilonTestPeers
import Foundation

/// An HTTP/2 server process on loopback for a test (nghttpd, h2o or nginx), configured in a
/// temporary folder with its own PKI (`ca.pem` signs `leaf.pem` for `localhost`), serving
/// `www/`; killed (and the folder removed) when the value goes away.
final class HTTP2ServerPeer: Sendable {
    enum Kind: String, Sendable, CustomStringConvertible {
        /// nghttpd without TLS (h2c, prior knowledge), echoing POST and PUT bodies.
        case nghttpdCleartext
        /// nghttpd over TLS (ALPN h2), echoing POST and PUT bodies.
        case nghttpd
        /// h2o over TLS.
        case h2o
        /// nginx over TLS with `http2`, WebDAV PUT into `upload/`, gzip for `.txt`.
        case nginx

        var description: String { rawValue }
        var isSecure: Bool { self != .nghttpdCleartext }
    }

    let kind: Kind
    let directory: String
    let port: UInt16
    private let process: TestPeerProcess

    init(_ kind: Kind) async throws {
        self.kind = kind
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("client-h2-\(kind)-\(UUID().uuidString)").path
        for folder in ["www", "upload", "logs", "tmp"] {
            // World-writable: nginx started as root runs its worker as nobody.
            try FileManager.default.createDirectory(atPath: directory + "/" + folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o777])
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        try await NginxTLSPeer.makePKI(in: directory)
        port = try LoopbackPort.free()
        let d = directory
        let executable: String
        let arguments: [String]
        switch kind {
        case .nghttpdCleartext, .nghttpd:
            executable = "/usr/sbin/nghttpd"
            let common = ["--echo-upload", "-d", d + "/www", "--address=127.0.0.1", String(port)]
            arguments = kind == .nghttpdCleartext ? ["--no-tls"] + common : common + [d + "/leaf.key", d + "/leaf.pem"]
        case .h2o:
            let configuration = """
                listen:
                  host: 127.0.0.1
                  port: \(port)
                  ssl:
                    certificate-file: \(d)/leaf.pem
                    key-file: \(d)/leaf.key
                pid-file: \(d)/logs/h2o.pid
                error-log: \(d)/logs/error.log
                access-log:
                  path: \(d)/logs/access.log
                  format: "%{connection-id}x %H %s %b"
                hosts:
                  "localhost:\(port)":
                    paths:
                      "/":
                        file.dir: \(d)/www
                """
            try configuration.write(toFile: d + "/h2o.conf", atomically: true, encoding: .utf8)
            executable = "/usr/bin/h2o"
            arguments = ["-c", d + "/h2o.conf"]
        case .nginx:
            let configuration = """
                worker_processes 1;
                daemon off;
                pid \(d)/nginx.pid;
                error_log \(d)/logs/error.log;
                events { worker_connections 1024; }
                http {
                    log_format conn '$connection $server_protocol $status $bytes_sent';
                    access_log \(d)/logs/access.log conn;
                    client_body_temp_path \(d)/tmp;
                    keepalive_requests 100000;
                    client_max_body_size 200m;
                    gzip on;
                    gzip_types text/plain;
                    types { text/plain txt; }
                    server {
                        listen 127.0.0.1:\(port) ssl http2;
                        server_name localhost;
                        ssl_certificate \(d)/leaf.pem;
                        ssl_certificate_key \(d)/leaf.key;
                        root \(d)/www;
                        location /upload/ {
                            root \(d);
                            dav_methods PUT;
                            create_full_put_path on;
                        }
                    }
                }
                """
            try configuration.write(toFile: d + "/nginx.conf", atomically: true, encoding: .utf8)
            executable = "/usr/sbin/nginx"
            arguments = ["-c", d + "/nginx.conf", "-p", d, "-e", d + "/logs/error.log"]
        }
        // SIGTERM first: nginx's master stops its worker too, h2o its workers. Both may wait
        // for open connections (nghttpd and h2o kept running here), so after 5 s the process
        // and its children get SIGKILL.
        process = try TestPeerProcess(executable, arguments, ending: .terminate(grace: .seconds(5)),
                                      logs: [d + "/logs/error.log"], removing: [d])
        try await process.waitUntilAccepts(port: port)
    }

    /// Writes a file the server serves at `/name`.
    func serve(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/www/" + name))
    }

    /// A file the server keeps (nginx's WebDAV uploads), or nil.
    func file(_ path: String) -> Data? { FileManager.default.contents(atPath: directory + "/" + path) }

    /// The access log's lines (nginx: `connection protocol status bytes`; h2o: `connection-id protocol status bytes`).
    func accessLog() -> [[Substring]] {
        let text = (try? String(contentsOfFile: directory + "/logs/access.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { $0.split(separator: " ") }
    }

    func url(_ path: String) -> String {
        kind.isSecure ? "https://localhost:\(port)\(path)" : "http://127.0.0.1:\(port)\(path)"
    }
}
