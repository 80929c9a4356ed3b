import EpsilonHTTPClient
import Foundation
import Testing

/// The hostile responses of crafted_server.py's BAD table: each fails with a typed error,
/// nothing crashes, and the client (and its pool) keeps working.
@Suite("Bad response corpus against Python (crafted_server.py)", .timeLimit(.minutes(3)))
struct BadResponseCorpusTests {
    static let names = [
        "bare-cr", "bare-lf", "body-truncated", "chunk-missing-crlf", "chunk-negative", "chunk-size-bad",
        "chunk-size-overflow", "chunk-truncated", "cl-and-te", "cl-hex", "cl-huge", "cl-list", "cl-negative", "cl-plus",
        "ctl-in-name", "deflate-trailing", "empty-close", "garbage-close", "gzip-bomb", "gzip-corrupt", "gzip-truncated",
        "huge-head", "location-crlf", "many-fields", "not-http", "nul-in-value", "obs-fold", "space-before-colon",
        "status-bad", "status-short", "te-not-chunked-last", "te-unknown", "two-cl", "unexpected-101", "version-bad",
    ]

    /// One client for the whole corpus: after every bad response it must still serve good ones.
    static let client: HTTPClient = {
        var configuration = HTTPClientConfiguration()
        configuration.maxDecodedBodyBytes = 8 << 20
        configuration.timeouts.read = .seconds(10)
        configuration.timeouts.responseHead = .seconds(10)
        return HTTPClient(configuration: configuration)
    }()

    @Test func corpusMatchesTheServersTable() throws {
        let process = Process()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", clientTestsDirectory + "/crafted_server.py", "--names"]
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(text.split(separator: "\n").map(String.init) == Self.names)
        #expect(Self.names.count >= 30)
    }

    @Test(arguments: names)
    func failsWithATypedErrorAndTheClientStaysUsable(name: String) async throws {
        let server = try await craftedServer.get()
        let outcome: Result<[UInt8], HTTPClientError>
        do throws(HTTPClientError) {
            let response = try await Self.client.get(server.url("/bad/\(name)"))
            outcome = .success(try await response.body.collect(upTo: 16 << 20))
        } catch {
            outcome = .failure(error)
        }
        switch outcome {
        case .success(let body):
            Issue.record("\(name) was accepted with \(body.count) body bytes")
        case .failure(let error):
            #expect(Self.expected(error, for: name), "\(name): \(error)")
        }
        let good = try await Self.client.get(server.url("/bytes/100")).body.collect(upTo: 100)
        #expect(good == patternBytes(100))
    }

    /// The error family each case must give.
    static func expected(_ error: HTTPClientError, for name: String) -> Bool {
        switch (name, error) {
        case ("gzip-bomb", .decodingFailed), ("gzip-corrupt", .decodingFailed), ("gzip-truncated", .decodingFailed),
             ("deflate-trailing", .decodingFailed):
            return true
        case ("empty-close", .closedBeforeResponse), ("unexpected-101", .invalidResponseHead):
            return true
        case ("body-truncated", .invalidResponse), ("chunk-truncated", .invalidResponse),
             ("body-truncated", .connectionLost), ("chunk-truncated", .connectionLost):
            return true
        case (_, .invalidResponse):
            return !name.hasPrefix("gzip") && name != "empty-close"
        default:
            return false
        }
    }
}
