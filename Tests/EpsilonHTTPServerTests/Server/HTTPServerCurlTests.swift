@testable import EpsilonHTTPServer
import EpsilonTLS
import EpsilonTransport
import Foundation
import Synchronization
import Testing

/// Runs a program with a time limit (it is terminated past it); returns its exit status and
/// standard output, read as it comes (a full pipe would stall the program). Waits by sleeping.
func runProgram(_ path: String, _ arguments: [String], timeout: Duration = .seconds(20)) async throws -> (status: Int32, output: Data) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    let collected = Mutex(Data())
    pipe.fileHandleForReading.readabilityHandler = { handle in
        let data = handle.availableData
        collected.withLock { $0.append(data) }
    }
    try process.run()
    let deadline = ContinuousClock.now + timeout
    while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    pipe.fileHandleForReading.readabilityHandler = nil
    let rest = pipe.fileHandleForReading.readDataToEndOfFile()
    return (process.terminationStatus, collected.withLock { $0 } + rest)
}

/// Real clients: curl over HTTP/1.1, in cleartext and over TLS (a certificate made with the
/// openssl tool for the test), several requests on one connection, bodies checked byte for byte.
extension SocketSuites {
@Suite struct HTTPServerCurlTests {
    static let curl = "/usr/bin/curl"

    func withServer(tls: Bool, _ body: (String) async throws -> Void) async throws {
        var context: TLSContextBox?
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("epsilon-curl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        if tls {
            let key = directory.appendingPathComponent("key.pem").path
            let cert = directory.appendingPathComponent("cert.pem").path
            let made = try await runProgram("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                                           "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
                                                           "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
            #expect(made.status == 0)
            context = TLSContextBox(try HTTPServer.tlsContext(certificateFile: cert, privateKeyFile: key))
        }
        let group = try IOLoopGroup(loopCount: 1)
        let server = try await HTTPServer.start(on: group, address: .ipv4("127.0.0.1", port: 0),
                                                router: HTTPServerDemoRoutes.router(), tls: context?.context)
        let base = (tls ? "https" : "http") + "://127.0.0.1:\(server.localAddress.port ?? 0)"
        do {
            try await body(base)
        } catch {
            await server.shutdown(gracePeriod: .zero)
            await group.shutdown()
            throw error
        }
        await server.shutdown(gracePeriod: .seconds(1))
        await group.shutdown()
    }

    @Test(arguments: [false, true])
    func curlMakesSeveralRequestsOnOneConnection(tls: Bool) async throws {
        try await withServer(tls: tls) { base async throws in
            let result = try await runProgram(Self.curl, ["-sk", "--http1.1", "-w", " %{http_code} %{num_connects}\n",
                                                    base + "/hello", base + "/api/users/x%22y", base + "/hello"])
            #expect(result.status == 0)
            let lines = String(decoding: result.output, as: UTF8.self)
            #expect(lines == "Hello, World! 200 1\n{\"id\":\"x\\\"y\"} 200 0\nHello, World! 200 0\n")
        }
    }

    @Test(arguments: [false, true])
    func curlBodiesRoundTripByteForByte(tls: Bool) async throws {
        try await withServer(tls: tls) { base async throws in
            let directory = FileManager.default.temporaryDirectory
            let file = directory.appendingPathComponent("epsilon-body-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: file) }
            var body = [UInt8](repeating: 0, count: 1 << 20)
            var generator = SystemRandomNumberGenerator()
            for index in body.indices { body[index] = UInt8.random(in: 0...255, using: &generator) }
            try Data(body).write(to: file)
            let echoed = try await runProgram(Self.curl, ["-sk", "--http1.1", "--data-binary", "@" + file.path, base + "/echo"])
            #expect(echoed.status == 0 && Array(echoed.output) == body)
            let chunked = try await runProgram(Self.curl, ["-sk", "--http1.1", "-H", "Transfer-Encoding: chunked", "-X", "PUT",
                                                     "--data-binary", "@" + file.path, base + "/echo"])
            #expect(chunked.status == 0 && Array(chunked.output) == body)
            let empty = try await runProgram(Self.curl, ["-sk", "--http1.1", "--data-binary", "", base + "/echo"])
            #expect(empty.status == 0 && empty.output.isEmpty)
            let generated = try await runProgram(Self.curl, ["-sk", "--http1.1", base + "/bytes/1048576?chunked=1"])
            #expect(generated.status == 0 && Array(generated.output) == (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0) })
        }
    }
}
}

/// Carries a TLS context out of a throwing setup.
struct TLSContextBox {
    let context: EpsilonTLS.TLSContext
    init(_ context: EpsilonTLS.TLSContext) { self.context = context }
}
