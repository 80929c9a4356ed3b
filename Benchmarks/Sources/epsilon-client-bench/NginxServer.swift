// The HTTP/1.1 rows' server: nginx on a free loopback port, one worker process.
//
// /hello is answered from memory (`return 200`), not from a file: served as a file, every request
// cost nginx an open, fstat, sendfile and close, and nginx's one worker, not the client, was the
// bottleneck for both clients (perf, 200k requests: nginx 15–17k samples against Epsilon's 29k),
// so the small-GET row measured nginx's file path. /big stays a (sparse) file, for the download row.
//
// nginx runs without a master process, under a shell that kills it when this program's end closes
// the shell's standard input: no nginx outlives the benchmark, even one that crashed.
import Foundation

struct NginxServer {
    let process: GuardedServer
    /// `http://127.0.0.1:PORT`.
    let base: String

    static func start(downloadBytes: Int) throws -> NginxServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("epsilon-client-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory + "/www", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: directory + "/www/big", contents: nil)
        let big = FileHandle(forWritingAtPath: directory + "/www/big")!
        try big.truncate(atOffset: UInt64(downloadBytes))   // sparse: nginx reads zeros from the page cache
        try big.close()
        let port = freePort()
        let configuration = """
            master_process off;
            worker_processes 1;
            daemon off;
            pid \(directory)/nginx.pid;
            error_log \(directory)/error.log;
            events { worker_connections 4096; }
            http {
                access_log off;
                keepalive_requests 100000000;
                keepalive_timeout 120s;
                sendfile on;
                server {
                    listen 127.0.0.1:\(port);
                    root \(directory)/www;
                    location / { }
                    location = /hello { default_type text/plain; return 200 "Hello, World!"; }
                }
            }
            """
        try configuration.write(toFile: directory + "/nginx.conf", atomically: true, encoding: .utf8)
        let base = "http://127.0.0.1:\(port)"
        let process = try GuardedServer.start(command: "/usr/sbin/nginx -c \"$1/nginx.conf\" -p \"$1\" -e \"$1/error.log\"",
                                              directory: directory, probeURL: base + "/hello")
        return NginxServer(process: process, base: base)
    }

    func stop() { process.stop() }
}

/// A loopback TCP port free at the time of the call.
func freePort() -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return UInt16(bigEndian: address.sin_port)
}
