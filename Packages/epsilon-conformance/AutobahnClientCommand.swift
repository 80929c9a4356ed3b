import ArgumentParser
import EpsilonWebSocket
import EpsilonWebSocketClient
import EpsilonWebSocketDeflate
import Foundation

/// `epsilon-conformance autobahn-client ws://127.0.0.1:PORT`: our WebSocket client against an
/// Autobahn fuzzing server (`kosoku -m fuzzingserver`, or the Autobahn TestSuite's).
///
/// It asks `/getCaseCount`, runs every case (`/runCase?case=N&agent=AGENT`) echoing each
/// message with `WebSocketClient`, then `/updateReports`, after which the server writes its
/// reports; the verdicts are read from the report's `index.json` in `--reports` (kosoku treats
/// `/getCaseStatus` as one more case run, so it is not asked). A case passes when its
/// `behavior` is OK, NON-STRICT or INFORMATIONAL and its `behaviorClose` OK or INFORMATIONAL,
/// as in the Autobahn summary.
struct AutobahnClientSuite: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "autobahn-client",
        abstract: "Runs every case of an Autobahn fuzzing server with Epsilon's WebSocket client echoing."
    )

    @Argument(help: "The fuzzing server, ws://host:port.")
    var server: String

    @Option(help: "The agent name reported to the server.")
    var agent = "epsilon"

    @Option(help: "The folder the fuzzing server writes its reports to (its -o; kosoku's default is reports/servers in its working folder).")
    var reports = "reports/servers"

    @Option(help: "Run only the first N cases (default: all).")
    var limit: Int?

    @Option(help: "The number of case 13.1.1 on the server (default: the 126th from the end, as in the whole suite or a server with section 13 only; 1 − 18·k for a server whose first case is 13.(k+1).1).")
    var section13Start: Int?

    @Option(help: "Give up on a case after this many seconds.")
    var caseTimeout: Double = 60

    func run() async throws {
        let base = server.hasSuffix("/") ? String(server.dropLast()) : server
        guard let countText = try await fetch(base + "/getCaseCount"), let count = Int(countText) else {
            throw ValidationError("\(base)/getCaseCount gave no count")
        }
        let total = min(count, limit ?? count)
        say("autobahn-client: \(count) cases on the server, running \(total)")
        let started = Date(timeIntervalSinceNow: -1)
        for number in 1...max(1, total) where total > 0 {
            await runCase(base + "/runCase?case=\(number)&agent=\(agent)", offer: offer(forCase: number, count: count))
            if number % 50 == 0 { say("autobahn-client: \(number)/\(total) cases run (\(Int(Date().timeIntervalSince(started))) s)") }
        }
        _ = try? await fetch(base + "/updateReports?agent=\(agent)")
        var passed = 0
        var failed: [String] = []
        var counts: [String: Int] = [:]
        let index = URL(fileURLWithPath: reports).appendingPathComponent("index.json")
        var data: Data?
        for _ in 0..<300 {
            // The server writes its reports after /updateReports; wait for this run's.
            let modified = (try? FileManager.default.attributesOfItem(atPath: index.path))?[.modificationDate] as? Date
            if let modified, modified >= started, let found = try? Data(contentsOf: index) { data = found; break }
            try await Task.sleep(for: .milliseconds(100))
        }
        guard let data, let root = try JSONSerialization.jsonObject(with: data) as? [String: [String: [String: Any]]],
              let cases = root[agent] else {
            throw ValidationError("no report for agent \(agent) in \(index.path)")
        }
        for (id, result) in cases.sorted(by: { $0.key.compare($1.key, options: .numeric) == .orderedAscending }) {
            let behavior = result["behavior"] as? String ?? "?"
            let close = result["behaviorClose"] as? String ?? "?"
            counts[behavior, default: 0] += 1
            if Self.passing.contains(behavior) && Self.passingClose.contains(close) {
                passed += 1
            } else {
                failed.append("\(id): \(behavior)/\(close)")
            }
        }
        if cases.count < total { failed.append("\(total - cases.count) cases missing from the report") }
        say("autobahn-client: verdicts read from \(index.path) (behavior and behaviorClose)")
        for line in failed { say("FAILED \(line)") }
        say("autobahn-client: " + counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        say("autobahn-client: \(passed) passed, \(failed.count) failed")
        if !failed.isEmpty || passed == 0 { throw ExitCode.failure }
    }

    /// Prints a line at once (standard output may be a file, where `print` buffers).
    func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static let passing: Set<String> = ["OK", "NON-STRICT", "INFORMATIONAL"]
    static let passingClose: Set<String> = ["OK", "INFORMATIONAL"]

    /// The first message of a connection to `url` (the server's answer to a query), then close.
    func fetch(_ url: String) async throws -> String? {
        let connection = try await WebSocketClient.open(url)
        var answer: String?
        do {
            while let message = try await connection.receive() {
                if answer == nil {
                    switch message {
                    case .text(let text): answer = text
                    case .binary(let bytes): answer = String(decoding: bytes, as: UTF8.self)
                    }
                }
            }
        } catch {
            await connection.abort()
        }
        return answer
    }

    /// The permessage-deflate offer for case `number`. Section 13 judges the client's offer
    /// itself: 13.2, 13.5 and 13.6 ("requestNoContextTakeover") are accepted by kosoku only
    /// when the offer holds `client_no_context_takeover` (otherwise it declines compression and
    /// the case is UNIMPLEMENTED); the other subsections take the default offer. The
    /// fuzzing server does not say which case a number is, so section 13 is found by position:
    /// its 126 cases (7 × 18) come last.
    func offer(forCase number: Int, count: Int) -> WebSocketDeflateClientOffer {
        let start = section13Start ?? (count - 125)
        let offset = number - start
        guard offset >= 0, offset < 126 else { return WebSocketDeflateClientOffer() }
        switch offset / 18 + 1 {
        case 2, 5, 6: return WebSocketDeflateClientOffer(clientNoContextTakeover: true)
        default: return WebSocketDeflateClientOffer()
        }
    }

    /// One case: echo every message until the server closes. Failures are the case's business
    /// (the server judges them), so they end the case quietly.
    func runCase(_ url: String, offer: WebSocketDeflateClientOffer) async {
        var configuration = WebSocketClientConfiguration()
        configuration.compression = offer
        configuration.maxFrameSize = 64 << 20
        configuration.maxMessageSize = 64 << 20
        let timeout = caseTimeout
        do {
            let connection = try await WebSocketClient.open(url, configuration: configuration)
            let watchdog = Task {
                try await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
                say("autobahn-client: \(url) took over \(timeout) s, dropped")
                await connection.abort()
            }
            defer { watchdog.cancel() }
            do {
                while let message = try await connection.receive() {
                    // A refused send means the close handshake started: keep reading to its end.
                    try? await connection.send(message)
                }
            } catch {
                return
            }
        } catch {
            say("autobahn-client: \(url): \(error)")
        }
    }
}
