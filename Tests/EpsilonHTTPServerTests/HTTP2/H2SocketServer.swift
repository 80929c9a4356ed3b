import EpsilonTLS
import EpsilonTransport
@testable import EpsilonHTTPServer
import Foundation

/// The HTTP/2 session stack on a real listener (127.0.0.1, port 0, one loop): protocol
/// selection and sessions exactly as the server installs them, with ``H2TestDispatcher``'s
/// routes. Optional TLS with a throwaway certificate (ALPN `h2`, `http/1.1`).
final class H2SocketServer: Sendable {
    let group: IOLoopGroup
    let listener: TCPServer
    let dispatcher: H2TestDispatcher
    let port: UInt16
    let isSecure: Bool

    static func start(tls: Bool = false, configure: (inout HTTPServerConfiguration) -> Void = { _ in }) async throws -> H2SocketServer {
        var configuration = HTTPServerConfiguration()
        configuration.allowsCleartextHTTP2 = true
        configure(&configuration)
        let group = try IOLoopGroup(loopCount: 1)
        let dispatcher = H2TestDispatcher()
        let loop = group.loops[0]
        let settings = configuration
        let context = try await loop.submit { LoopBound(HTTPServerLoopContext(configuration: settings, dispatcher: dispatcher), loop: loop) }
        var options = ListenerOptions()
        if tls {
            let pki = try H2TestCertificate.get()
            let context = try TLSContext(server: TLSServerConfiguration(
                identity: TLSIdentity(certificateFile: pki.certificate, privateKeyFile: pki.key),
                applicationProtocols: ["h2", "http/1.1"]))
            options.connection.tls = .server(context)
        }
        let highWatermark = options.connection.watermarks.high
        let listener = try await TCPServer.start(on: group, address: .ipv4("127.0.0.1", port: 0), options: options) {
            let context = context.value
            return HTTPServerConnectionHandler(writeHighWatermark: highWatermark) { io in
                HTTPServerSessions.makeInitial(io: io, context: context)
            }
        }
        guard let port = listener.localAddress.port else { throw H2PeerError.noPort }
        return H2SocketServer(group: group, listener: listener, dispatcher: dispatcher, port: port, isSecure: tls)
    }

    private init(group: IOLoopGroup, listener: TCPServer, dispatcher: H2TestDispatcher, port: UInt16, isSecure: Bool) {
        self.group = group
        self.listener = listener
        self.dispatcher = dispatcher
        self.port = port
        self.isSecure = isSecure
    }

    /// `http://127.0.0.1:PORT` or `https://...`, plus `path`.
    func url(_ path: String) -> String { "\(isSecure ? "https" : "http")://127.0.0.1:\(port)\(path)" }

    /// Graceful shutdown (GOAWAY to HTTP/2 peers), then the loops stop.
    @discardableResult
    func stop(gracePeriod: Duration = .seconds(5)) async -> Int {
        let forced = await listener.shutdown(gracePeriod: gracePeriod)
        await group.shutdown()
        return forced
    }

    /// Waits (bounded) until `condition` holds on the dispatcher's record.
    func wait(timeout: Duration = .seconds(10), until condition: (H2TestDispatcher.Record) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if dispatcher.record.withLock({ condition($0) }) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }
}

enum H2PeerError: Error {
    case noPort
    case certificate
}

/// A self-signed certificate for 127.0.0.1/localhost made once per test run with `openssl`.
final class H2TestCertificate: Sendable {
    let certificate: String
    let key: String
    private static let shared = Result { try H2TestCertificate() }
    static func get() throws -> H2TestCertificate { try shared.get() }

    private init() throws {
        let directory = NSTemporaryDirectory() + "epsilon-h2-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        certificate = directory + "/cert.pem"
        key = directory + "/key.pem"
        let result = H2Peer.Running("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                                                     "-nodes", "-keyout", key, "-out", certificate, "-days", "1",
                                                     "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                                    timeout: .seconds(30)).finishNow()
        guard result.status == 0 else { throw H2PeerError.certificate }
    }
}

/// Runs a real peer (curl, nghttp, h2load, python3) with a time limit; stdout goes to a file
/// (bodies can be large), stderr is kept.
enum H2Peer {
    struct Result {
        var status: Int32
        var stdout: [UInt8]
        var stderr: String
        var text: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// A started peer; ``finish()`` waits for it (bounded) without blocking a thread.
    final class Running {
        let process = Process()
        let out: String
        let err: String
        let outHandle: FileHandle?
        let errHandle: FileHandle?
        let deadline: ContinuousClock.Instant
        let startError: String?

        init(_ executable: String, _ arguments: [String], timeout: Duration) {
            let directory = NSTemporaryDirectory()
            out = directory + "h2peer-\(UUID().uuidString).out"
            err = directory + "h2peer-\(UUID().uuidString).err"
            _ = FileManager.default.createFile(atPath: out, contents: nil)
            _ = FileManager.default.createFile(atPath: err, contents: nil)
            outHandle = FileHandle(forWritingAtPath: out)
            errHandle = FileHandle(forWritingAtPath: err)
            deadline = ContinuousClock.now + timeout
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = outHandle
            process.standardError = errHandle
            var failure: String?
            do {
                try process.run()
            } catch {
                failure = "\(executable) did not start: \(error)"
            }
            startError = failure
        }

        /// Waits for the exit (terminating it at the deadline) and collects the output.
        func finish() async -> Result {
            if startError == nil {
                while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
                if process.isRunning {
                    process.terminate()
                    process.waitUntilExit()
                }
            }
            return collect()
        }

        /// Blocking variant for quick tools (openssl).
        func finishNow() -> Result {
            if startError == nil { process.waitUntilExit() }
            return collect()
        }

        private func collect() -> Result {
            try? outHandle?.close()
            try? errHandle?.close()
            defer {
                try? FileManager.default.removeItem(atPath: out)
                try? FileManager.default.removeItem(atPath: err)
            }
            let stdout = (try? Data(contentsOf: URL(fileURLWithPath: out))).map { [UInt8]($0) } ?? []
            let stderr = startError ?? (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
            return Result(status: startError == nil ? process.terminationStatus : -1, stdout: stdout, stderr: stderr)
        }
    }

    /// Runs a peer to its end (at most `timeout`).
    static func run(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(60)) async -> Result {
        await Running(executable, arguments, timeout: timeout).finish()
    }

    /// Writes `bytes` to a temporary file and returns its path (removed by the caller).
    static func file(_ bytes: [UInt8]) -> String {
        let path = NSTemporaryDirectory() + "h2body-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }
}
