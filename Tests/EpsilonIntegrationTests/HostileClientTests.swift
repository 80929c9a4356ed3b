#if canImport(Glibc)
import Glibc
#endif
import EpsilonHTTPServerPreview
import EpsilonTLS
import EpsilonTransport
import Foundation
import Synchronization
import Testing

/// Hostile clients against the preview HTTP/1.1 server (`HelloServer`, one loop) over
/// loopback. The test process (for the memory bound, a child process of it) hosts the
/// server; each client is a blocking socket on its own thread, bounded in time.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct HostileClientTests {
    /// A client pipelines up to 200 MB of requests and never reads an answer. The server's
    /// write queue fills with answers, reading pauses at the high watermark, the kernel's
    /// buffers fill, and the client's sends stall: the client stops there (that is the point).
    /// The server process's RSS must stay within 64 MB of what it was before.
    /// Runs in a child process (an exit test) so that no other suite's memory counts.
    @Test func pipeliningWithoutReadingLeavesMemoryBounded() async throws {
        let result = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
            let failures = await HostileClientTests.pipelineWithoutReadingAgainstHelloServer()
            for failure in failures { print("[hostile] FAILED: \(failure)") }
            exit(failures.isEmpty ? 0 : 1)
        }
        if let result { print(String(decoding: result.standardOutputContent, as: UTF8.self), terminator: "") }
    }

    /// The measurement itself; returns what went wrong (nothing when the bound held).
    static func pipelineWithoutReadingAgainstHelloServer() async -> [String] {
        do {
            let group = try IOLoopGroup(loopCount: 1)
            let server = try await HelloServer.start(on: group, address: try .ipv4("127.0.0.1", port: 0))
            guard let port = server.localAddress.port else { return ["the server has no port"] }
            await waitForSteadyResidentSize(within: .seconds(5))
            let startRSS = residentBytes()
            let outcome = Mutex<PipelineOutcome?>(nil)
            let started = ContinuousClock.now
            runOnThread {
                let result = pipelineWithoutReading(port: port, limit: 200 * 1024 * 1024, stallAfter: .seconds(2),
                                                    within: .seconds(60))
                outcome.withLock { $0 = result }
            }
            var peakRSS = startRSS
            while outcome.withLock({ $0 }) == nil {
                peakRSS = max(peakRSS, residentBytes())
                try? await Task.sleep(for: .milliseconds(20))
            }
            peakRSS = max(peakRSS, residentBytes())
            guard let result = outcome.withLock({ $0 }) else { return ["no outcome"] }
            let elapsed = ContinuousClock.now - started
            let mebibyte = Double(1 << 20)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print(String(format: "[hostile] pipelined %.1f MB without reading in %.1f s (%@); server RSS start %.1f MB, peak %.1f MB, growth %.1f MB (bound 64 MB)",
                         Double(result.sent) / mebibyte, seconds, result.reason, Double(startRSS) / mebibyte,
                         Double(peakRSS) / mebibyte, Double(peakRSS - startRSS) / mebibyte))
            var failures: [String] = []
            if let error = result.error { failures.append("client failed: \(error)") }
            // The server stopped reading long before 200 MB: the client's sends stalled.
            if result.reason != "sends stalled" { failures.append("the client was not stalled: \(result.reason)") }
            if peakRSS - startRSS >= 64 * 1024 * 1024 { failures.append("RSS grew by \(peakRSS - startRSS) bytes") }
            await server.shutdown(gracePeriod: .zero)
            await group.shutdown()
            return failures
        } catch {
            return ["\(error)"]
        }
    }

    enum HalfHandshake: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case clientHelloThenSilence = "ClientHello, then silence"
        case connectOnly = "TCP connect, nothing sent"
        var testDescription: String { rawValue }
    }

    /// A TLS client that starts a handshake and never finishes it is closed at the server's
    /// handshake deadline (1 s here): within 1–3 s of connecting.
    @Test(arguments: HalfHandshake.allCases)
    func halfFinishedTLSHandshakeIsClosedAtTheDeadline(_ kind: HalfHandshake) async throws {
        let identity = try SelfSignedIdentity.make()
        var tls = TLSOptions.server(try TLSContext(server: TLSServerConfiguration(
            identity: TLSIdentity(certificateFile: identity.certificate, privateKeyFile: identity.key),
            applicationProtocols: ["http/1.1"])))
        tls.handshakeTimeout = .seconds(1)
        var options = ListenerOptions()
        options.connection.tls = tls
        let group = try IOLoopGroup(loopCount: 1)
        let server = try await HelloServer.start(on: group, address: try .ipv4("127.0.0.1", port: 0), options: options)
        let port = try #require(server.localAddress.port)

        var hello: [UInt8] = []
        if kind == .clientHelloThenSilence {
            let engine = try TLSEngine(context: TLSContext(client: TLSClientConfiguration(verification: .none)),
                                       serverName: "localhost")
            var plaintext: [UInt8] = []
            _ = try engine.process(into: &plaintext)
            hello = engine.takeOutput()
            #expect(hello.first == 0x16)  // a handshake record
        }
        let toSend = hello
        let outcome = Mutex<(seconds: Double, how: String)?>(nil)
        runOnThread {
            let result = connectSendAndWaitForClose(port: port, bytes: toSend, giveUpAfter: 6)
            outcome.withLock { $0 = result }
        }
        let done = await waitUntil(seconds: 10) { outcome.withLock { $0 } != nil }
        #expect(done)
        let result = try #require(outcome.withLock { $0 })
        print(String(format: "[hostile] %@: closed by the server after %.2f s (%@; deadline 1 s)", kind.rawValue,
                     result.seconds, result.how))
        #expect(result.how == "end of stream" || result.how == "reset")
        #expect(result.seconds >= 0.9 && result.seconds <= 3.0)
        let open = await server.connectionCount()
        #expect(open == 0)
        await server.shutdown(gracePeriod: .zero)
        await group.shutdown()
    }
}

// MARK: Helpers

/// This process's resident set size, from `/proc/self/statm` (second field, in pages).
private func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Waits until the resident size changes by less than 1 MB over 300 ms, or `within` passes.
private func waitForSteadyResidentSize(within limit: Duration) async {
    let deadline = ContinuousClock.now + limit
    var last = residentBytes()
    while ContinuousClock.now < deadline {
        try? await Task.sleep(for: .milliseconds(300))
        let now = residentBytes()
        if abs(now - last) < 1 << 20 { return }
        last = now
    }
}

/// Runs `body` on a new thread (blocking socket work stays off Swift's cooperative pool).
private func runOnThread(_ body: @escaping @Sendable () -> Void) {
    let thread = Thread { body() }
    thread.start()
}

/// Polls `condition` every 10 ms for up to `seconds`.
private func waitUntil(seconds: Double, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// A blocking TCP socket connected to 127.0.0.1:`port`, or -1.
private func connectLoopback(port: UInt16) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return -1 }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard result == 0 else {
        close(fd)
        return -1
    }
    return fd
}

/// Sets `SO_SNDTIMEO` or `SO_RCVTIMEO`.
private func setTimeout(_ fd: Int32, _ option: Int32, seconds: Int) {
    var value = timeval(tv_sec: seconds, tv_usec: 0)
    _ = setsockopt(fd, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<timeval>.size))
}

private struct PipelineOutcome: Sendable {
    var sent = 0
    var reason = ""
    var error: String?
}

/// Sends pipelined `GET /` requests until `limit` bytes are sent, a send makes no progress for
/// `stallAfter`, or `within` passes; never reads.
private func pipelineWithoutReading(port: UInt16, limit: Int, stallAfter: Duration, within: Duration) -> PipelineOutcome {
    var outcome = PipelineOutcome()
    let fd = connectLoopback(port: port)
    guard fd >= 0 else {
        outcome.error = "connect: errno \(errno)"
        return outcome
    }
    defer { close(fd) }
    setTimeout(fd, SO_SNDTIMEO, seconds: Int(stallAfter.components.seconds))
    let request = Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
    var chunk: [UInt8] = []
    while chunk.count + request.count <= 64 * 1024 { chunk += request }
    let deadline = ContinuousClock.now + within
    var offset = 0
    while outcome.sent < limit {
        if ContinuousClock.now >= deadline {
            outcome.reason = "time limit"
            return outcome
        }
        let count = chunk.withUnsafeBytes { raw in
            send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
        }
        if count > 0 {
            outcome.sent += count
            offset = (offset + count) % chunk.count
            continue
        }
        let code = errno
        if code == EINTR { continue }
        if code == EAGAIN || code == EWOULDBLOCK {
            outcome.reason = "sends stalled"
            return outcome
        }
        outcome.error = "send: errno \(code)"
        return outcome
    }
    outcome.reason = "sent everything"
    return outcome
}

/// Connects, sends `bytes`, then reads (discarding) until the server closes; returns the
/// seconds from connect to the close and how it ended.
private func connectSendAndWaitForClose(port: UInt16, bytes: [UInt8], giveUpAfter seconds: Int) -> (seconds: Double, how: String) {
    let fd = connectLoopback(port: port)
    guard fd >= 0 else { return (0, "connect failed: errno \(errno)") }
    defer { close(fd) }
    let start = ContinuousClock.now
    if !bytes.isEmpty {
        let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { return (0, "send failed") }
    }
    setTimeout(fd, SO_RCVTIMEO, seconds: seconds)
    var buffer = [UInt8](repeating: 0, count: 16 * 1024)
    while true {
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        let elapsed = ContinuousClock.now - start
        let secondsElapsed = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if count > 0 { continue }
        if count == 0 { return (secondsElapsed, "end of stream") }
        let code = errno
        if code == EINTR { continue }
        if code == ECONNRESET { return (secondsElapsed, "reset") }
        return (secondsElapsed, code == EAGAIN ? "still open after \(seconds) s" : "recv: errno \(code)")
    }
}

/// A throwaway self-signed certificate for `localhost`, made by the `openssl` tool.
private struct SelfSignedIdentity: Sendable {
    let certificate: String
    let key: String

    static let shared = Result<SelfSignedIdentity, any Error> { try SelfSignedIdentity() }
    static func make() throws -> SelfSignedIdentity { try shared.get() }

    private init() throws {
        let directory = NSTemporaryDirectory() + "epsilon-hostile-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        certificate = directory + "/cert.pem"
        key = directory + "/key.pem"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                             "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=localhost",
                             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "openssl req failed"])
        }
    }
}
