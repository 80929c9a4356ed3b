import Foundation

/// nginx on loopback for a test, configured in a temporary folder: a plain HTTP/1.1 listener,
/// an HTTPS one with a certificate for `localhost` from a CA made here, WebDAV PUT into
/// `upload/`, and an access log of `connection-id status bytes` lines to count connections.
final class NginxPeer: @unchecked Sendable {
    // @unchecked: immutable after init; the process is terminated in deinit.
    let directory: String
    let port: UInt16
    let tlsPort: UInt16
    private let process = Process()

    struct Failed: Error, CustomStringConvertible { let description: String }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("client-nginx-\(UUID().uuidString)").path
        for folder in ["www", "upload", "logs", "tmp"] {
            // World-writable: nginx started as root runs its worker as nobody.
            try FileManager.default.createDirectory(atPath: directory + "/" + folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o777])
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        try Self.run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                 "-keyout", directory + "/ca.key", "-out", directory + "/ca.pem", "-days", "2",
                                 "-subj", "/CN=Epsilon Client Test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                                 "-addext", "keyUsage=critical,keyCertSign"])
        try Self.run("openssl", ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                 "-keyout", directory + "/leaf.key", "-out", directory + "/leaf.csr", "-subj", "/CN=localhost"])
        try "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n".write(toFile: directory + "/leaf.ext", atomically: true, encoding: .utf8)
        try Self.run("openssl", ["x509", "-req", "-in", directory + "/leaf.csr", "-CA", directory + "/ca.pem",
                                 "-CAkey", directory + "/ca.key", "-CAcreateserial", "-out", directory + "/leaf.pem",
                                 "-days", "2", "-extfile", directory + "/leaf.ext"])
        port = try Self.freePort()
        tlsPort = try Self.freePort()
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
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
        process.arguments = ["-c", directory + "/nginx.conf", "-p", directory, "-e", directory + "/logs/error.log"]
        // Never the test's own output: `swift test` waits for every holder of its pipe to exit.
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready once it answers (at most 10 s).
        for _ in 0..<200 {
            if (try? Self.run("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(port)/"])) != nil { return }
            usleep(50_000)
        }
        throw Failed(description: "nginx did not start: \((try? String(contentsOfFile: directory + "/logs/error.log", encoding: .utf8)) ?? "")")
    }

    deinit {
        // SIGTERM: nginx's master stops its worker too (a killed master would leave it running).
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
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

    static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failed(description: "\(tool) \(arguments.first ?? "") failed") }
    }

    /// A port the kernel just gave out and took back.
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Failed(description: "no free port") }
        return UInt16(bigEndian: address.sin_port)
    }
}
