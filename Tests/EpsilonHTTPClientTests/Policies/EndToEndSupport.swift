// What the end-to-end policy suites share: the scripted server (Tests/Client/scripted_server.py),
// a client that is always shut down, and the server's JSON answers.

import EpsilonHTTPClient
import Foundation

/// The scripted server shared by the end-to-end policy suites (each test uses its own keys).
let scriptedServer = Result { try LoopbackPeer("python3", [clientTestsDirectory + "/scripted_server.py", "--port", "0"]) }

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
