import EpsilonTestPeers
import Foundation

/// A server process on loopback started for a test: launched with its arguments, it must print a
/// line containing `listening on HOST:PORT` within 20 seconds (awaited without blocking a
/// thread); killed when the value goes away. A peer that does not come up throws its stderr.
final class LoopbackPeer: Sendable {
    let process: TestPeerProcess
    let port: UInt16

    /// Starts `executable arguments…` and waits for its `listening on` line.
    init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws {
        process = try TestPeerProcess(executable, arguments, environment: environment, readsOutput: true)
        let address = try await process.waitForOutputLine(containing: "listening on ")
        guard let text = address.split(separator: ":").last, let port = UInt16(text) else {
            throw process.failure("reported no port: \(address)")
        }
        self.port = port
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }
}

/// The `Tests/Client` folder (scripts and configurations of the peers).
let clientTestsDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Client").path

/// The crafted-response server (Tests/Client/crafted_server.py), shared by the suites that use it.
/// It exits with the test process (it watches its stdin), since a shared peer is never released.
let craftedServer = SharedTestPeer {
    try await LoopbackPeer("python3", [clientTestsDirectory + "/crafted_server.py", "--port", "0", "--exit-with-stdin"])
}
