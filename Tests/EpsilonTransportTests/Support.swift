import EpsilonTransport
import Foundation
import Synchronization
import Testing

/// Every suite in this target runs serially under this parent, because the descriptor-count
/// test compares `/proc/self/fd` before and after and must not see other tests' sockets.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct Transport {}

/// The socket families the shared echo suite runs over.
enum Family: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case ipv4, ipv6, unix

    var testDescription: String { rawValue }

    func listenAddress() throws -> SocketEndpoint {
        switch self {
        case .ipv4: return try SocketEndpoint.ipv4("127.0.0.1", port: 0)
        case .ipv6: return try SocketEndpoint.ipv6("::1", port: 0)
        case .unix:
            return try SocketEndpoint.unix(path: "/tmp/epsilon-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock")
        }
    }
}

/// Every Linux backend that runs here; the shared suites are parameterized over it. A Linux
/// backend the kernel refuses (io_uring under a seccomp policy or `kernel.io_uring_disabled`) is
/// left out, loudly: the reason is printed once.
let linuxBackends: [PollerBackend] = PollerBackend.allCases.filter { backend in
    guard backend != .kqueue && backend != .iocp else { return false }
    if let problem = backend.availabilityProblem {
        print("[transport tests] backend \(backend) skipped: \(problem)")
        return false
    }
    return true
}

/// Thread-safe counters and flags written by loop-side handlers and read by tests.
final class Probe: Sendable {
    struct Fields {
        var active = 0
        var closed = 0
        var bytesRead = 0
        var writabilityFlips = 0
        var sawEOF = 0
        var errors: [TransportError] = []
        var loops: [String: Int] = [:]
        var maxActive = 0
    }

    let fields = Mutex(Fields())

    func update(_ body: (inout Fields) -> Void) { fields.withLock { body(&$0) } }
    var snapshot: Fields { fields.withLock { $0 } }
}

/// An echo handler with back-pressure: it stops reading while its own write queue is above
/// the high watermark and resumes when it drains.
final class EchoHandler: ConnectionHandler {
    let probe: Probe

    init(probe: Probe) { self.probe = probe }

    func connectionDidBecomeActive(_ connection: Connection) {
        let name = connection.loop.name
        probe.update {
            $0.active += 1
            $0.maxActive = max($0.maxActive, $0.active)
            $0.loops[name, default: 0] += 1
        }
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        let count = bytes.count
        probe.update { $0.bytesRead += count }
        connection.write(bytes)
        if !connection.isWritable { connection.pauseReading() }
    }

    func connectionWritabilityDidChange(_ connection: Connection) {
        probe.update { $0.writabilityFlips += 1 }
        if connection.isWritable { connection.resumeReading() }
    }

    func connectionDidReadEOF(_ connection: Connection) {
        probe.update { $0.sawEOF += 1 }
        connection.closeAfterFlush()
    }

    func connectionDidClose(_ connection: Connection, error: TransportError?) {
        probe.update {
            $0.active -= 1
            $0.closed += 1
            if let error { $0.errors.append(error) }
        }
    }
}

/// Polls `condition` every 5 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(10), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return await condition()
}

/// Starts an echo server on a fresh single-loop group, runs `body`, then shuts everything down.
func withEchoServer(
    backend: PollerBackend, family: Family, loops: Int = 1,
    options: ListenerOptions = ListenerOptions(),
    _ body: (IOLoopGroup, TCPServer, Probe) async throws -> Void
) async throws {
    let group = try IOLoopGroup(loopCount: loops, backend: backend)
    let probe = Probe()
    do {
        let server = try await TCPServer.start(on: group, address: try family.listenAddress(), options: options) {
            EchoHandler(probe: probe)
        }
        do {
            try await body(group, server, probe)
        } catch {
            await server.shutdown(gracePeriod: .zero)
            throw error
        }
        await server.shutdown(gracePeriod: .seconds(1))
    } catch {
        await group.shutdown()
        throw error
    }
    await group.shutdown()
}

/// The byte at `index` of the test pattern (not periodic at any power of two).
@inline(__always)
func patternByte(_ index: Int) -> UInt8 { UInt8(truncatingIfNeeded: (index &* 7) &+ (index >> 11)) }

/// Counts this process's open descriptors.
func openDescriptorCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
}

/// 16 MiB of the test pattern, built once.
let sixteenMiB: [UInt8] = {
    var bytes = [UInt8](repeating: 0, count: 16 * 1024 * 1024)
    bytes.withUnsafeMutableBufferPointer { buffer in
        for index in 0..<buffer.count { buffer[index] = patternByte(index) }
    }
    return bytes
}()
