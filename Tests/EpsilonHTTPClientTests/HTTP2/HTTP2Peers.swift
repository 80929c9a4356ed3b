import Foundation

/// An HTTP/2 server process on loopback for a test (nghttpd, h2o or nginx), configured in a
/// temporary folder with its own PKI (`ca.pem` signs `leaf.pem` for `localhost`), serving
/// `www/`; killed (and the folder removed) when the value goes away.
final class HTTP2ServerPeer: @unchecked Sendable {
    // @unchecked: immutable after init; the process is terminated in deinit.
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
    private let process = Process()

    struct Failed: Error, CustomStringConvertible { let description: String }

    init(_ kind: Kind) throws {
        self.kind = kind
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("client-h2-\(kind)-\(UUID().uuidString)").path
        for folder in ["www", "upload", "logs", "tmp"] {
            // World-writable: nginx started as root runs its worker as nobody.
            try FileManager.default.createDirectory(atPath: directory + "/" + folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o777])
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        try NginxTLSPeer.makePKI(in: directory)
        port = try NginxPeer.freePort()
        let d = directory
        switch kind {
        case .nghttpdCleartext, .nghttpd:
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/nghttpd")
            var arguments = ["--echo-upload", "-d", d + "/www", "--address=127.0.0.1", String(port)]
            if kind == .nghttpdCleartext {
                arguments.insert("--no-tls", at: 0)
            } else {
                arguments += [d + "/leaf.key", d + "/leaf.pem"]
            }
            process.arguments = arguments
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
            process.executableURL = URL(fileURLWithPath: "/usr/bin/h2o")
            process.arguments = ["-c", d + "/h2o.conf"]
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
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
            process.arguments = ["-c", d + "/nginx.conf", "-p", d, "-e", d + "/logs/error.log"]
        }
        // Never the test's own output: `swift test` waits for every holder of its pipe to exit.
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready once it accepts connections (at most 10 s).
        for _ in 0..<200 {
            if Self.accepts(port: port) { return }
            usleep(50_000)
        }
        throw Failed(description: "\(kind) did not start: \((try? String(contentsOfFile: d + "/logs/error.log", encoding: .utf8)) ?? "")")
    }

    deinit {
        // SIGTERM first: nginx's master stops its worker too, h2o its workers. Both may wait
        // for open connections (nghttpd and h2o kept running here), so after 5 s the process
        // and its children get SIGKILL.
        let pid = process.processIdentifier
        kill(pid, SIGTERM)
        for _ in 0..<100 where process.isRunning { usleep(50_000) }
        if process.isRunning {
            Self.children(of: pid).forEach { kill($0, SIGKILL) }
            kill(pid, SIGKILL)
        }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
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

    /// The processes whose parent is `pid` (from /proc).
    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let child = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == pid ? child : nil
        }
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    static func accepts(port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
