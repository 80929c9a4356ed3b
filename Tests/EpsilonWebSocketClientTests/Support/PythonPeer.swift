import Foundation

/// A peer script (Tests/Client/ws_peer.py) run with python3 on 127.0.0.1: started, paused (SIGSTOP),
/// killed and restarted on the same port by the tests.
final class PythonPeer: @unchecked Sendable {
    // @unchecked: `process` is only touched under `lock`.
    private let lock = NSLock()
    private var process: Process?
    let arguments: [String]
    private(set) var port: UInt16 = 0

    struct Failed: Error, CustomStringConvertible { let description: String }

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Client/ws_peer.py").path
    }

    /// Starts `ws_peer.py arguments…` and waits (at most 15 s) for its port.
    init(_ arguments: [String]) throws {
        self.arguments = arguments
        try start(port: 0)
    }

    deinit { stop() }

    /// Starts the script, on `port` (0: any free port), unless it is running.
    func start(port wanted: UInt16) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var arguments = ["python3", Self.script] + self.arguments
        if wanted != 0 { arguments += ["--port", String(wanted)] }
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        lock.withLock { self.process = process }
        // The first line is "PORT n"; read it on a thread so a silent child cannot hang us.
        let line = LockedText()
        let reader = Thread {
            var bytes: [UInt8] = []
            while true {
                let data = output.fileHandleForReading.readData(ofLength: 1)
                if data.isEmpty || data[0] == 0x0A { break }
                bytes.append(data[0])
            }
            line.set(String(decoding: bytes, as: UTF8.self))
        }
        reader.start()
        let deadline = Date().addingTimeInterval(15)
        while line.value == nil && Date() < deadline { usleep(10_000) }
        guard let text = line.value, text.hasPrefix("PORT "), let found = UInt16(text.dropFirst(5)) else {
            stop()
            throw Failed(description: "ws_peer.py \(self.arguments) did not start (needs python3 with websockets: pip install websockets)")
        }
        port = found
    }

    /// Kills the script (SIGKILL, as a crash would) and waits for it.
    func stop() {
        let process = lock.withLock { () -> Process? in
            defer { self.process = nil }
            return self.process
        }
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGCONT)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Starts it again on the same port.
    func restart() throws {
        stop()
        try start(port: port)
    }

    /// Sends `signal` (SIGSTOP freezes it: connections stay open, nothing is answered).
    func signal(_ signal: Int32) {
        if let process = lock.withLock({ self.process }) { kill(process.processIdentifier, signal) }
    }

    func url(_ path: String = "/", secure: Bool = false, host: String = "127.0.0.1") -> String {
        "\(secure ? "wss" : "ws")://\(host):\(port)\(path)"
    }
}

/// A string written by one thread and read by another.
final class LockedText: @unchecked Sendable {
    // @unchecked: every access goes through `lock`.
    private let lock = NSLock()
    private var text: String?
    func set(_ value: String) { lock.withLock { text = value } }
    var value: String? { lock.withLock { text } }
}

/// Runs a tool to completion; throws unless it exits 0.
func runTool(_ tool: String, _ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [tool] + arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw PythonPeer.Failed(description: "\(tool) \(arguments.first ?? "") failed") }
}

/// A CA and a certificate for `localhost` and 127.0.0.1, made with the openssl CLI in a
/// temporary folder (removed on deinit).
final class TestCertificates: Sendable {
    let directory: String
    var caFile: String { directory + "/ca.pem" }
    var certificateFile: String { directory + "/leaf.pem" }
    var keyFile: String { directory + "/leaf.key" }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ws-client-pki-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        try runTool("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                "-keyout", directory + "/ca.key", "-out", directory + "/ca.pem", "-days", "2",
                                "-subj", "/CN=Epsilon WebSocket Client Test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                                "-addext", "keyUsage=critical,keyCertSign"])
        try runTool("openssl", ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                "-keyout", directory + "/leaf.key", "-out", directory + "/leaf.csr", "-subj", "/CN=localhost"])
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n".write(toFile: directory + "/leaf.ext", atomically: true, encoding: .utf8)
        try runTool("openssl", ["x509", "-req", "-in", directory + "/leaf.csr", "-CA", directory + "/ca.pem",
                                "-CAkey", directory + "/ca.key", "-CAcreateserial", "-out", directory + "/leaf.pem",
                                "-days", "2", "-extfile", directory + "/leaf.ext"])
        for file in ["leaf.key", "leaf.pem", "ca.pem"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: directory + "/" + file)
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }
}

/// nginx on loopback as a WebSocket reverse proxy (plain and TLS listeners) in front of `upstream`.
final class NginxWebSocketProxy: @unchecked Sendable {
    // @unchecked: immutable after init; the process is stopped in deinit.
    let directory: String
    let port: UInt16
    let tlsPort: UInt16
    private let process = Process()

    init(upstreamPort: UInt16, certificates: TestCertificates) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ws-client-nginx-\(UUID().uuidString)").path
        for folder in ["logs", "tmp"] {
            try FileManager.default.createDirectory(atPath: directory + "/" + folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o777])
        }
        port = try freeLoopbackPort()
        tlsPort = try freeLoopbackPort()
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
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
        process.arguments = ["-c", directory + "/nginx.conf", "-p", directory, "-e", directory + "/logs/error.log"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 {
            if (try? runTool("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(port)/"])) != nil { return }
            usleep(50_000)
        }
        throw PythonPeer.Failed(description: "nginx did not start: \((try? String(contentsOfFile: directory + "/logs/error.log", encoding: .utf8)) ?? "")")
    }

    deinit {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A port the kernel just gave out and took back.
func freeLoopbackPort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw PythonPeer.Failed(description: "no free port") }
    return UInt16(bigEndian: address.sin_port)
}
