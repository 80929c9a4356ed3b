import EpsilonHTTPClient
import EpsilonTestPeers
import Foundation
import Testing

/// HTTP/2 protocol violations of h2_scripted_server.py's BAD table, the HTTP/2 part of the bad
/// response corpus: each fails with a typed error, nothing crashes, and the client (and its
/// pool) keeps working. Serialized: the cases share one prior-knowledge connection, and a case
/// that breaks the whole connection (bad HPACK, a bad SETTINGS ACK) would fail another case's
/// follow-up request running on it at the same moment.
@Suite("HTTP/2 bad response corpus against Python (h2_scripted_server.py)", .serialized, .timeLimit(.minutes(3)))
struct HTTP2BadResponseCorpusTests {
    static let names = [
        "bad-hpack", "connection-field", "content-length-mismatch", "continuation-without-headers",
        "data-before-headers", "data-beyond-window", "headers-on-stream-0", "missing-status", "oversized-frame",
        "pseudo-after-regular", "push-promise-disabled", "settings-ack-payload", "uppercase-field", "window-overflow",
    ]

    static let server = SharedTestPeer { try await startScriptedHTTP2Server() }

    /// One client for the whole corpus, with the smallest stream window (so a server that
    /// ignores it is caught at once).
    static let client = priorKnowledgeClient { configuration in
        configuration.receiveBufferLimit = 65_535
        configuration.retryPolicy.maxAttempts = 1
    }

    @Test func corpusMatchesTheServersTable() throws {
        let process = Process()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", clientTestsDirectory + "/h2_scripted_server.py", "--names"]
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(text.split(separator: "\n").map(String.init) == Self.names)
    }

    @Test(arguments: names)
    func failsWithATypedErrorAndTheClientStaysUsable(name: String) async throws {
        let server = try await Self.server.get()
        let outcome: Result<[UInt8], HTTPClientError>
        do throws(HTTPClientError) {
            let response = try await Self.client.get(server.url("/bad/\(name)"))
            // Leave the body unread a moment: a server that ignores flow control overruns it.
            try? await Task.sleep(for: .milliseconds(300))
            outcome = .success(try await response.body.collect(upTo: 16 << 20))
        } catch {
            outcome = .failure(error)
        }
        switch outcome {
        case .success(let body):
            Issue.record("\(name) was accepted with \(body.count) body bytes")
        case .failure(let error):
            #expect(Self.isHTTP2Failure(error), "\(name): \(error)")
        }
        let good = try await Self.client.get(server.url("/bytes/100")).body.collect(upTo: 100)
        #expect(good == patternBytes(100))
    }

    /// The error families an HTTP/2 violation may give: the connection's protocol error, the
    /// stream's reset, or a head swift-http-types cannot carry.
    static func isHTTP2Failure(_ error: HTTPClientError) -> Bool {
        switch error {
        case .http2ProtocolError, .http2StreamReset, .invalidResponseHead: return true
        default: return false
        }
    }
}
