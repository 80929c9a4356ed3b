// What the end-to-end policy suites share: the scripted server (Tests/Client/scripted_server.py),
// a client that is always shut down, and the server's JSON answers.

import EpsilonHTTPClient
import EpsilonTestPeers
import Foundation

/// The scripted server shared by the end-to-end policy suites (each test uses its own keys).
private let sharedPeer = SharedTestPeer { try await LoopbackPeer("python3", [clientTestsDirectory + "/scripted_server.py", "--port", "0"]) }

/// The shared scripted server, started the first time (its start-up is awaited without blocking
/// a cooperative thread, so retry delays measured meanwhile are not stalled).
func sharedScriptedServer() async throws -> LoopbackPeer {
    try await sharedPeer.get()
}

/// A scripted server of its own (another origin).
func startScriptedServer() async throws -> LoopbackPeer {
    try await LoopbackPeer("python3", [clientTestsDirectory + "/scripted_server.py", "--port", "0"])
}

/// Measures how late the cooperative pool wakes sleeping tasks while a timing test runs: other
/// suites of the same process may block its threads, delaying every wake-up, retries included.
final class SchedulerLatenessProbe: Sendable {
    private let task: Task<Double, Never>

    /// Starts sleeping 10 ms at a time and summing how much later than asked each wake-up came.
    init() {
        task = Task {
            var total = 0.0
            while !Task.isCancelled {
                let start = ContinuousClock.now
                try? await Task.sleep(for: .milliseconds(10))
                let late = (ContinuousClock.now - start) - .milliseconds(10)
                total += max(0, Double(late.components.seconds) + Double(late.components.attoseconds) / 1e18)
            }
            return total
        }
    }

    /// Stops the probe: the seconds of lateness seen in all.
    func stop() async -> Double {
        task.cancel()
        return await task.value
    }
}

/// Runs `body` with a client made from `configuration`, shutting it down afterwards.
func withClient(_ configuration: HTTPClientConfiguration, _ body: (HTTPClient) async throws -> Void) async throws {
    let client = HTTPClient(configuration: configuration)
    do {
        try await body(client)
        await client.shutdown()
    } catch {
        await client.shutdown()
        throw error
    }
}

/// A key no other test uses, for the server's per-key counters.
func uniqueKey(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8))" }

/// `text` percent-encoded for a query parameter.
func queryEncoded(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
}

/// What /echo-headers answers: the request as the server saw it.
struct ScriptedEcho: Decodable {
    var method: String
    var path: String
    var headers: [[String]]
    var body: String

    /// The values of the fields named `name` (any case).
    func values(_ name: String) -> [String] {
        headers.filter { $0.first?.lowercased() == name.lowercased() }.compactMap { $0.last }
    }

    init(_ response: HTTPClientResponse) async throws {
        self = try JSONDecoder().decode(ScriptedEcho.self, from: Data(try await response.body.collect(upTo: 1 << 20)))
    }
}

/// What /log/KEY answers: monotonic arrival times in seconds.
struct ScriptedLog: Decodable {
    var arrivals: [Double]
    var count: Int

    /// The time between consecutive arrivals.
    var gaps: [Double] { zip(arrivals.dropFirst(), arrivals).map { $0 - $1 } }

    init(_ key: String, from server: LoopbackPeer, using client: HTTPClient) async throws {
        let response = try await client.get(server.url("/log/\(key)"))
        self = try JSONDecoder().decode(ScriptedLog.self, from: Data(try await response.body.collect(upTo: 1 << 20)))
    }
}
